// A teacher opens the activity chooser of a course ("Edit mode" on, "Add an activity or resource") and reads the
// names offered; with opts.open the teacher also picks opts.toolName and reaches its "Add" form.
//
// options: {moodle, user: {username, password}, courseId, toolName, open: bool, shots, debugDir}
// result:  {names: [...], found: bool, formUrl: string | null}
"use strict";
const M = require("./moodle.js");

M.main(async (opts) => {
  const { context, close } = await M.browser(opts);
  const page = context.pages()[0] || (await context.newPage());
  try {
    return await M.withDebug(page, opts, "chooser", async () => {
      await M.login(page, opts.moodle, opts.user.username, opts.user.password);
      await M.editMode(page, opts.moodle, opts.courseId);
      const modal = await M.openChooser(page);
      const names = await modal.locator("[data-region=chooser-option-container] .optionname").allTextContents();
      const item = modal.locator("[data-region=chooser-option-container]", { hasText: opts.toolName }).first();
      const found = (await item.count()) > 0;
      if (found) await item.scrollIntoViewIfNeeded();
      await M.shot(page, opts, "chooser-1-activity-chooser");
      let formUrl = null;
      if (found && opts.open) {
        await Promise.all([page.waitForNavigation({ waitUntil: "networkidle" }), item.locator("a, [data-action=add-chooser-option]").first().click()]);
        formUrl = page.url();
      }
      return { names: names.map((n) => n.trim()), found, formUrl };
    });
  } finally {
    await close();
  }
});
