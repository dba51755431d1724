// Drives the forum in Debian's chromium with the keyboard: choose a profile, open a thread that holds stored
// XSS attempts (seeded by the test), reply, read notifications, open the edit page. Records whether any
// injected script ran (window.pwned, dialogs), every request that left the tool's origin, and axe-core results.
// Usage: node drive-forum.js '{"base": "http://127.0.0.1:PORT/app/<launch>/forum", "thread": 3, "locale": "nb-NO"}'
"use strict";
const { launch, axeViolations } = require("./lib");


async function scan(page, where, out) {
  const result = await axeViolations(page);
  out.scans.push(where);
  result.forEach((v) => out.violations.push({ where, ...v }));
}

async function submitWithKeyboard(page, button) {
  await page.locator(button).focus();
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
}

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const origin = new URL(opts.base).origin;
  const { context, close, errors } = await launch({ locale: opts.locale });
  const out = { violations: [], scans: [], dialogs: [], foreign: [], foreignLoaded: [], errors };
  // Chromium reports a request even when the CSP blocks it: what matters is whether any got a response.
  context.on("request", (r) => { if (!r.url().startsWith(origin)) out.foreign.push(r.url()); });
  context.on("requestfinished", (r) => { if (!r.url().startsWith(origin)) out.foreignLoaded.push(r.url()); });
  context.on("requestfailed", (r) => { if (!r.url().startsWith(origin)) out.foreign.push("failed: " + r.failure().errorText); });
  try {
    const page = await context.newPage();
    page.on("dialog", (d) => { out.dialogs.push(d.message()); d.dismiss(); });
    await page.goto(opts.base);
    out.lang = await page.evaluate(() => document.documentElement.lang);
    await scan(page, "profile form", out);
    await page.locator("#display_name").focus();
    await page.keyboard.type(opts.name);
    await page.locator("#trade").selectOption("elektriker");
    await submitWithKeyboard(page, "#profile-form button[type=submit]");
    out.badge = (await page.locator("#unread").count()) ? await page.locator("#unread").textContent() : null;
    await scan(page, "thread list", out);

    await page.goto(`${opts.base}/threads/${opts.thread}`);
    await page.waitForLoadState("load");
    out.pwned = await page.evaluate(() => window.pwned || null);
    out.bodyText = await page.locator(".post .body").first().innerText();
    out.scriptsInDom = await page.locator("main script, main img[onerror], main [onclick]").count();
    await scan(page, "thread with hostile posts", out);

    await page.locator("#reply-body").focus();
    await page.keyboard.type(opts.reply);
    await submitWithKeyboard(page, "#reply-form button[type=submit]");
    out.afterReply = await page.locator(".post").last().innerText();
    out.pwnedAfterReply = await page.evaluate(() => window.pwned || null);
    const edit = page.locator(".post").last().locator("a[href$='/edit']");
    out.editLinks = await edit.count();
    if (out.editLinks) {
      await edit.click();
      await scan(page, "edit page", out);
    }
    // Touch targets (our rule, WCAG 2.5.5): every visible button is at least 44 x 44 CSS px at 360 px wide.
    out.smallTargets = (out.smallTargets || []).concat(await page.evaluate(() => Array.from(document.querySelectorAll("button, summary, select, input[type=text], input[type=password], textarea"))
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ el: el.outerHTML.slice(0, 80), w: el.getBoundingClientRect().width, h: el.getBoundingClientRect().height }))
      .filter((r) => r.h < 44 || r.w < 44)));
    out.overflow = (out.overflow || 0) + (await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth ? 1 : 0));
    await page.goto(`${opts.base}/notifications`);
    await scan(page, "notifications", out);
    out.notifications = await page.locator("#notes li").count();
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String((err && err.stack) || err)); process.exit(1); });
