// Opens an LMS course page that embeds the tool in a cross-site iframe and waits until the tool's
// iframe has received the player page. Prints {frameUrl, status, log, frames, navigations} as JSON.
// Usage: node iframe_launch.js '{"chromium": "/usr/bin/chromium", "url": "...", "expect": "/play/", "userDataDir": "..."}'
//
// The player is recognised by the document response the browser received for it, not by polling
// frame.url(): the tool's frame hops between sites (tool → LMS → tool), so Chromium moves it between
// renderer processes, and under load playwright's frame tree can lag behind such a swap for a long time.
"use strict";
const path = require("path");
const { chromium } = require(path.resolve(__dirname, "../../../../node_modules/playwright-core"));

const opts = JSON.parse(process.argv[2]);

(async () => {
  const context = await chromium.launchPersistentContext(opts.userDataDir, {
    executablePath: opts.chromium,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const out = { frameUrl: null, log: [], navigations: [] };
  let resolveArrived;
  const arrived = new Promise((resolve) => { resolveArrived = resolve; });
  const inFlight = new Set();
  // documents, styles, scripts, images: what the tool's server answers from files (the player's own API polls
  // are fetch/xhr and may stay open, so they are not waited for)
  const FILES = new Set(["document", "stylesheet", "script", "image", "font", "media"]);
  context.on("request", (request) => { if (FILES.has(request.resourceType())) inFlight.add(request); });
  context.on("requestfinished", (request) => inFlight.delete(request));
  context.on("requestfailed", (request) => inFlight.delete(request));
  context.on("response", (response) => {
    const request = response.request();
    if (!request.isNavigationRequest()) return;
    out.navigations.push(`${request.method()} ${response.url()} ${response.status()}`);
    if (response.url().includes(opts.expect)) resolveArrived({ url: response.url(), status: response.status() });
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    await page.goto(opts.url);
    // generous: the whole suite may load both cores
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), 120000));
    const seen = await Promise.race([arrived, timeout]);
    if (seen) {
      out.frameUrl = seen.url; out.status = seen.status;
      // Let the player's styles and scripts finish loading before the browser goes away: a request cut off
      // mid-response leaves the in-process test server's file handle to the garbage collector (ResourceWarning).
      // (the player polls, so "networkidle" never comes: wait until no file request is in flight for a moment)
      const deadline = Date.now() + 30000;
      let quietSince = Date.now();
      while (Date.now() < deadline) {
        if (inFlight.size) quietSince = Date.now();
        else if (Date.now() - quietSince > 500) break;
        await page.waitForTimeout(50);
      }
    }
    out.log = await page.evaluate(() => window.__lti_log);
    out.frames = page.frames().map((f) => f.url());
  } finally {
    await context.close();
  }
  process.stdout.write(JSON.stringify(out));
  process.exit(0);  // the timeout may still be pending
})().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
