// Runs axe-core (from node_modules, injected into the page) over every lesson of a standalone package,
// before and after the learner has answered everything (so feedback, badges and filled forms are checked
// too), and over the summary and the open contents menu. Prints the violations as JSON.
// Usage: node drive-axe.js '{"url": "http://127.0.0.1:PORT/pkg/index.html", "course": "/path/course.json",
//                             "locale": "nb-NO", "width": 360, "height": 740}'
"use strict";
const fs = require("fs");
const { launch, playerFrame, lessonIndex, doBlock, lessonsOf, axeViolations } = require("./lib");

async function scan(page, where, out) {
  const result = await axeViolations(page);
  out.scans += 1;
  result.forEach((v) => out.violations.push({ where, ...v }));
}

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const course = JSON.parse(fs.readFileSync(opts.course, "utf8"));
  const lessons = lessonsOf(course);
  const { context, close, errors } = await launch({ locale: opts.locale, viewport: { width: opts.width, height: opts.height } });
  const out = { violations: [], scans: 0, blockTypes: [] };
  try {
    const page = await context.newPage();
    await page.goto(opts.url);
    await playerFrame(page);
    out.lang = await page.evaluate(() => document.documentElement.lang);
    const toggle = page.locator("#toc-toggle");
    if (await toggle.isVisible()) {
      await toggle.click();
      await scan(page, "contents menu open", out);
      await toggle.click();
    }
    for (let guard = 0; guard < 200; guard++) {
      const li = await lessonIndex(page);
      if (li >= lessons.length) break;
      await scan(page, `lesson ${lessons[li].id} (fresh)`, out);
      for (const block of lessons[li].blocks) {
        out.blockTypes.push(block.type + (block.kind ? ":" + block.kind : "") + (block.options ? ":ranking" : ""));
        await doBlock(page, block, { wrong: opts.wrong || [] });
      }
      await scan(page, `lesson ${lessons[li].id} (answered)`, out);
      await page.locator("#next").click();
    }
    await scan(page, "summary", out);
    out.summary = await page.locator("#result-status").getAttribute("data-status");
    // Touch targets: every button, link and input the learner operates is at least 44 x 44 CSS px (WCAG 2.5.5 AAA, our rule).
    out.smallTargets = await page.evaluate(() => Array.from(document.querySelectorAll("button, .option label, .scale-opt"))
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ el: el.outerHTML.slice(0, 80), w: el.getBoundingClientRect().width, h: el.getBoundingClientRect().height }))
      .filter((r) => r.h < 44 || r.w < 44));
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
