// Plays a cmi5 or xAPI (TinCan launch) package against a real LRS: works through the course, reloads once
// (token reuse, resume from the State API), answers one block while the browser is offline (outbox + retry),
// and leaves with the exit button. Prints what it saw as JSON; the Python test reads the LRS itself.
// Usage: node drive-lrs.js '{"launchUrl": "...", "course": "/path/course.json", "wrong": [], "reloadAfter": "id",
//                             "offlineBlock": "id", "locale": "nb-NO", "expectExitUrl": "..."}'
"use strict";
const fs = require("fs");
const { launch, playerFrame, lessonIndex, doBlock, lessonsOf, reviewWalk } = require("./lib");

async function waitFor(fn, what, tries = 600) {
  for (let i = 0; i < tries; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("timed out waiting for " + what);
}

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const course = JSON.parse(fs.readFileSync(opts.course, "utf8"));
  const lessons = lessonsOf(course);
  const { context, close, errors } = await launch({ locale: opts.locale });
  const out = { reload: null, offline: null, fetchCalls: 0 };
  try {
    const page = await context.newPage();
    page.on("request", (req) => { if (req.method() === "POST" && req.url().includes("/fetch/")) out.fetchCalls++; });
    await page.goto(opts.launchUrl);
    let frame = await playerFrame(page);
    out.lang = await frame.evaluate(() => document.documentElement.lang);
    out.startLesson = await lessonIndex(frame);
    let reloaded = !opts.reloadAfter;
    if (opts.review) out.review = await reviewWalk(frame, lessons);
    for (let guard = 0; guard < 500 && !opts.review; guard++) {
      const li = await lessonIndex(frame);
      if (li >= lessons.length) break;
      for (const block of lessons[li].blocks) {
        const offline = block.id === opts.offlineBlock && !out.offline;
        if (offline) await context.setOffline(true);
        await doBlock(frame, block, opts);
        if (offline) {
          await page.waitForTimeout(500);
          out.offline = { pendingWhileOffline: await frame.evaluate(() => window.SMEB.debug.pending()) };
          await context.setOffline(false);
          await waitFor(() => frame.evaluate(() => window.SMEB.debug.pending() === 0), "the outbox to drain after going online");
          out.offline.pendingAfter = 0;
        }
        if (!reloaded && block.id === opts.reloadAfter) {
          reloaded = true;
          await waitFor(() => frame.evaluate(() => window.SMEB.debug.pending() === 0), "the outbox to drain before reload");
          const before = { lesson: li, state: await frame.evaluate(() => window.SMEB.debug.state()) };
          await page.reload();
          frame = await playerFrame(page);
          const after = await frame.evaluate(() => ({ lesson: window.SMEB.debug.lesson(), state: window.SMEB.debug.state() }));
          out.reload = { before, after };
        }
      }
      await frame.locator("#next").click();
    }
    out.summary = await frame.locator("#result-status").getAttribute("data-status");
    out.outcome = await frame.evaluate(() => window.SMEB.debug.outcome());
    if (opts.expectExitUrl) {
      await Promise.all([page.waitForURL(opts.expectExitUrl, { timeout: 60000 }), frame.locator("[data-action=exit]").click()]);
    } else {
      await frame.locator("[data-action=exit]").click();
      await waitFor(() => frame.evaluate(() => !!window.SMEB.exited), "the exit to finish");
    }
    out.finalUrl = page.url();
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
