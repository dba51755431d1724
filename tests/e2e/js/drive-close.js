// Opens an xAPI (or cmi5) launch, answers the first quiz, then closes the tab the way a learner does (no exit
// button), so only what the page hands the browser on pagehide can reach the LRS.
// Usage: node drive-close.js '{"launchUrl": "...", "course": "/path/course.json", "waitBeforeClose": 0}'
"use strict";
const fs = require("fs");
const { launch, playerFrame, doBlock, lessonsOf } = require("./lib");

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const course = JSON.parse(fs.readFileSync(opts.course, "utf8"));
  const lessons = lessonsOf(course);
  const { context, close, errors } = await launch({});
  const out = {};
  try {
    const page = await context.newPage();
    await page.goto(opts.launchUrl);
    const frame = await playerFrame(page);
    const quiz = lessons[0].blocks.find((b) => b.type === "quiz");
    if (quiz) await doBlock(frame, quiz, {});
    if (opts.waitBeforeClose) await page.waitForTimeout(opts.waitBeforeClose);
    out.pendingBeforeClose = await frame.evaluate(() => window.SMEB.debug.pending());
    // Closing the tab: pagehide runs, then the renderer goes away with anything not handed to the browser.
    await page.close({ runBeforeUnload: false });
    // The browser process stays up for a moment so keepalive requests can finish, as it would with other tabs open.
    await new Promise((r) => setTimeout(r, 2000));
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
