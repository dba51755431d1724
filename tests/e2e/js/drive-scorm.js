// Plays a SCORM package inside the test LMS host (scorm-again as window.API / window.API_1484_11):
// works through every lesson, reloads once in the middle to check resume, exits from the summary,
// and prints what the LMS recorded as JSON on stdout.
// Usage: node drive-scorm.js '{"base": "http://127.0.0.1:PORT/", "api": "scorm12", "course": "/path/course.json",
//                               "wrong": ["quiz-id"], "reloadAfter": "block-id", "locale": "nb-NO"}'
"use strict";
const fs = require("fs");
const { launch, playerFrame, lessonIndex, doBlock, lessonsOf } = require("./lib");

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const course = JSON.parse(fs.readFileSync(opts.course, "utf8"));
  const lessons = lessonsOf(course);
  const { context, close, errors } = await launch({ locale: opts.locale });
  const out = { reload: null };
  try {
    const page = await context.newPage();
    const url = `${opts.base}host.html?api=${opts.api}&learner=ola-1&pkg=${encodeURIComponent(opts.pkg || "pkg/index.html")}` +
      (opts.mastery ? "&mastery=" + opts.mastery : "");
    await page.goto(url);
    let frame = await playerFrame(page);
    out.startLesson = await lessonIndex(frame);
    out.lang = await frame.evaluate(() => document.documentElement.lang);
    let reloaded = !opts.reloadAfter;
    for (let guard = 0; guard < 500; guard++) {
      const li = await lessonIndex(frame);
      if (li >= lessons.length) break;
      for (const block of lessons[li].blocks) {
        await doBlock(frame, block, opts);
        if (!reloaded && block.id === opts.reloadAfter) {
          reloaded = true;
          const before = { lesson: li, state: await frame.evaluate(() => window.SMEB.debug.state()) };
          out.firstLaunch = await page.evaluate(() => JSON.parse(JSON.stringify(window.lmsLog)));
          await page.reload();
          frame = await playerFrame(page);
          const after = await frame.evaluate(() => ({
            lesson: window.SMEB.debug.lesson(),
            state: window.SMEB.debug.state(),
            done: Array.from(document.querySelectorAll("section[data-done='1']")).map((b) => b.dataset.block),
            lockedQuizzes: Array.from(document.querySelectorAll("section.block-quiz")).filter((s) => s.querySelector("[data-action=answer]").disabled).map((s) => s.dataset.block),
            focusOk: !!document.getElementById("lesson-title"),
          }));
          out.reload = { before, after, finishesBeforeReload: out.firstLaunch.finished,
            finishesAfterReload: await page.evaluate((k) => Number(localStorage.getItem("lms:" + k + ":finishes") || 0), opts.api) };
        }
      }
      await frame.locator("#next").click();
    }
    out.summary = await frame.locator("#result-status").getAttribute("data-status");
    out.outcome = await frame.evaluate(() => window.SMEB.debug.outcome());
    out.suspendLength = (await frame.evaluate(() => window.SMEB.debug.state())).length;
    await frame.locator("[data-action=exit]").click();
    await page.waitForFunction(() => window.lmsLog.finished, null, { timeout: 30000 });
    // The end screen as the learner sees it inside the LMS's frame (Moodle's "current window" display).
    await frame.waitForFunction(() => window.SMEB.exited === true, null, { timeout: 30000 });
    out.exited = await frame.evaluate(() => ({ text: document.getElementById("main").textContent,
      closeButton: !!document.querySelector("[data-action=close-window]") }));
    out.lms = await page.evaluate(() => window.lmsLog);
    // What the LMS recorded across both launches (the host page's log starts empty on each launch).
    if (out.firstLaunch) out.lms.sets = out.firstLaunch.sets.concat(out.lms.sets);
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
