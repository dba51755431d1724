// Issue 11 item 2: a learner opens an External tool activity with launch container "Embed" in chromium with
// third-party cookies blocked, the tool being another site than Moodle. Inside Moodle's page the tool cannot
// use its state cookie and offers "Open in a new window"; the learner clicks it, and the new window must end in
// the SMEB player (tests/e2e/js/embedded-launch.js does the following and recording).
//
// options: {moodle, user: {username, password}, cmid, userDataDir, shots, debugDir}
// result:  {thirdPartyCookiesBlocked, fallback: {href, text}, player: {url, status}, navigations, error}
"use strict";
const path = require("path");
const M = require("./moodle.js");
const E = require(path.resolve(__dirname, "../../js/embedded-launch.js"));

M.main(async (opts) => {
  const context = await E.launchBlockingThirdPartyCookies({ ...opts, viewport: M.VIEWPORT, locale: "en-GB" });
  const page = context.pages()[0] || (await context.newPage());
  let out;
  try {
    await M.withDebug(page, opts, `cookieless-${opts.cmid}`, async () => {
      await M.login(page, opts.moodle, opts.user.username, opts.user.password);
    });
    try {
      out = await E.embeddedLaunchViaNewWindow(context, page, {
        url: `${opts.moodle}/mod/lti/view.php?id=${opts.cmid}`, frame: "#contentframe", expect: "/play/",
      });
      if (opts.shots) await M.shot(page, opts, "cookieless-1-embedded-fallback");
      await M.lib.playerFrame(out.popup);
      if (opts.shots) await M.shot(out.popup, opts, "cookieless-2-new-window-player");
    } catch (err) {
      out = { ...(err.result || {}), error: String(err && err.stack || err) };
      if (opts.debugDir) await M.withDebug(page, opts, `cookieless-${opts.cmid}-stuck`, async () => { throw err; }).catch(() => {});
    }
    delete out.popup;
    return out;
  } finally {
    await context.close();
  }
});
