// An embedded LTI launch in Chromium with third-party cookies blocked, shared by the demo-LMS test
// (tests/smeb_lti/lti/js/embedded_new_window.js) and the Moodle test (tests/e2e/moodle/js/cookieless-launch.js):
// open an LMS activity page that embeds the tool in a cross-site iframe, wait for the tool's
// "Open in a new window" link inside the frame, click it as a learner would and wait until the new
// window has received the player page.
//
// Pages are recognised by the document responses the browser received, not by polling frame.url():
// the tool's frame hops between sites, and under load playwright's frame tree can lag behind.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");
const { FLAGS } = require("./lib.js");

const TIMEOUT = 120000; // generous: the whole suite may load both cores

/** A persistent chromium context with Chromium's own "Block third-party cookies" setting on, as a user sets it. */
async function launchBlockingThirdPartyCookies(opts) {
  const dir = path.join(opts.userDataDir, "Default");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "Preferences"), JSON.stringify({ profile: { cookie_controls_mode: 1, block_third_party_cookies: true } }));
  return chromium.launchPersistentContext(opts.userDataDir, {
    executablePath: opts.chromium || "/usr/bin/chromium",
    headless: true,
    args: [...FLAGS, "--test-third-party-cookie-phaseout"],
    viewport: opts.viewport || { width: 1280, height: 800 },
    locale: opts.locale || "nb-NO",
  });
}

function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("timed out waiting for " + what)), TIMEOUT); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * In ``page`` (of ``context``), open opts.url, an LMS page embedding the tool in opts.frame, and follow the tool's
 * new-window link to the player (opts.expect, default "/play/"). Fills and returns
 * {navigations, fallback: {href, text}, thirdPartyCookiesBlocked, player: {url, status}, popup}; throws when stuck,
 * with what happened so far in error.result.
 */
async function embeddedLaunchViaNewWindow(context, page, opts) {
  const expect = opts.expect || "/play/";
  const out = { navigations: [], fallback: null, thirdPartyCookiesBlocked: null, player: null, popup: null };
  const waiters = [];
  const inFlight = new Set();
  // documents, styles, scripts, images: what the tool's server answers from files (the player's own API polls
  // are fetch/xhr and may stay open, so they are not waited for)
  const FILES = new Set(["document", "stylesheet", "script", "image", "font", "media"]);
  context.on("request", (request) => { if (FILES.has(request.resourceType())) inFlight.add(request); });
  context.on("requestfinished", (request) => inFlight.delete(request));
  context.on("requestfailed", (request) => inFlight.delete(request));
  context.on("response", (response) => {
    const request = response.request();
    if (!request.isNavigationRequest()) return;
    let from = null;
    try { from = request.frame().page(); } catch (e) { from = null; } // a popup's first navigation may precede its frame
    const entry = { method: request.method(), url: response.url(), status: response.status(), newWindow: from !== page };
    out.navigations.push(`${entry.newWindow ? "new window" : "LMS page"}: ${entry.method} ${entry.url} ${entry.status}`);
    for (const w of waiters.slice()) if (w.test(entry)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(entry); }
  });
  try {
    await page.goto(opts.url);
    const frame = page.frameLocator(opts.frame || "iframe");
    const link = frame.locator("#new-window");
    await link.waitFor({ state: "visible", timeout: TIMEOUT });
    out.fallback = { href: await link.getAttribute("href"), text: await frame.locator("body").innerText() };
    // Is the tool's frame really cut off from its cookies? (document.hasStorageAccess(): false when blocked)
    out.thirdPartyCookiesBlocked = !(await frame.locator("body").evaluate(() => document.hasStorageAccess()));
    // the player, or an error page in the new window (the LMS's or the tool's: a dead end, no need to wait longer)
    const arrived = new Promise((resolve) => waiters.push({
      test: (e) => e.newWindow && (e.url.includes(expect) || e.status >= 400),
      resolve,
    }));
    const [popup] = await Promise.all([context.waitForEvent("page", { timeout: TIMEOUT }), link.click()]);
    out.popup = popup;
    const reached = await within(arrived, "the player in the new window");
    if (!reached.url.includes(expect)) throw new Error("the new window ended at " + reached.url + " " + reached.status);
    out.player = { url: reached.url, status: reached.status };
    // let the player's assets finish loading before the browser may go away (no response cut off mid-way;
    // the player polls, so "networkidle" never comes: wait until no file request is in flight for a moment)
    await popup.waitForLoadState("load", { timeout: TIMEOUT });
    const deadline = Date.now() + 30000;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      if (inFlight.size) quietSince = Date.now();
      else if (Date.now() - quietSince > 500) break;
      await popup.waitForTimeout(50);
    }
    return out;
  } catch (error) {
    error.result = out;
    throw error;
  }
}

module.exports = { launchBlockingThirdPartyCookies, embeddedLaunchViaNewWindow, TIMEOUT };
