// Watches a course video like a learner who skips around, in one chromium for several launches (cmi5, xAPI, LTI):
// play 0 -> 3 s, pause, seek to 6 s, play to the end, seek back to 2.5 s, play until the player counts the video
// as watched (>= 95 % of it, union of played segments), pause. Waits for the outbox to drain; the Python test
// reads what the LRS (or the LTI events endpoint) received. Prints per launch what the page saw, as JSON.
// Usage: node drive-video.js '{"runs": [{"name": "xapi", "launchUrl": "..."}], "video": "film", "offline": "xapi"}'
"use strict";
const { chromium } = require("playwright-core");
const { playerFrame, FLAGS } = require("./lib");

async function waitFor(fn, what, tries = 900) {
  for (let i = 0; i < tries; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("timed out waiting for " + what);
}

async function watch(context, page, frame, id, offline) {
  const sel = `section[data-block="${id}"] video`;
  const video = (fn, arg) => frame.evaluate(([s, a, f]) => new Function("v", "a", f)(document.querySelector(s), a), [sel, arg, fn]);
  const at = () => video("return v.currentTime;");
  // Muted, so headless chromium's autoplay policy allows play() from a script; captions shown in Bokmål.
  // The pause at 3 s is done inside the page, so a slow test machine cannot make it late.
  await video("v.muted = true; v.playbackRate = 2; for (const t of v.textTracks) t.mode = t.language === 'nb' ? 'showing' : 'disabled';" +
    "v.addEventListener('timeupdate', function f() { if (v.currentTime >= 3) { v.removeEventListener('timeupdate', f); v.pause(); } }); v.play();");
  await waitFor(async () => (await at()) >= 3 && (await video("return v.paused;")), "playback to pause at 3 s");
  await page.waitForTimeout(300);
  // The network drops in the middle of watching: statements wait in the outbox and go when it is back.
  if (offline) await context.setOffline(true);
  await video("v.currentTime = 6;");
  await page.waitForTimeout(700); // longer than the player's seek coalescing (400 ms)
  await video("v.play();");
  await waitFor(() => video("return v.ended;"), "playback to end");
  const pendingOffline = offline ? await frame.evaluate(() => window.SMEB.debug.pending()) : null;
  if (offline) await context.setOffline(false);
  const before = await frame.evaluate((b) => window.SMEB.debug.video(b), id);
  await video("v.currentTime = 2.5;");
  await page.waitForTimeout(700);
  await video("v.play();");
  await waitFor(() => frame.evaluate((b) => window.SMEB.debug.video(b).completed, id), "the video to count as watched");
  await video("v.pause();");
  await page.waitForTimeout(300);
  await waitFor(() => frame.evaluate(() => window.SMEB.debug.pending() === 0), "the outbox to drain");
  return {
    pendingOffline,
    before,
    after: await frame.evaluate((b) => window.SMEB.debug.video(b), id),
    done: await frame.locator(`section[data-block="${id}"]`).getAttribute("data-done"),
  };
}

async function main() {
  const opts = JSON.parse(process.argv[2]);
  // One browser for all launches; a fresh context (own storage, like a separate learner device) per launch, so
  // one launch's outbox (localStorage, keyed by endpoint) is not delivered with another launch's credentials.
  const browser = await chromium.launch({ executablePath: opts.chromium || "/usr/bin/chromium", headless: true, args: FLAGS });
  const out = { runs: {}, errors: [] };
  try {
    for (const run of opts.runs) {
      const context = await browser.newContext({ locale: "nb-NO", viewport: { width: 360, height: 740 } });
      context.on("weberror", (e) => out.errors.push(run.name + ": " + String(e.error())));
      context.on("console", (m) => {
        if ((m.type() === "error" || m.type() === "warning") && !m.text().startsWith("Failed to load resource")) out.errors.push(run.name + ": " + m.type() + ": " + m.text());
      });
      const page = await context.newPage();
      await page.goto(run.launchUrl);
      const frame = await playerFrame(page);
      out.runs[run.name] = await watch(context, page, frame, opts.video, opts.offline === run.name);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
