// A learner in Moodle's own SCORM player (Display package: Current window), for test_moodle_scorm.py.
// Per activity: optionally Preview first (browse mode: work through the first lesson, leave with "Avslutt"),
// then Enter: note the mode the player got, work through the whole course like a learner, leave from the summary
// and read the end screen. Prints what it saw; the Python test reads Moodle's tracks and gradebook itself.
// Usage: node scorm-play.js '{"moodle": URL, "user": {username, password}, "course": "/path/course.json",
//   "activities": [{"name": "scorm12", "cmid": 12, "preview": true}], "shots": DIR|null, "debugDir": DIR}'
"use strict";
const fs = require("fs");
const { browser, login, shot, log, main, withDebug, lib } = require("./moodle");

/** The frame that runs the SMEB player, wherever Moodle nests it (player.php > iframe > loadSCO.php > SCO). */
async function smebFrame(page) {
  const deadline = Date.now() + 120000;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      const ready = await frame.evaluate(() => !!(window.SMEB && (window.SMEB.ready || window.SMEB.error))).catch(() => false);
      if (!ready) continue;
      const error = await frame.evaluate(() => window.SMEB.error || null);
      if (error) throw new Error("player failed to start in Moodle: " + error);
      return frame;
    }
    await page.waitForTimeout(200);
  }
  throw new Error("the SMEB player did not start inside Moodle's SCORM player");
}

async function seenMode(frame) {
  return frame.evaluate(() => {
    const notice = document.getElementById("mode-notice");
    const quiz = document.querySelector("section.block-quiz [data-action=answer]");
    return { notice: notice ? notice.textContent : null, lesson: window.SMEB.debug.lesson(), quizEnabled: quiz ? !quiz.disabled : null };
  });
}

/** Leave with the summary's exit button ("Avslutt") and read the end screen, if Moodle has not navigated away. */
async function exitFromSummary(page, frame, errors) {
  await frame.locator("[data-action=exit]").click();
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const exited = await frame.evaluate(() => window.SMEB && window.SMEB.exited === true).catch(() => null);
    if (exited === true) {
      return frame.evaluate(() => ({ text: document.getElementById("main").textContent,
        closeButton: !!document.querySelector("[data-action=close-window]"), terminateError: window.SMEB.terminateError || null }));
    }
    if (exited === null) return { navigated: page.url() }; // the frame is gone: the LMS took the learner elsewhere
    await page.waitForTimeout(200);
  }
  const why = await frame.evaluate(() => window.SMEB.terminateError || null).catch(() => null);
  throw new Error("no end screen within 30 s after Avslutt; " + JSON.stringify({ terminateError: why, errors }));
}

async function toSummary(frame) {
  await frame.locator("#toc-toggle").click();
  await frame.locator("#toc .toc-summary").click();
}

async function playAll(frame, lessons, plan) {
  for (let guard = 0; guard < 500; guard++) {
    const li = await lib.lessonIndex(frame);
    if (li >= lessons.length) return;
    for (const block of lessons[li].blocks) await lib.doBlock(frame, block, plan);
    await frame.locator("#next").click();
  }
  throw new Error("the course did not reach its summary");
}

async function enter(page, opts, cmid, button) {
  await page.goto(`${opts.moodle}/mod/scorm/view.php?id=${cmid}`, { waitUntil: "networkidle" });
  await Promise.all([page.waitForLoadState("load"), page.click(button)]);
  return smebFrame(page);
}

main(async (opts) => {
  const course = JSON.parse(fs.readFileSync(opts.course, "utf8"));
  const lessons = lib.lessonsOf(course);
  const { context, close, errors } = await browser(opts);
  const out = { runs: {}, errors };
  try {
    const page = await context.newPage();
    // What Moodle answers to the requests that carry a SCORM 2004 navigation request (for the report).
    out.navAnswers = [];
    page.on("response", async (res) => {
      const body = res.request().postData() || "";
      if (!res.url().includes("/mod/scorm/datamodel.php") || !body.includes("adl__nav__request")) return;
      out.navAnswers.push((await res.text().catch(() => "")).slice(0, 400));
    });
    await login(page, opts.moodle, opts.user.username, opts.user.password);
    for (const activity of opts.activities) {
      const run = (out.runs[activity.name] = {});
      await withDebug(page, opts, "scorm-" + activity.name, async () => {
        if (activity.preview) {
          log(`${activity.name}: Preview`);
          let frame = await enter(page, opts, activity.cmid, "#b");
          run.preview = await seenMode(frame);
          for (const block of lessons[0].blocks) await lib.doBlock(frame, block, {});
          await toSummary(frame);
          run.preview.summary = await frame.locator("#result-status").getAttribute("data-status");
          run.preview.exited = await exitFromSummary(page, frame, errors);
        }
        log(`${activity.name}: Enter`);
        const frame = await enter(page, opts, activity.cmid, "#n");
        run.enter = await seenMode(frame);
        if (run.enter.notice) {
          log(`${activity.name}: Enter opened a ${run.enter.notice} launch, not a normal attempt`);
          return; // read-only: nothing to play (the test reports it)
        }
        if (activity.shotName) await shot(page, opts, activity.shotName);
        await playAll(frame, lessons, { wrong: opts.wrong || [] });
        run.summary = await frame.locator("#result-status").getAttribute("data-status");
        run.outcome = await frame.evaluate(() => window.SMEB.debug.outcome());
        run.exited = await exitFromSummary(page, frame, errors);
        if (activity.endShotName) await shot(page, opts, activity.endShotName);
        log(`${activity.name}: done (${run.summary})`);
      });
    }
  } finally {
    await close();
  }
  return out;
});
