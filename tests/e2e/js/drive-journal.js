// Drives the zero-knowledge journal in Debian's chromium like a learner (keyboard for the set-up), records
// every request the browser sends (URL + body) and runs axe-core on each state of the page.
// Usage: node drive-journal.js '{"url": "http://127.0.0.1:PORT/app/<launch>/journal", "locale": "nb-NO",
//                                "marker": "...", "passphrase": "...", "newPassphrase": "...", "full": true}'
// Prints JSON: {requests, readBack, exportText, tamper, violations, scans, errors, ...}.
"use strict";
const fs = require("fs");
const { launch, axeViolations } = require("./lib");

const SLOW = 180000; // PBKDF2 with 600,000 rounds on a busy 2-core machine: bound a hang, not a measurement
const TEXT = {
  nb: { saved: "Lagret", wrong: "Feil passordfrase", code: "Låst opp med gjenopprettingskoden", changed: "Passordfrasen er byttet", deleted: "Slettet" },
  en: { saved: "Saved", wrong: "Wrong passphrase", code: "Unlocked with the recovery code", changed: "Passphrase changed", deleted: "Deleted" },
};

async function scan(page, where, out) {
  const result = await axeViolations(page);
  out.scans.push(where);
  result.forEach((v) => out.violations.push({ where, ...v }));
}

async function clearStatus(page) {
  await page.evaluate(() => { document.getElementById("status").textContent = ""; document.getElementById("alert").textContent = ""; });
}

async function waitStatus(page, start, timeout) {
  await page.waitForFunction((s) => document.getElementById("status").textContent.startsWith(s), start, { timeout: timeout || SLOW });
}

