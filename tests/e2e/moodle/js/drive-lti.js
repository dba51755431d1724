// LTI flows in Moodle as its users do them, in chromium:
//   mode "window":   a learner opens an External tool activity set to "New window" (Moodle's view.php opens
//                    launch.php in a new window) and the SMEB player becomes ready there;
//   mode "deeplink": a teacher adds an activity: Edit mode, the activity chooser, "SMEB kurs", "Select content"
//                    (deep linking: our catalogue in Moodle's dialog), picks a course, "Save and return to course";
//   mode "roster":   a teacher opens an activity, follows the player's roster link and reads the member list
//                    (our NRPS client against Moodle's memberships service);
//   mode "complete": a learner opens an activity and works through it in the player (opts.course: the course
//                    or module as a dict with its answers, from the course source) to the summary;
//   mode "gradebook": a teacher opens the course's grader report (Grades) and reads it.
//
// options: {moodle, user: {username, password}, mode, cmid (window, roster), courseId + toolName + slug (deeplink),
//           shots, debugDir}
// result:  window:   {playerUrl, launchId, viewUrl}
//          deeplink: {name, courseUrl}
//          roster:   {members: [{user, text}], rosterUrl}
//          complete: {status, outcome}
//          gradebook: {text}
"use strict";
const M = require("./moodle.js");

