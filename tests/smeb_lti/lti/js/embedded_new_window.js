// An embedded launch from the demo LMS in Chromium with third-party cookies blocked, ending in the player in a
// new window (tests/e2e/js/embedded-launch.js). Prints {thirdPartyCookiesBlocked, fallback, player, navigations, error}.
// Usage: node embedded_new_window.js '{"chromium": "/usr/bin/chromium", "url": "...", "userDataDir": "...",
//                                      "frame": "#contentframe", "expect": "/play/"}'
"use strict";
const path = require("path");
const E = require(path.resolve(__dirname, "../../../e2e/js/embedded-launch.js"));

const opts = JSON.parse(process.argv[2]);

(async () => {
  const context = await E.launchBlockingThirdPartyCookies(opts);
  let out;
  try {
    const page = context.pages()[0] || (await context.newPage());
    out = await E.embeddedLaunchViaNewWindow(context, page, opts);
  } catch (err) {
    out = { ...(err.result || {}), error: String(err && err.stack || err) };
  } finally {
    await context.close();
  }
  delete out.popup;
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
})().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