async function visibleText(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll("#entries li")).map((li) => li.innerText).join("\n---\n"));
}

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const lang = opts.locale.startsWith("nb") ? "nb" : "en";
  const t = TEXT[lang];
  const { context, close, errors } = await launch({ locale: opts.locale });
  const out = { requests: [], violations: [], scans: [], readBack: {}, errors };
  context.on("request", (r) => out.requests.push({ method: r.method(), url: r.url(), body: r.postData() || "" }));
  try {
    const page = await context.newPage();
    page.on("dialog", (d) => d.accept());
    if (opts.hosts) {
      // LMS pages on another origin that frame the journal: does the journal render inside (frame-ancestors)?
      out.framed = [];
      for (const host of opts.hosts) {
        await page.goto(host);
        await page.waitForLoadState("load");
        // A blocked frame is swapped for an error document (and may lose its name): go through the element.
        let frame = null;
        for (let i = 0; i < 100 && !frame; i++) {
          frame = await (await page.locator("iframe[name=course]").elementHandle()).contentFrame();
          if (!frame) await page.waitForTimeout(100);
        }
        if (frame) await frame.waitForLoadState("load").catch(() => null);
        const rendered = frame ? await frame.evaluate(() => !!document.getElementById("journal-app")).catch(() => false) : false;
        out.framed.push({ host, rendered, frameUrl: frame ? frame.url() : null });
      }
      out.errors = errors.filter((e) => !e.includes("frame-ancestors"));
      out.frameAncestorErrors = errors.filter((e) => e.includes("frame-ancestors")).length;
      process.stdout.write(JSON.stringify(out));
      return;
    }
    await page.goto(opts.url);
    await page.locator("#setup").waitFor({ state: "visible", timeout: SLOW });
    out.lang = await page.evaluate(() => document.documentElement.lang);
    await scan(page, "set-up", out);

    // Set-up with the keyboard only: type, Tab, type, Tab, Space on the checkbox, Tab, Enter on the button.
    await page.locator("#setup-pass").focus();
    await page.keyboard.type(opts.passphrase);
    await page.keyboard.press("Tab");
    await page.keyboard.type(opts.passphrase);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Space");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.locator("#recovery").waitFor({ state: "visible", timeout: SLOW });
    const code = (await page.locator("#recovery-code").textContent()).trim();
    out.codeShape = code.replace(/[0-9A-Z]/g, "x");
    await scan(page, "recovery code", out);
    await page.locator("#recovery-kept").check();
    await page.locator("#recovery-form button[type=submit]").click();
    await page.locator("#journal").waitFor({ state: "visible", timeout: SLOW });
    out.codeGone = (await page.locator("#recovery-code").textContent()) === "";

    // A prompt answer and a free entry, both carrying the marker.
    const prompt = page.locator("form.prompt").first();
    out.promptCount = await page.locator("form.prompt").count();
    if (out.promptCount) {
      await clearStatus(page);
      await prompt.locator("textarea").fill(`${opts.marker} svar på spørsmålet`);
      await prompt.locator("button[type=submit]").click();
      await waitStatus(page, t.saved);
    }
    await clearStatus(page);
    await page.locator("#entry-title").fill(`Tittel ${opts.marker}`);
    await page.locator("#entry-body").fill(`${opts.marker}\nAndre linje: «æøå» & <b>ikke html</b>`);
    await page.locator("#entry-form button[type=submit]").click();
    await waitStatus(page, t.saved);
    out.readBack.afterWrite = await visibleText(page);
    out.boldElements = await page.locator("#entries b").count();
    await scan(page, "journal open", out);
    // Touch targets (our rule, WCAG 2.5.5): every visible button is at least 44 x 44 CSS px at 360 px wide.
    out.smallTargets = (out.smallTargets || []).concat(await page.evaluate(() => Array.from(document.querySelectorAll("button, summary, select, input[type=text], input[type=password], textarea"))
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ el: el.outerHTML.slice(0, 80), w: el.getBoundingClientRect().width, h: el.getBoundingClientRect().height }))
      .filter((r) => r.h < 44 || r.w < 44)));
    out.overflow = (out.overflow || 0) + (await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth ? 1 : 0));

    if (opts.full) {
      // edit (re-encrypt, version 2)
      await page.locator("#entries [data-action=edit]").first().click();
      await clearStatus(page);
      await page.locator("#entry-body").fill(`${opts.marker} redigert`);
      await page.locator("#entry-form button[type=submit]").click();
      await waitStatus(page, t.saved);
      out.readBack.afterEdit = await visibleText(page);

      // a second entry, deleted again
      await clearStatus(page);
      await page.locator("#entry-title").fill("Slett meg");
      await page.locator("#entry-body").fill("midlertidig");
      await page.locator("#entry-form button[type=submit]").click();
      await waitStatus(page, t.saved);
      await clearStatus(page);
      await page.locator('#entries li:has-text("Slett meg") [data-action=delete]').click();
      await waitStatus(page, t.deleted);
      out.readBack.afterDelete = await visibleText(page);

      // export, decrypted in the browser, as a file
      const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#export").click()]);
      out.exportName = download.suggestedFilename();
      out.exportText = fs.readFileSync(await download.path(), "utf8");

      // reload: locked; a wrong passphrase is refused; the right one reads the marker back
      await page.reload();
      await page.locator("#unlock").waitFor({ state: "visible", timeout: SLOW });
      await scan(page, "unlock", out);
      await page.locator("#unlock-pass").fill("feil passordfrase her");
      await page.locator("#unlock-form button[type=submit]").click();
      await page.waitForFunction((s) => document.getElementById("alert").textContent.startsWith(s), t.wrong, { timeout: SLOW });
      await page.locator("#unlock-pass").fill(opts.passphrase);
      await page.locator("#unlock-form button[type=submit]").click();
      await page.locator("#journal").waitFor({ state: "visible", timeout: SLOW });
      await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length > 0, null, { timeout: SLOW });
      out.readBack.passphrase = await visibleText(page);
      out.readBack.promptPassphrase = out.promptCount ? await prompt.locator("textarea").inputValue() : "";

      // reload: the recovery code (typed in lower case without dashes) unlocks too
      await page.reload();
      await page.locator("#unlock").waitFor({ state: "visible", timeout: SLOW });
      await page.locator("#unlock summary").click();
      await page.locator("#unlock-code").fill(code.toLowerCase().replace(/-/g, " "));
      await page.locator("#code-form button[type=submit]").click();
      await waitStatus(page, t.code);
      out.readBack.recovery = await visibleText(page);
      out.readBack.promptRecovery = out.promptCount ? await prompt.locator("textarea").inputValue() : "";

      // change the passphrase (re-wrap only), reload, the old one fails, the new one reads the marker
      await clearStatus(page);
      await page.locator("#new-pass").fill(opts.newPassphrase);
      await page.locator("#new-pass2").fill(opts.newPassphrase);
      await page.locator("#change-form button[type=submit]").click();
      await waitStatus(page, t.changed);
      await page.reload();
      await page.locator("#unlock").waitFor({ state: "visible", timeout: SLOW });
      await page.locator("#unlock-pass").fill(opts.passphrase);
      await page.locator("#unlock-form button[type=submit]").click();
      await page.waitForFunction((s) => document.getElementById("alert").textContent.startsWith(s), t.wrong, { timeout: SLOW });
      await page.locator("#unlock-pass").fill(opts.newPassphrase);
      await page.locator("#unlock-form button[type=submit]").click();
      await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length > 0, null, { timeout: SLOW });
      out.readBack.newPassphrase = await visibleText(page);

      // tampered ciphertext (a compromised server or database): the entry is unreadable, nothing is written back
      await page.route("**/journal/api/entries", async (route) => {
        if (route.request().method() !== "GET") return route.continue();
        const response = await route.fetch();
        const body = await response.json();
        const free = body.entries.find((e) => e.kind === "entry");
        const c = free.ciphertext;
        free.ciphertext = c.slice(0, 10) + (c[10] === "A" ? "B" : "A") + c.slice(11);
        out.tamperedId = free.id;
        return route.fulfill({ response, json: body });
      });
      await page.reload();
      await page.locator("#unlock").waitFor({ state: "visible", timeout: SLOW });
      const before = out.requests.length;
      await page.locator("#unlock-pass").fill(opts.newPassphrase);
      await page.locator("#unlock-form button[type=submit]").click();
      await page.waitForFunction(() => document.querySelectorAll("#entries li.entry").length > 0, null, { timeout: SLOW });
      out.tamper = {
        unreadable: await page.locator(`#entries li[data-entry="${out.tamperedId}"] .unreadable`).count(),
        editButtons: await page.locator(`#entries li[data-entry="${out.tamperedId}"] [data-action=edit]`).count(),
        promptStillReadable: out.promptCount ? await prompt.locator("textarea").inputValue() : "",
      };
      await scan(page, "tampered entry shown", out);
      out.tamper.writesAfter = out.requests.slice(before).filter((r) => r.method !== "GET").map((r) => r.method + " " + r.url);
      await page.unroute("**/journal/api/entries");

      await page.locator("#lock").click();
      await page.locator("#unlock").waitFor({ state: "visible", timeout: SLOW });
      out.lockedEntries = await page.locator("#entries li.entry").count();
    }
    // Touch targets (our rule, WCAG 2.5.5): every visible button is at least 44 x 44 CSS px at 360 px wide.
    out.smallTargets = (out.smallTargets || []).concat(await page.evaluate(() => Array.from(document.querySelectorAll("button, summary, select, input[type=text], input[type=password], textarea"))
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ el: el.outerHTML.slice(0, 80), w: el.getBoundingClientRect().width, h: el.getBoundingClientRect().height }))
      .filter((r) => r.h < 44 || r.w < 44)));
    out.overflow = (out.overflow || 0) + (await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth ? 1 : 0));
    out.csp = (await page.evaluate(() => document.querySelectorAll("script:not([src]), [style]").length));
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String((err && err.stack) || err)); process.exit(1); });
