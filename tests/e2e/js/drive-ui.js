// Checks the player as a keyboard and screen-reader user would meet it, on a standalone package:
// keyboard-only answering, visible focus, media markup, hostile text shown as text, language switch kept
// across a reload. Prints observations as JSON.
// Usage: node drive-ui.js '{"url": "http://127.0.0.1:PORT/pkg/index.html", "quiz": "q-id", "video": "v-id", "text": "t-id"}'
"use strict";
const { launch, playerFrame } = require("./lib");

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const { context, close, errors } = await launch({ locale: "nb-NO", viewport: { width: 360, height: 740 } });
  const out = {};
  try {
    const page = await context.newPage();
    await page.goto(opts.url);
    await playerFrame(page);
    out.langBefore = await page.evaluate(() => document.documentElement.lang);
    out.pwnedText = await page.evaluate(() => document.body.textContent.includes("<img src=x onerror="));
    // Keyboard only: Tab to the quiz's first option, Space to choose, Tab to "Svar", Enter.
    const first = page.locator(`section[data-block="${opts.quiz}"] input`).first();
    let reached = false;
    for (let i = 0; i < 120 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = await first.evaluate((el) => el === document.activeElement);
    }
    out.reachedByTab = reached;
    out.focusOutline = await page.evaluate(() => {
      const el = document.activeElement.closest("label") || document.activeElement;
      const cs = getComputedStyle(document.activeElement);
      return cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2 ? "visible" : "none:" + cs.outlineStyle + el.tagName;
    });
    await page.keyboard.press("Space");
    const answer = page.locator(`section[data-block="${opts.quiz}"] [data-action=answer]`);
    for (let i = 0; i < 20; i++) {
      if (await answer.evaluate((el) => el === document.activeElement)) break;
      await page.keyboard.press("Tab");
    }
    await page.keyboard.press("Enter");
    out.feedback = await page.locator(`section[data-block="${opts.quiz}"] [role=status]`).textContent();
    out.media = await page.evaluate((id) => {
      const v = document.querySelector(`section[data-block="${id}"] video`);
      return { poster: v.getAttribute("poster"), preload: v.getAttribute("preload"),
        tracks: Array.from(v.querySelectorAll("track")).map((t) => [t.kind, t.srclang, t.getAttribute("src")]) };
    }, opts.video);
    out.images = await page.evaluate((id) => Array.from(document.querySelectorAll(`section[data-block="${id}"] img`)).map((i) => [i.alt, i.loading]), opts.text);
    out.pwned = await page.evaluate(() => window.pwned === 1);
    await page.locator("#lang-switch").click();
    out.langAfter = await page.evaluate(() => document.documentElement.lang);
    out.titleAfter = await page.locator("#lesson-title").textContent();
    await page.reload();
    await playerFrame(page);
    out.langAfterReload = await page.evaluate(() => document.documentElement.lang);
    out.quizLockedAfterReload = await page.locator(`section[data-block="${opts.quiz}"] [data-action=answer]`).isDisabled();
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
