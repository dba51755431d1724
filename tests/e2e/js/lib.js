// Shared pieces of the player browser drivers: launch Debian's chromium through playwright-core and
// work through a rendered course the way a learner would (clicks, typing), block by block.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

async function launch(opts) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "smeb-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium || "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    viewport: opts.viewport || { width: 360, height: 740 },
    locale: opts.locale || "nb-NO",
  });
  const errors = [];
  context.on("weberror", (e) => errors.push(String(e.error())));
  // Rejected requests and failed SCORM calls are logged with console.error/warn by the player: fail on them.
  // (Chromium's own "Failed to load resource" lines are expected: 404 for a first state document, offline tests.)
  context.on("console", (m) => {
    if ((m.type() === "error" || m.type() === "warning") && !m.text().startsWith("Failed to load resource")) errors.push(m.type() + ": " + m.text());
  });
  const close = async () => {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, close, errors };
}

/** The player's frame: the page itself, or the iframe named "course" inside a test LMS host. */
async function playerFrame(page) {
  // A deadline, not a number of tries: each try's evaluate itself slows down when CI loads both cores.
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline) {
    const frame = page.frame({ name: "course" }) || page.mainFrame();
    if (frame) {
      const ready = await frame.evaluate(() => !!(window.SMEB && (window.SMEB.ready || window.SMEB.error))).catch(() => false);
      if (ready) {
        const error = await frame.evaluate(() => window.SMEB.error || null);
        if (error) throw new Error("player failed to start: " + error);
        return frame;
      }
    }
    await page.waitForTimeout(100);
  }
  throw new Error("player did not become ready");
}

async function lessonIndex(frame) {
  return frame.evaluate(() => window.SMEB.debug.lesson());
}

/** Carry out one block as a learner. plan.wrong lists quiz ids to answer wrongly. */
async function doBlock(frame, block, plan) {
  const sec = frame.locator(`section[data-block="${block.id}"]`);
  if (block.type === "video") {
    const btn = sec.locator("[data-action=watched]");
    if (await btn.count()) await btn.click();
  } else if (block.type === "case") {
    for (let guard = 0; guard < 50; guard++) {
      if (await sec.locator(".case-end").count()) break;
      const choices = sec.locator("button.choice");
      const ids = await choices.evaluateAll((els) => els.map((e) => e.getAttribute("data-choice")));
      const step = block.steps.find((s) => s.choices.map((c) => c.id).join() === ids.join());
      const good = step ? step.choices.findIndex((c) => c.quality === "good") : 0;
      await choices.nth(Math.max(0, good)).click();
    }
  } else if (block.type === "quiz") {
    if (await sec.locator("[data-action=answer]").isDisabled()) return;
    const wrong = (plan.wrong || []).includes(block.id);
    const pick = [];
    block.choices.forEach((c, i) => { if (!wrong && c.correct) pick.push(i); });
    if (wrong) pick.push(block.choices.findIndex((c) => !c.correct));
    for (const i of pick) await sec.locator("input").nth(i).check();
    await sec.locator("[data-action=answer]").click();
  } else if (block.type === "survey") {
    if ((await sec.getAttribute("data-done")) === "1") return;
    if (block.options) {
      for (let i = 0; i < Math.min(3, block.options.length); i++) await sec.locator("button.choice").nth(i).click();
    } else if (block.kind === "free-text") {
      await sec.locator("textarea").fill("{Mer} om sikring av tavla.\nOg mer øving.");
    } else {
      await sec.locator("input").nth(block.kind === "scale" ? 6 : 3).check();
    }
    await sec.locator("[data-action=send]").click();
  } else if (block.type === "reflection") {
    await sec.locator("textarea").fill(plan.reflection || "PRIVAT-REFLEKSJON: forrige uke på byggeplassen.");
    await sec.locator("[data-action=save]").click();
  } else if (block.type === "action-plan") {
    if ((await sec.getAttribute("data-done")) === "1") return;
    const rows = block.minRows || 1;
    for (let r = 0; r < rows; r++) {
      if (r > 0 && (await sec.locator("fieldset.plan-row").count()) <= r) await sec.locator("[data-action=add-row]").click();
      const row = sec.locator("fieldset.plan-row").nth(r);
      await row.locator("input[type=text]").nth(0).fill(`Tiltak ${r + 1}: sjekkliste før tavla lukkes`);
      await row.locator("input[type=text]").nth(1).fill("Neste uke");
      await row.locator("input[type=text]").nth(2).fill("Formann");
    }
    await sec.locator("[data-action=save-plan]").click();
  }
}

function lessonsOf(course) {
  const out = [];
  course.modules.forEach((m) => m.lessons.forEach((l) => out.push(l)));
  return out;
}

/** Walk a review (read-only) launch from the first lesson to the summary without answering anything; report
 * what could still be changed and which earlier answers are on screen. */
async function reviewWalk(frame, lessons) {
  const seen = { enabledControls: [], lockedQuizzes: [], checkedQuizzes: [], lessons: 0 };
  await frame.locator("#toc-toggle").click();
  await frame.locator("#toc .toc-lesson").first().click();
  for (let guard = 0; guard < 500; guard++) {
    const li = await lessonIndex(frame);
    if (li >= lessons.length) break;
    seen.lessons++;
    const look = await frame.evaluate(() => ({
      enabled: Array.from(document.querySelectorAll("section.block input, section.block textarea, section.block button"))
        .filter((el) => !el.disabled).map((el) => el.closest("section").dataset.block + ":" + el.tagName.toLowerCase()),
      locked: Array.from(document.querySelectorAll("section.block-quiz")).filter((q) => q.querySelector("[data-action=answer]").disabled).map((q) => q.dataset.block),
      checked: Array.from(document.querySelectorAll("section.block-quiz")).filter((q) => q.querySelector("input:checked")).map((q) => q.dataset.block),
    }));
    seen.enabledControls.push(...look.enabled);
    seen.lockedQuizzes.push(...look.locked);
    seen.checkedQuizzes.push(...look.checked);
    await frame.locator("#next").click();
  }
  seen.notice = await frame.locator("#mode-notice").textContent().catch(() => null);
  return seen;
}

const AXE = path.resolve(__dirname, "../../../node_modules/axe-core/axe.min.js");
const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
let axeSource = null;

/** axe-core's WCAG 2.1 A/AA violations on the page, each {id, impact, help, nodes: ["target :: failure", ...]}.
 * axe is loaded through the DevTools protocol, which runs outside the page's CSP: the tool's pages refuse injected
 * scripts (script-src 'none' / 'self'), rightly, and the policy under test stays exactly as served. */
async function axeViolations(page, maxNodes = 5) {
  if (!(await page.evaluate(() => !!window.axe))) {
    if (axeSource === null) axeSource = fs.readFileSync(process.env.SMEB_AXE || AXE, "utf8");
    const cdp = await page.context().newCDPSession(page);
    const r = await cdp.send("Runtime.evaluate", { expression: axeSource });
    if (r.exceptionDetails) throw new Error("axe did not load: " + JSON.stringify(r.exceptionDetails));
    await cdp.detach();
  }
  return page.evaluate(async ({ tags, maxNodes }) => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, maxNodes).map((n) => n.target.join(" ") + " :: " + n.failureSummary) }));
  }, { tags: WCAG_TAGS, maxNodes });
}

module.exports = { launch, playerFrame, lessonIndex, doBlock, lessonsOf, reviewWalk, axeViolations, FLAGS };
