// The operator's usage page and the dashboard's company comparison in Debian's chromium (playwright-core):
// each given URL is opened at its width, checked with axe-core (WCAG 2.1 AA) and read back.
// Usage: node drive-usage.js '{"pages": [{"where", "url", "width", "locale", "headers"?}]}'  → JSON on stdout.
"use strict";
const { launch, axeViolations } = require("./lib");

async function visit(spec, out) {
  const { context, close, errors } = await launch({ locale: spec.locale, viewport: { width: spec.width, height: 800 } });
  try {
    const page = await context.newPage();
    if (spec.headers) await page.setExtraHTTPHeaders(spec.headers);
    const response = await page.goto(spec.url);
    const violations = await axeViolations(page);
    const seen = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      h1: (document.querySelector("h1") || {}).textContent,
      overflowX: document.documentElement.scrollWidth > window.innerWidth + 1,
      usageRows: document.querySelectorAll("#usage tbody tr").length,
      summary: (document.getElementById("usage-summary") || {}).textContent || null,
      comparisonTables: document.querySelectorAll("#comparison table.comparison").length,
      comparisonHeading: (document.getElementById("compare-h") || {}).textContent || null,
      completion: Array.from(document.querySelectorAll('#comparison table[data-quarter] tr[data-metric="completion"] td'))
        .slice(0, 2).map((td) => td.textContent.replace(/\s+/g, " ").trim()),
    }));
    out.pages.push({ where: spec.where, status: response.status(), width: spec.width, errors: errors.slice(), ...seen });
    violations.forEach((v) => out.violations.push({ where: spec.where, ...v }));
  } finally {
    await close();
  }
}

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const out = { pages: [], violations: [] };
  for (const spec of opts.pages) await visit(spec, out);
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
