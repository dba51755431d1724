// Register the SMEB tool in Moodle the way docs/moodle.md tells a site administrator: Site administration >
// Plugins > Activity modules > External tool > Manage tools, paste the registration URL into "Tool URL",
// "Add LTI Advantage", "Activate", then (the one setting Moodle does not take from the registration)
// "Tool configuration usage" = "Show in activity chooser and as a preconfigured tool".
//
// options: {moodle, admin: {username, password}, registerUrl | registerUrls: [...], chooser: bool (default true),
//           shots, onlyShots: [names] (default: every screenshot of the first URL), debugDir}
// result:  {typeId, name, state, coursevisible, refused: null | "<text of the tool's page in Moodle's frame>"} for the
//          last URL, and attempts: [one such result per URL] (one browser, one login, URLs tried in order).
"use strict";
const M = require("./moodle.js");

const TOOL_NAME = "SMEB kurs";

/** Wait until the registration frame closes and the new tool's card is listed, or the tool's page in the frame
 * shows an error (then return that page's text). */
async function waitForCard(page, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const card = page.locator(".tool-card", { hasText: TOOL_NAME }).filter({ has: page.locator("a.activate") });
  while (Date.now() < deadline) {
    if (await card.count()) return { card: card.last() };
    const frame = page.frames().find((f) => f !== page.mainFrame() && /\/lti\/register/.test(f.url()));
    if (frame) {
      const text = await frame.evaluate(() => {
        const alert = document.querySelector("[role=alert], .error");
        return alert ? document.body.innerText : null;
      }).catch(() => null);
      if (text) return { refused: text.trim() };
    }
    await page.waitForTimeout(250);
  }
  throw new Error("the new tool's card did not appear in Manage tools (registration did not finish)");
}

/** One "Tool URL" attempt on Manage tools; on success the tool is activated (and put in the activity chooser). */
async function attempt(page, opts, url, first) {
  const wanted = (name) => first && (!opts.onlyShots || opts.onlyShots.includes(name));
  const shot = (name) => (wanted(name) ? M.shot(page, opts, name) : null);
  await page.goto(opts.moodle + "/mod/lti/toolconfigure.php", { waitUntil: "networkidle" });
  await page.fill("#tool-url", url);
  await shot("register-1-tool-url");
  await page.click("#tool-create-button");
  const found = await waitForCard(page, 90000);
  if (found.refused) {
    await shot("register-refused");
    return { typeId: null, refused: found.refused };
  }
  await page.waitForLoadState("networkidle");
  await found.card.scrollIntoViewIfNeeded();
  await shot("register-2-pending");
  const editHref = await found.card.locator("a.edit").getAttribute("href");
  const typeId = Number(new URL(editHref, opts.moodle).searchParams.get("id"));
  await found.card.locator("a.activate").click();
  const active = page.locator(".tool-card", { hasText: TOOL_NAME }).filter({ has: page.locator(`a.edit[href*="id=${typeId}&"], a.edit[href$="id=${typeId}"]`) });
  await active.locator("a.activate").waitFor({ state: "detached", timeout: 60000 });
  await page.waitForLoadState("networkidle");
  await shot("register-3-active");
  const state = (await active.locator(".badge").first().textContent()).trim();
  let coursevisible = null;
  if (opts.chooser !== false) {
    await page.goto(new URL(editHref, opts.moodle).toString(), { waitUntil: "networkidle" });
    const usage = page.locator("#id_lti_coursevisible");
    await usage.selectOption("2"); // "Show in activity chooser and as a preconfigured tool"
    await usage.scrollIntoViewIfNeeded();
    await shot("register-4-activity-chooser-setting");
    await Promise.all([page.waitForNavigation({ waitUntil: "networkidle" }), page.click("#id_submitbutton")]);
    coursevisible = 2;
  }
  return { typeId, name: TOOL_NAME, state, coursevisible, refused: null };
}

M.main(async (opts) => {
  const { context, close } = await M.browser(opts);
  const page = context.pages()[0] || (await context.newPage());
  try {
    return await M.withDebug(page, opts, "register", async () => {
      await M.login(page, opts.moodle, opts.admin.username, opts.admin.password);
      const urls = opts.registerUrls || [opts.registerUrl];
      const attempts = [];
      for (const url of urls) {
        M.log(`registering with ${url}`);
        attempts.push(await attempt(page, opts, url, attempts.length === 0));
      }
      return { ...attempts[attempts.length - 1], attempts };
    });
  } finally {
    await close();
  }
});