async function learnerWindow(context, page, opts) {
  const popup = context.waitForEvent("page", { timeout: 60000 });
  await page.goto(`${opts.moodle}/mod/lti/view.php?id=${opts.cmid}`);
  let win;
  try {
    win = await popup;
  } catch (e) {
    // A browser that blocks the automatic window: the learner uses the page's link, as Moodle tells them.
    const again = context.waitForEvent("page", { timeout: 60000 });
    await page.locator("#region-main a[target=_blank]").first().click();
    win = await again;
  }
  await page.waitForLoadState("networkidle");
  await M.shot(page, opts, "launch-1-new-window");
  await win.waitForURL(/\/play\/[^/?#]+$/, { timeout: 120000 });
  await M.lib.playerFrame(win);
  await win.setViewportSize(M.VIEWPORT);
  await win.waitForTimeout(800); // the player keeps a connection open: no network idle; let the first lesson paint
  await M.shot(win, opts, "launch-2-player");
  const playerUrl = win.url();
  return { playerUrl, launchId: playerUrl.split("/play/")[1], viewUrl: page.url() };
}

async function teacherDeepLink(page, opts) {
  await M.editMode(page, opts.moodle, opts.courseId);
  const modal = await M.openChooser(page);
  const item = modal.locator("[data-region=chooser-option-container]", { hasText: opts.toolName }).first();
  await Promise.all([page.waitForNavigation({ waitUntil: "networkidle" }), item.locator("a[data-action=add-chooser-option]").click()]);
  await M.shot(page, opts, "deeplink-1-add-activity");
  await page.locator("#id_selectcontent").click();
  let catalogue = null;
  const deadline = Date.now() + 120000;
  while (!catalogue && Date.now() < deadline) {
    catalogue = page.frames().find((f) => /\/deep-link\//.test(f.url())) || null;
    if (!catalogue) await page.waitForTimeout(250);
  }
  if (!catalogue) throw new Error("our catalogue did not open in Moodle's Select content dialog");
  const choice = catalogue.locator(`input[name=item][value="${opts.slug}"]`);
  await choice.waitFor({ timeout: 60000 });
  await choice.check();
  await page.waitForTimeout(300);
  await M.shot(page, opts, "deeplink-2-catalogue");
  await catalogue.locator("button[type=submit]").click();
  // Moodle's contentitem_return fills the form and closes the dialog.
  await page.waitForFunction(() => {
    const name = document.querySelector("#id_name");
    return name && name.value && !document.querySelector(".modal.show iframe");
  }, null, { timeout: 120000 });
  await page.waitForTimeout(300);
  const name = await page.locator("#id_name").inputValue();
  await page.locator("#id_selectcontentindicator").scrollIntoViewIfNeeded();
  await M.shot(page, opts, "deeplink-3-selected");
  await Promise.all([page.waitForNavigation({ waitUntil: "networkidle", timeout: 120000 }), page.locator("#id_submitbutton2").click()]);
  if (!/\/course\/view\.php/.test(page.url())) {
    const text = await page.evaluate(() => document.body.innerText);
    throw new Error("saving the activity did not return to the course: " + text.slice(0, 1500));
  }
  const added = page.locator(".activity-item, li.activity", { hasText: name }).first();
  await added.scrollIntoViewIfNeeded();
  await M.shot(page, opts, "deeplink-4-in-course");
  return { name, courseUrl: page.url() };
}

async function teacherRoster(page, opts) {
  await page.goto(`${opts.moodle}/mod/lti/launch.php?id=${opts.cmid}`);
  await page.waitForURL(/\/play\/[^/?#]+$/, { timeout: 120000 });
  const frame = await M.lib.playerFrame(page);
  const link = frame.locator("#smeb-roster-link");
  await link.waitFor({ state: "attached", timeout: 60000 });
  const href = await link.getAttribute("href");
  await page.goto(new URL(href, page.url()).toString(), { waitUntil: "networkidle" });
  await page.locator("tr[data-user]").first().waitFor({ timeout: 60000 });
  await M.shot(page, opts, "roster-1-members");
  const members = await page.locator("tr[data-user]").evaluateAll((rows) =>
    rows.map((r) => ({ user: r.getAttribute("data-user"), text: r.innerText })));
  return { members, rosterUrl: page.url() };
}

async function learnerComplete(page, opts) {
  await page.goto(`${opts.moodle}/mod/lti/launch.php?id=${opts.cmid}`);
  await page.waitForURL(/\/play\/[^/?#]+$/, { timeout: 120000 });
  const frame = await M.lib.playerFrame(page);
  const lessons = M.lib.lessonsOf(opts.course);
  for (let guard = 0; ; guard++) {
    if (guard > 200) throw new Error("the player did not reach its summary");
    const li = await M.lib.lessonIndex(frame);
    if (li >= lessons.length) break;
    for (const block of lessons[li].blocks) await M.lib.doBlock(frame, block, {});
    await frame.locator("#next").click();
  }
  const status = frame.locator("#result-status");
  await status.waitFor({ timeout: 60000 });
  await page.waitForTimeout(800);
  await M.shot(page, opts, "grades-0-player-summary");
  return { status: await status.getAttribute("data-status"), outcome: await frame.evaluate(() => window.SMEB.debug.outcome()) };
}

async function teacherGradebook(page, opts) {
  await page.goto(`${opts.moodle}/grade/report/grader/index.php?id=${opts.courseId}`, { waitUntil: "networkidle" });
  const table = page.locator("#user-grades");
  await table.waitFor({ timeout: 60000 });
  await M.shot(page, opts, "grades-1-gradebook");
  return { text: await table.innerText() };
}

M.main(async (opts) => {
  const { context, close } = await M.browser(opts);
  const page = context.pages()[0] || (await context.newPage());
  try {
    return await M.withDebug(page, opts, `lti-${opts.mode}-${opts.user.username}`, async () => {
      await M.login(page, opts.moodle, opts.user.username, opts.user.password);
      if (opts.mode === "window") return learnerWindow(context, page, opts);
      if (opts.mode === "deeplink") return teacherDeepLink(page, opts);
      if (opts.mode === "roster") return teacherRoster(page, opts);
      if (opts.mode === "complete") return learnerComplete(page, opts);
      if (opts.mode === "gradebook") return teacherGradebook(page, opts);
      throw new Error("unknown mode " + opts.mode);
    });
  } finally {
    await close();
  }
});
