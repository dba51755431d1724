// SCORM browse and review launches in one chromium (a fresh context per launch): browse works through every block
// like a learner, review walks the course read-only; both leave with the exit button. Prints what the LMS recorded.
// Usage: node drive-modes.js '{"base": "http://127.0.0.1:PORT/", "course": "/path/course.json",
//                              "runs": [{"name": "scorm12-browse", "api": "scorm12", "pkg": "pkg12/index.html", "mode": "browse"}]}'
"use strict";
const fs = require("fs");
const { chromium } = require("playwright-core");
const { playerFrame, lessonIndex, doBlock, lessonsOf, reviewWalk, FLAGS } = require("./lib");

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const lessons = lessonsOf(JSON.parse(fs.readFileSync(opts.course, "utf8")));
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: FLAGS });
  const out = { runs: {}, errors: [] };
  try {
    for (const run of opts.runs) {
      const context = await browser.newContext({ locale: "nb-NO", viewport: { width: 360, height: 740 } });
      context.on("weberror", (e) => out.errors.push(run.name + ": " + String(e.error())));
      context.on("console", (m) => {
        if ((m.type() === "error" || m.type() === "warning") && !m.text().startsWith("Failed to load resource")) out.errors.push(run.name + ": " + m.text());
      });
      const page = await context.newPage();
      await page.goto(`${opts.base}host.html?api=${run.api}&learner=ola-1&mode=${run.mode}&pkg=${encodeURIComponent(run.pkg)}`);
      const frame = await playerFrame(page);
      const seen = { notice: await frame.locator("#mode-notice").textContent().catch(() => null) };
      if (run.mode === "review") Object.assign(seen, await reviewWalk(frame, lessons));
      else {
        for (let guard = 0; guard < 500; guard++) {
          const li = await lessonIndex(frame);
          if (li >= lessons.length) break;
          for (const block of lessons[li].blocks) await doBlock(frame, block, {});
          await frame.locator("#next").click();
        }
      }
      seen.summary = await frame.locator("#result-status").getAttribute("data-status");
      await frame.locator("[data-action=exit]").click();
      await page.waitForFunction(() => window.lmsLog.finished, null, { timeout: 30000 });
      seen.lms = await page.evaluate(() => window.lmsLog);
      out.runs[run.name] = seen;
      await context.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
