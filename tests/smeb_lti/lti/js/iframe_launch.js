// Opens an LMS course page that embeds the tool in a cross-site iframe and waits until the tool's
// iframe reaches the player URL. Prints {frameUrl, log, cookies} as JSON.
// Usage: node iframe_launch.js '{"chromium": "/usr/bin/chromium", "url": "...", "expect": "/play/", "userDataDir": "..."}'
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
  const out = { frameUrl: null, log: [] };
  try {
    const page = context.pages()[0] || (await context.newPage());
    await page.goto(opts.url);
    const deadline = Date.now() + 120000;  // generous: the whole suite may load both cores
    while (Date.now() < deadline) {
      const frame = page.frames().find((f) => f.url().includes(opts.expect));
      if (frame) { out.frameUrl = frame.url(); break; }
      await page.waitForTimeout(200);
    }
    out.log = await page.evaluate(() => window.__lti_log);
    out.frames = page.frames().map((f) => f.url());
  } finally {
    await context.close();
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
