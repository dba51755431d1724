// A workshop series in chromium, keyboard first: the facilitator starts a series and plans a session, a learner
// of another company joins with the code and hands in the assignment, the facilitator records attendance and
// opens the run-sheet whose clock follows real time. axe-core runs on every page state.
// Prints {violations, scans, langs, code, runsheet, status, evaluationLink, smallTargets, errors}.
// Usage: node drive-workshops.js '{"base": "...", "lang": "nb", "facilitator": "<launch>", "learner": "<launch>", "title": "..."}'
"use strict";
const { launch, axeViolations } = require("./lib");

async function scan(page, where, out) {
  const found = await axeViolations(page, 3);
  found.forEach((v) => out.violations.push({ where, ...v }));
  out.langs.push(await page.evaluate(() => document.documentElement.lang));
  out.scans += 1;
  const small = await page.evaluate(() => Array.from(document.querySelectorAll("button, .opt, .button, input[type=text], select, textarea"))
    .filter((el) => el.offsetParent !== null)
    .map((el) => ({ el: el.outerHTML.slice(0, 80), h: el.getBoundingClientRect().height, w: el.getBoundingClientRect().width }))
    .filter((r) => r.h < 44 || r.w < 44));
  out.smallTargets.push(...small);
}

async function tabTo(page, test, arg, limit = 120) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(test, arg)) return;
  }
  throw new Error("Tab never reached " + String(arg));
}

const focused = (selector) => !!document.activeElement && document.activeElement.matches(selector);

/** "YYYY-MM-DDTHH:MM" in Norwegian time, ``minutes`` from now (what a facilitator types into datetime-local). */
function osloLocal(minutes) {
  const when = new Date(Date.now() + minutes * 60000);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Oslo", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(when).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
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
  const out = { violations: [], scans: 0, langs: [], smallTargets: [] };
  const app = (launchId, path) => `${opts.base}/app/${launchId}${path}`;
  try {
    const page = await context.newPage();
    // -- the facilitator starts a series (keyboard) -----------------------------------------------
    await page.goto(app(opts.facilitator, "/workshops"));
    await scan(page, "facilitator: workshops", out);
    await tabTo(page, focused, "#title");
    await page.keyboard.type(opts.title);
    await Promise.all([page.waitForURL(/\/workshops\/\d+$/), page.keyboard.press("Enter")]);
    const seriesUrl = page.url();
    out.code = (await page.locator("#join-code").textContent()).trim();
    await scan(page, "facilitator: new series", out);
    await page.fill("#starts_at", osloLocal(-15));
    await page.fill("#place", "Verkstedet");
    await page.selectOption("#assignment", { index: 1 });
    await navigate(page, () => page.locator("#add-session button[type=submit]").press("Enter"));
    await page.fill("#notes-text", "**Sjekkliste** før tavla lukkes.\n\n- Si ifra tidlig");
    await navigate(page, () => page.locator("#notes-form button[type=submit]").press("Enter"));
    await scan(page, "facilitator: series with a session and notes", out);

    // -- a learner of another company joins and hands in (keyboard) ------------------------------------
    const learner = await context.newPage();
    await learner.goto(app(opts.learner, "/workshops"));
    await scan(learner, "learner: workshops", out);
    await tabTo(learner, focused, "#code");
    await learner.keyboard.type(out.code.toLowerCase());
    await Promise.all([learner.waitForURL(/\/workshops\/\d+$/), learner.keyboard.press("Enter")]);
    await scan(learner, "learner: the series", out);
    await tabTo(learner, focused, "#hand-in button");
    await Promise.all([learner.waitForURL(/saved=handed-in/), learner.keyboard.press("Enter")]);
    out.handedIn = (await learner.locator("#handed-in-status").count()) === 1;
    await scan(learner, "learner: handed in", out);

    // -- attendance (keyboard), run-sheet, status -------------------------------------------------------------
    await page.goto(seriesUrl);
    await navigate(page, () => page.locator("a[href$='/attendance']").first().click());
    await scan(page, "facilitator: attendance", out);
    await tabTo(page, focused, "input[name=present]");
    await page.keyboard.press("Space");
    await tabTo(page, focused, "#attendance-form button[type=submit]");
    await Promise.all([page.waitForURL(/saved=1/), page.keyboard.press("Enter")]);
    await scan(page, "facilitator: attendance saved", out);
    await page.goto(seriesUrl);
    await navigate(page, () => page.locator("a[href$='/runsheet']").first().click());
    await page.waitForFunction(() => /^\d\d:\d\d:\d\d$/.test(document.getElementById("clock").textContent));
    out.runsheet = await page.evaluate(() => ({
      clock: document.getElementById("clock").textContent,
      now: document.getElementById("now-item").textContent,
      next: document.getElementById("next-item").textContent,
      marked: Array.from(document.querySelectorAll("#runsheet li.now")).map((li) => li.getAttribute("data-title")),
    }));
    await scan(page, "facilitator: run-sheet", out);
    await page.goto(seriesUrl);
    out.status = await page.evaluate(() => Array.from(document.querySelectorAll("table.status tbody tr")).map((tr) => ({
      attended: tr.querySelector(".attended").textContent, handedIn: tr.querySelector(".handed-in").textContent })));
    // -- the evaluation after the session -----------------------------------------------------------------------
    await navigate(page, () => page.locator("form[action$='/evaluation'] button").press("Enter"));
    await scan(page, "facilitator: evaluation sent", out);
    await learner.goto(learner.url().split("?")[0]);
    out.evaluationLink = (await learner.locator("a[href*='/surveys/']").count()) === 1;
    await scan(learner, "learner: series with evaluation", out);
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
