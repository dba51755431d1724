// Shared pieces of the Moodle drivers: a desktop chromium (tests/e2e/js/lib.js launches it), logging in
// as a Moodle user, screenshots for docs/img/moodle/, and the driver's main() wrapper (options as JSON in
// argv[2], one JSON result line on stdout, everything else on stderr).
"use strict";
const fs = require("fs");
const path = require("path");
const lib = require("../../js/lib.js");

const VIEWPORT = { width: 1280, height: 800 };

/** A chromium context at 1280x800 (English UI); options: {chromium, args: extra chromium flags}. */
async function browser(opts) {
  return lib.launch({ chromium: opts && opts.chromium, viewport: VIEWPORT, locale: "en-GB" });
}

/** Log in on Moodle's login form. Moodle 5.0 may refuse a login typed before the page settled: wait for the
 * network to go idle first, and try a second time if the form comes back. */
async function login(page, base, username, password) {
  for (let attempt = 1; attempt <= 3; attempt++) {
    await page.goto(base + "/login/index.php", { waitUntil: "networkidle" });
    if (!(await page.locator("#username").count())) {
      // Someone is logged in already in this context: log out, then log in as the one asked for.
      await logout(page, base);
      continue;
    }
    await page.fill("#username", username);
    await page.fill("#password", password);
    await Promise.all([page.waitForLoadState("networkidle"), page.click("#loginbtn")]);
    await page.waitForLoadState("networkidle");
    if (!page.url().includes("/login/index.php")) return;
    const error = await page.locator(".loginerrors, .alert-danger, #loginerrormessage").first().textContent().catch(() => "");
    log(`login attempt ${attempt} as ${username} stayed on the login page: ${(error || "").trim()}`);
  }
  throw new Error(`could not log in to Moodle as ${username}`);
}

async function logout(page, base) {
  const sesskey = await page.evaluate(() => (window.M && M.cfg && M.cfg.sesskey) || null);
  if (sesskey) await page.goto(`${base}/login/logout.php?sesskey=${sesskey}`, { waitUntil: "networkidle" });
}

/** Screenshot of the viewport into opts.shots/<name>.png (when the caller asked for screenshots). */
async function shot(page, opts, name, options) {
  if (!opts.shots) return null;
  fs.mkdirSync(opts.shots, { recursive: true });
  const file = path.join(opts.shots, name + ".png");
  await page.screenshot({ path: file, fullPage: false, ...(options || {}) });
  return file;
}

/** Screenshot of one element (a dialog, a card) with a margin. */
async function shotOf(page, opts, name, locator, margin) {
  if (!opts.shots) return null;
  const box = await locator.boundingBox();
  if (!box) return shot(page, opts, name);
  const m = margin === undefined ? 16 : margin;
  const x = Math.max(0, box.x - m), y = Math.max(0, box.y - m);
  const clip = { x, y, width: Math.min(VIEWPORT.width - x, box.width + 2 * m), height: Math.min(VIEWPORT.height - y, box.height + 2 * m) };
  return shot(page, opts, name, { clip });
}

function log(message) {
  process.stderr.write(`[${new Date().toISOString()}] ${message}\n`);
}

/** Run body(opts) with the JSON options of argv[2]; print its result as one JSON line; exit 1 with the stack. */
function main(body) {
  const opts = JSON.parse(process.argv[2] || "{}");
  body(opts).then(
    (result) => { process.stdout.write(JSON.stringify(result === undefined ? {} : result) + "\n"); process.exit(0); },
    (error) => { process.stderr.write((error && error.stack) || String(error)); process.stderr.write("\n"); process.exit(1); },
  );
}

/** Course page in edit mode (the navbar switch, as a teacher turns it on). */
async function editMode(page, base, courseId) {
  await page.goto(`${base}/course/view.php?id=${courseId}`, { waitUntil: "networkidle" });
  const adders = page.locator("button[data-action=open-addingcontent], button[data-action=open-chooser]");
  if (await adders.count()) return;
  const toggle = page.locator("input[name=setmode]");
  await Promise.all([page.waitForNavigation({ waitUntil: "networkidle" }), toggle.click()]);
  await adders.first().waitFor({ state: "attached", timeout: 30000 });
}

/** Moodle 5.0: the "+" (Add content) at the end of section 1, then "Activity or resource" in its menu. */
async function openChooser(page) {
  const direct = page.locator("button[data-action=open-chooser]:visible");
  if (await direct.count()) {
    await direct.first().click();
  } else {
    const plus = page.locator("#section-1 button[data-action=open-addingcontent]:visible, button[data-action=open-addingcontent]:visible");
    await plus.last().scrollIntoViewIfNeeded();
    await plus.last().click();
    await page.locator(".dropdown-menu.show button[data-action=open-chooser]").click();
  }
  const modal = page.locator("[data-region=chooser-container]");
  await modal.locator("[data-region=chooser-option-container]").first().waitFor({ timeout: 30000 });
  // The modal's open animation: let it settle before reading or taking a picture.
  await page.waitForTimeout(500);
  return modal;
}

/** On failure, keep a screenshot and the page's text for the report (opts.debugDir). */
async function withDebug(page, opts, label, fn) {
  try {
    return await fn();
  } catch (error) {
    if (opts.debugDir) {
      fs.mkdirSync(opts.debugDir, { recursive: true });
      const base = path.join(opts.debugDir, label.replace(/[^a-z0-9-]+/gi, "-"));
      await page.screenshot({ path: base + ".png" }).catch(() => {});
      const text = await page.evaluate(() => document.body && document.body.innerText).catch(() => "");
      fs.writeFileSync(base + ".txt", page.url() + "\n\n" + text);
      error.message += ` (page ${page.url()}; screenshot ${base}.png)`;
    }
    throw error;
  }
}

module.exports = { browser, login, logout, editMode, openChooser, shot, shotOf, log, main, withDebug, VIEWPORT, lib };
