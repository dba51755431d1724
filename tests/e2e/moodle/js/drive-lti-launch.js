// A Moodle user logs in and opens an External tool activity the way Moodle's "launch in a new window" does
// (/mod/lti/launch.php?id=<cmid>: Moodle's OIDC login initiation, its auth endpoint, the tool's launch), and waits
// for the SMEB player to be ready. The test then plays the course through the player's events endpoint.
//
// options: {moodle, user: {username, password}, cmid, shots, shot, debugDir}
// result:  {url: the player page's URL, launchId}
"use strict";
const M = require("./moodle.js");

M.main(async (opts) => {
  const { context, close } = await M.browser(opts);
  const page = context.pages()[0] || (await context.newPage());
  try {
    return await M.withDebug(page, opts, `lti-launch-${opts.cmid}-${opts.user.username}`, async () => {
      await M.login(page, opts.moodle, opts.user.username, opts.user.password);
      await page.goto(`${opts.moodle}/mod/lti/launch.php?id=${opts.cmid}`);
      await page.waitForURL(/\/play\/[^/?#]+$/, { timeout: 120000 });
      await M.lib.playerFrame(page);
      if (opts.shot) await M.shot(page, opts, opts.shot);
      const url = page.url();
      return { url, launchId: url.split("/play/")[1] };
    });
  } finally {
    await close();
  }
});
