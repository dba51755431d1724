// Presses the reflection "Lagre", the survey "Send svar" and the action plan's "Lagre tiltaksplanen" many times in a
// row, then once more with unchanged content, then after a change; reports what the page showed.
// Usage: node drive-resend.js '{"launchUrl": "...", "course": "/path/course.json", "presses": 20}'
"use strict";
const { launch, playerFrame } = require("./lib");

async function settle(frame) {
  // Everything queued is delivered (the outbox is empty) before the next step.
  await frame.waitForFunction(() => window.SMEB.debug.pending() === 0, null, { timeout: 30000 });
}

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const { context, close, errors } = await launch({});
  const out = { blocks: {} };
  try {
    const page = await context.newPage();
    await page.goto(opts.launchUrl);
    const frame = await playerFrame(page);
    const steps = [
      { block: "r1", action: "save", fill: async (sec, n) => sec.locator("textarea").fill("PRIVAT-REFLEKSJON " + n) },
      { block: "s-fritekst", action: "send", fill: async (sec, n) => sec.locator("textarea").fill("Mer øving " + n) },
      { block: "s-scale", action: "send", fill: async (sec, n) => sec.locator("input").nth(n === 1 ? 6 : 8).check() },
      { block: "plan", action: "save-plan", fill: async (sec, n) => sec.locator("fieldset.plan-row input[type=text]").nth(0).fill("Tiltak " + n) },
    ];
    for (const step of steps) {
      const sec = frame.locator(`section[data-block="${step.block}"]`);
      const seen = {};
      await step.fill(sec, 1);
      const btn = sec.locator(`[data-action="${step.action}"]`);
      await btn.focus();
      // Many presses in one go, as from an impatient learner or a stuck key: the first sends, the rest find it busy.
      seen.busyAfterFirstPress = await btn.evaluate((el, presses) => {
        el.click();
        const busy = el.getAttribute("aria-disabled") === "true" && el.closest("section").getAttribute("aria-busy") === "true";
        for (let i = 1; i < presses; i++) el.click();
        return busy;
      }, opts.presses || 20);
      await settle(frame);
      await frame.waitForFunction((id) => {
        const b = document.querySelector(`section[data-block="${id}"] [data-action]:not([data-action="add-row"])`);
        return b && b.getAttribute("aria-disabled") !== "true";
      }, step.block, { timeout: 30000 });
      seen.enabledAfter = await btn.evaluate((el) => el.getAttribute("aria-disabled") !== "true" && !el.disabled);
      seen.focusKept = await btn.evaluate((el) => document.activeElement === el);
      // The same content again: nothing is sent, and the status says so.
      await btn.click();
      await settle(frame);
      seen.unchangedStatus = await sec.locator(".feedback").textContent();
      // Changed content: sent again.
      await step.fill(sec, 2);
      await btn.click();
      await settle(frame);
      seen.afterChange = await sec.locator(".feedback").textContent();
      out.blocks[step.block] = seen;
    }
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
