// Surveys in chromium: a learner opens the pulse and answers it with the keyboard only (Tab, Space, arrows,
// Enter), then staff open the survey list, a bad schedule and the results with the trend chart. axe-core
// runs on every page state. Prints {violations, scans, langs, saved, checked, trend, smallTargets, errors}.
// Usage: node drive-surveys.js '{"base": "http://127.0.0.1:PORT", "lang": "nb", "learner": "<launch>",
//                                "staff": "<launch>", "pulse": "<survey id>", "past": "<survey id>"}'
"use strict";
const { launch, axeViolations } = require("./lib");

async function scan(page, where, out) {
  const found = await axeViolations(page, 3);
  found.forEach((v) => out.violations.push({ where, ...v }));
  out.langs.push(await page.evaluate(() => document.documentElement.lang));
  out.scans += 1;
}

async function smallTargets(page, out) {
  const small = await page.evaluate(() => Array.from(document.querySelectorAll("button, .opt, .button, input[type=text], input[type=date], select, textarea"))
    .filter((el) => el.offsetParent !== null)
    .map((el) => ({ el: el.outerHTML.slice(0, 80), h: el.getBoundingClientRect().height, w: el.getBoundingClientRect().width }))
    .filter((r) => r.h < 44 || r.w < 44));
  out.smallTargets.push(...small);
}

/** Press Tab until the focused element matches, at most ``limit`` times. */
async function tabTo(page, test, arg, limit = 80) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(test, arg)) return;
  }
  throw new Error("Tab never reached " + String(arg));
}

/** Run ``action`` (a form submission) and wait until the page it leads to has loaded. */
async function navigate(page, action) {
  const navigated = page.waitForEvent("framenavigated", (frame) => frame === page.mainFrame());
  await action();
  await navigated;
  await page.waitForLoadState("load");
}

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const locale = opts.lang === "nb" ? "nb-NO" : "en-GB";
  const { context, close, errors } = await launch({ locale, viewport: { width: 360, height: 740 } });
  // The staff launch's cookie (what its HTTP launch would have set): staff pages open only in that browser.
  if (opts.cookies) await context.addCookies(opts.cookies);
  const out = { violations: [], scans: 0, langs: [], smallTargets: [], saved: false, checked: [], trend: {} };
  const app = (launchId, path) => `${opts.base}/app/${launchId}${path}`;
  try {
    const page = await context.newPage();
    // -- the learner, keyboard only --------------------------------------------------------------
    await page.goto(app(opts.learner, "/surveys"));
    await scan(page, "learner: survey list", out);
    await tabTo(page, (id) => !!document.activeElement && (document.activeElement.getAttribute("href") || "").endsWith("/surveys/" + id), opts.pulse);
    await Promise.all([page.waitForURL(/\/surveys\/[0-9a-f]+$/), page.keyboard.press("Enter")]);
    await scan(page, "learner: empty answer form", out);
    await smallTargets(page, out);
    const groups = await page.locator("fieldset[data-question]").count();
    for (let g = 0; g < groups; g++) {
      await tabTo(page, (n) => {
        const el = document.activeElement;
        const fs = el && el.closest("fieldset[data-question]");
        return !!fs && Array.from(document.querySelectorAll("fieldset[data-question]")).indexOf(fs) === n;
      }, g);
      await page.keyboard.press("Space"); // the first option of the group
      for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowRight"); // ... and three further: 4
    }
    await tabTo(page, () => !!document.activeElement && document.activeElement.type === "submit");
    await Promise.all([page.waitForURL(/\/surveys\?saved=1$/), page.keyboard.press("Enter")]);
    out.saved = (await page.locator("#saved").count()) === 1;
    await scan(page, "learner: saved", out);
    await page.goto(app(opts.learner, "/surveys/" + opts.pulse));
    out.checked = await page.evaluate(() => Array.from(document.querySelectorAll("fieldset[data-question] input:checked")).map((i) => i.value));
    await scan(page, "learner: editing the answer", out);

    // -- staff ------------------------------------------------------------------------------------
    await page.goto(app(opts.staff, "/surveys"));
    await scan(page, "staff: survey list and schedule form", out);
    await smallTargets(page, out);
    await page.fill("#starts_on", "2026-12-10");
    await page.fill("#ends_on", "2026-12-01");
    await navigate(page, () => page.locator("#schedule button[type=submit]").press("Enter"));
    if ((await page.locator("#form-error").count()) !== 1) throw new Error("a bad schedule did not come back with a message");
    await scan(page, "staff: schedule error", out);
    await page.goto(app(opts.staff, `/surveys/${opts.past}/results`));
    out.trend = await page.evaluate(() => ({
      svg: document.querySelectorAll("svg.trend[role=img]").length,
      tables: document.querySelectorAll("table.trend-table").length,
      suppressed: document.querySelectorAll("[data-suppressed]").length,
    }));
    await scan(page, "staff: results with trend", out);
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
