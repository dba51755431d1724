// The certificate flow and the company dashboard in Debian's chromium (playwright-core), against the real
// demo LMS and tool on 127.0.0.1:
//   1. a learner starts the course from the demo LMS, works through it, and follows the summary's
//      "Ditt kursbevis" link to the certificate page (axe-checked), then opens its verification page;
//   2. an instructor launches from the demo LMS in nb and en and opens the dashboard at 360 and 1280 px
//      (axe-checked), reading the learner's row.
// Usage: node drive-dashboard.js '{"platformUrl", "toolUrl", "link", "learner", "instructor"}'  → JSON on stdout.
"use strict";
const { launch, playerFrame, lessonIndex, doBlock, lessonsOf, axeViolations } = require("./lib");

async function axe(page, where, out) {
  const found = await axeViolations(page);
  out.scans.push(where);
  found.forEach((v) => out.violations.push({ where, ...v }));
}

async function waitFor(fn, what) {
  for (let i = 0; i < 600; i++) { if (await fn()) return; await new Promise((r) => setTimeout(r, 100)); }
  throw new Error("timed out waiting for " + what);
}

async function startFromLms(page, opts, user, learnerForm) {
  const form = learnerForm
    ? page.locator(`form.learner[action="/launch/${opts.link}"]`)
    : page.locator(`form[action="/launch/${opts.link}"]:has(input[name=user][value="${user}"])`);
  if (learnerForm) await form.locator("select").selectOption(user);
  await Promise.all([page.waitForURL(/\/play\//, { timeout: 60000 }), form.locator("button:not(.embedded)").click()]);
  return new URL(page.url()).pathname.split("/").pop();
}

async function learner(opts, out) {
  const { context, close, errors } = await launch({ locale: "nb-NO", viewport: { width: 360, height: 740 } });
  try {
    const page = await context.newPage();
    await page.goto(opts.platformUrl + "/?lang=nb");
    out.learnerLaunch = await startFromLms(page, opts, opts.learner, true);
    const frame = await playerFrame(page);
    const course = opts.course; // with the answer key: the tool serves none to the browser
    const lessons = lessonsOf(course);
    for (let guard = 0; guard < 200; guard++) {
      const li = await lessonIndex(frame);
      if (li >= lessons.length) break;
      for (const block of lessons[li].blocks) await doBlock(frame, block, {});
      await frame.locator("#next").click();
    }
    await waitFor(() => frame.evaluate(() => window.SMEB.debug.pending() === 0), "the events to reach the tool");
    out.outcome = await frame.evaluate(() => window.SMEB.debug.outcome());
    const link = frame.locator("#certificate-link");
    out.linkText = await link.textContent();
    await Promise.all([page.waitForURL(/\/certificate$/, { timeout: 60000 }), link.click()]);
    out.pdf = await page.locator("#certificate-pdf").getAttribute("href");
    out.verify = await page.locator("#certificate-verify").getAttribute("href");
    out.linkedin = await page.locator("#certificate-linkedin").getAttribute("href");
    await axe(page, "certificate page nb 360", out);
    await page.goto(out.verify);
    await page.waitForFunction(() => Number(document.body.dataset.done || 0) >= 1, null, { timeout: 60000 });
    out.verification = await page.evaluate(() => ({
      signature: document.getElementById("signature-status").dataset.state,
      live: document.getElementById("live-status").dataset.state,
      learner: document.getElementById("learner").textContent,
    }));
    out.learnerErrors = errors.slice();
  } finally {
    await close();
  }
}

async function instructor(opts, out) {
  out.dashboards = [];
  for (const lang of ["nb", "en"]) {
    for (const width of [360, 1280]) {
      const { context, close, errors } = await launch({ locale: lang === "nb" ? "nb-NO" : "en-GB", viewport: { width, height: 900 } });
      try {
        const page = await context.newPage();
        await page.goto(opts.platformUrl + "/?lang=" + lang);
        const launchId = await startFromLms(page, opts, opts.instructor, false);
        const response = await page.goto(`${opts.toolUrl}/app/${launchId}/dashboard`);
        const row = page.locator("ul.people > li", { hasText: opts.learnerName });
        const seen = {
          lang: await page.evaluate(() => document.documentElement.lang),
          width, status: response.status(),
          rowStatus: (await row.count()) ? await row.getAttribute("data-status") : null,
          certificate: (await row.count()) ? (await row.locator("dd.certificate").textContent()).trim() : null,
          charts: await page.locator("svg.chart[role=img]").count(),
          overflowX: await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1),
        };
        // open the data tables, so axe checks them too
        for (const d of await page.locator("details").all()) await d.evaluate((el) => { el.open = true; });
        await axe(page, `dashboard ${lang} ${width}`, out);
        seen.errors = errors.slice();
        out.dashboards.push(seen);
      } finally {
        await close();
      }
    }
  }
}

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const out = { violations: [], scans: [] };
  await learner(opts, out);
  await instructor(opts, out);
  process.stdout.write(JSON.stringify(out));
}
main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
