// The zero-knowledge journal, in the learner's browser. Nothing readable leaves this page:
//   data key  = random AES-GCM-256 key (WebCrypto), held in memory only while unlocked
//   entry     = AES-GCM(data key, random 96-bit IV, JSON {title, body} padded to 256-byte steps,
//                       AAD = entry id + kind + prompt id, so the server cannot swap ciphertexts)
//   keyring   = AES-KW(PBKDF2-SHA256(passphrase, salt, >= 600,000), data key)
//             + AES-KW(PBKDF2-SHA256(recovery code, another salt, same), data key)
// The server gets base64url of ciphertext, IVs, salts, iteration counts and wrapped keys; see docs/journal.md.
"use strict";
(function () {
  const root = document.getElementById("journal-app");
  const API = root.dataset.api;
  const TOKEN = root.dataset.token;
  const TOKEN_HEADER = root.dataset.tokenHeader;
  const ITERATIONS = Math.max(600000, Number(root.dataset.iterations) || 0);
  const NB = document.documentElement.lang === "nb";
  const enc = new TextEncoder();
  const dec = new TextDecoder("utf-8", { fatal: true });
  const T = NB ? {
    wrongPass: "Feil passordfrase. Prøv igjen, eller bruk gjenopprettingskoden.",
    wrongCode: "Gjenopprettingskoden passer ikke. Sjekk at du har skrevet den av riktig.",
    mismatch: "Passordfrasene er ikke like.",
    tooShort: "Passordfrasen må ha minst 10 tegn.",
    saved: "Lagret (kryptert).",
    deleted: "Slettet.",
    unreadable: "Dette notatet kunne ikke dekrypteres: det er endret eller skadet etter at du lagret det. Ingenting er overskrevet.",
    conflict: "Notatet er endret et annet sted (en annen fane?). Ingenting er overskrevet. Last siden på nytt for å se siste versjon.",
    changed: "Passordfrasen er byttet. Notatene er de samme; bare nøkkelen er pakket inn på nytt.",
    unlockedWithCode: "Låst opp med gjenopprettingskoden. Velg gjerne en ny passordfrase under «Nøkler og eksport».",
    confirmDelete: "Slette notatet for godt?",
    untitled: "(uten tittel)",
    edit: "Rediger", del: "Slett", answer: "Svar på", created: "Skrevet", updated: "endret",
    exportTitle: "Refleksjonsjournal", noEntries: "Ingen notater ennå.", failed: "Det gikk ikke: ",
    working: "Arbeider … (nøkkelen lages med 600 000 runder, det tar noen sekunder)",
    locked: "Journalen er låst.",
  } : {
    wrongPass: "Wrong passphrase. Try again, or use your recovery code.",
    wrongCode: "The recovery code does not fit. Check that you copied it correctly.",
    mismatch: "The passphrases do not match.",
    tooShort: "The passphrase needs at least 10 characters.",
    saved: "Saved (encrypted).",
    deleted: "Deleted.",
    unreadable: "This entry could not be decrypted: it was changed or damaged after you saved it. Nothing was overwritten.",
    conflict: "This entry was changed elsewhere (another tab?). Nothing was overwritten. Reload the page to see the latest version.",
    changed: "Passphrase changed. Your entries are the same; only the key was wrapped again.",
    unlockedWithCode: "Unlocked with the recovery code. Consider choosing a new passphrase under “Keys and export”.",
    confirmDelete: "Delete this entry for good?",
    untitled: "(untitled)",
    edit: "Edit", del: "Delete", answer: "Answer to", created: "Written", updated: "edited",
    exportTitle: "Reflection journal", noEntries: "No entries yet.", failed: "That did not work: ",
    working: "Working … (the key takes 600,000 rounds, a few seconds)",
    locked: "The journal is locked.",
  };

  let dataKey = null; // CryptoKey while unlocked
  let keyring = null; // the server's copy (wrapped keys), with its version
  let entries = []; // [{meta from server, plain: {title, body} | null}]
  let editing = null; // id of the free entry in the entry form

  // -- bytes ---------------------------------------------------------------------------------
  function b64u(bytes) {
    let s = "";
    new Uint8Array(bytes).forEach((b) => { s += String.fromCharCode(b); });
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function unb64u(text) {
    const s = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function random(n) { return crypto.getRandomValues(new Uint8Array(n)); }

  // -- keys ----------------------------------------------------------------------------------
  async function kek(secret, salt, iterations) {
    const base = await crypto.subtle.importKey("raw", enc.encode(secret.normalize("NFC")), "PBKDF2", false, ["deriveKey"]);
    return crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base,
      { name: "AES-KW", length: 256 }, false, ["wrapKey", "unwrapKey"]);
  }
  async function wrapWith(secret, key) {
    const salt = random(16);
    const wrapped = await crypto.subtle.wrapKey("raw", key, await kek(secret, salt, ITERATIONS), "AES-KW");
    return { kdf: { name: "PBKDF2-SHA256", iterations: ITERATIONS, salt: b64u(salt) }, wrappedKey: b64u(wrapped) };
  }
  async function unwrapWith(secret, w) {
    const k = await kek(secret, unb64u(w.kdf.salt), w.kdf.iterations);
    // AES-KW has its own integrity check: a wrong secret fails here (OperationError), never yields a wrong key.
    return crypto.subtle.unwrapKey("raw", unb64u(w.wrappedKey), k, "AES-KW", { name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
  }
  // Crockford base32 of 160 random bits, in groups of four: easy to read aloud and to type back.
  const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  function newRecoveryCode() {
    const bytes = random(20);
    let bits = 0, value = 0, out = "";
    bytes.forEach((b) => {
      value = (value << 8) | b; bits += 8;
      while (bits >= 5) { out += ALPHABET[(value >>> (bits - 5)) & 31]; bits -= 5; }
    });
    return out.match(/.{4}/g).join("-");
  }
  function normalizeCode(text) {
    return text.toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1").replace(/[^0-9A-Z]/g, "").match(/.{1,4}/g)?.join("-") || "";
  }

  // -- entries -------------------------------------------------------------------------------
  function aad(id, kind, blockId) { return enc.encode(`smeb-journal/v1\n${id}\n${kind}\n${blockId || ""}`); }
  async function seal(id, kind, blockId, plain) {
    let bytes = enc.encode(JSON.stringify(plain));
    const padded = new Uint8Array(Math.ceil((bytes.length + 1) / 256) * 256).fill(32); // pad with spaces: length tells little
    padded.set(bytes);
    bytes = padded;
    const iv = random(12);
    const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad(id, kind, blockId) }, dataKey, bytes);
    return { iv: b64u(iv), ciphertext: b64u(ct) };
  }
  async function open(meta) {
    try {
      const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64u(meta.iv), additionalData: aad(meta.id, meta.kind, meta.blockId) },
        dataKey, unb64u(meta.ciphertext));
      const plain = JSON.parse(dec.decode(pt));
      return { title: String(plain.title || ""), body: String(plain.body || "") };
    } catch (e) {
      return null; // tampered, truncated or swapped: shown as unreadable, never re-saved
    }
  }

  // -- server --------------------------------------------------------------------------------
  async function api(method, path, body) {
    const init = { method, headers: { [TOKEN_HEADER]: TOKEN }, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    const res = await fetch(API + path, init);
    let data = null;
    if (res.status !== 204) data = await res.json().catch(() => null);
    return { status: res.status, data };
  }
  function problem(r) {
    if (r.status === 409) return T.conflict;
    return T.failed + ((r.data && r.data.message) || ("HTTP " + r.status));
  }

  // -- UI ------------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  function show(section) {
    ["setup", "recovery", "unlock", "journal"].forEach((s) => { $(s).hidden = s !== section; });
  }
  function say(text) { $("alert").textContent = ""; $("status").textContent = text; }
  function warn(text) { $("status").textContent = ""; $("alert").textContent = text; }
  function busy(form, on) { form.querySelectorAll("button, input, textarea").forEach((el) => { el.disabled = on; }); }

  async function loadEntries() {
    const r = await api("GET", "/entries");
    if (r.status !== 200) { warn(problem(r)); return; }
    entries = [];
    for (const meta of r.data.entries) entries.push({ meta, plain: await open(meta) });
    render();
  }

  function fmt(iso) {
    try { return new Date(iso).toLocaleString(NB ? "nb-NO" : "en-GB", { dateStyle: "medium", timeStyle: "short" }); } catch (e) { return iso; }
  }

  function render() {
    // Prompt answers: fill each prompt's form from its (decrypted) entry.
    document.querySelectorAll("form.prompt").forEach((form) => {
      const e = entries.find((x) => x.meta.kind === "reflection" && x.meta.blockId === form.dataset.block);
      const area = form.querySelector("textarea");
      const note = form.querySelector(".note");
      note.textContent = "";
      area.disabled = false; form.querySelector("button").disabled = false;
      if (e && e.plain) { area.value = e.plain.body; }
      else if (e) { area.value = ""; area.disabled = true; form.querySelector("button").disabled = true; note.textContent = T.unreadable; }
    });
    const list = $("entries");
    list.textContent = "";
    const free = entries.filter((x) => x.meta.kind === "entry" || !document.querySelector(`form.prompt[data-block="${x.meta.blockId}"]`));
    if (!free.length) { const li = document.createElement("li"); li.textContent = T.noEntries; list.appendChild(li); }
    for (const e of free) {
      const li = document.createElement("li");
      li.className = "entry";
      li.dataset.entry = e.meta.id;
      const h = document.createElement("h3");
      const when = document.createElement("p");
      when.className = "when";
      when.textContent = `${T.created} ${fmt(e.meta.createdAt)}` + (e.meta.version > 1 ? `, ${T.updated} ${fmt(e.meta.updatedAt)}` : "");
      if (e.plain) {
        h.textContent = e.plain.title || (e.meta.blockId ? `${T.answer} ${e.meta.blockId}` : T.untitled);
        const body = document.createElement("p");
        body.className = "body";
        body.textContent = e.plain.body;
        li.append(h, when, body);
      } else {
        h.textContent = T.untitled;
        const bad = document.createElement("p");
        bad.className = "unreadable";
        bad.textContent = T.unreadable;
        li.append(h, when, bad);
      }
      const actions = document.createElement("div");
      actions.className = "actions";
      if (e.plain && e.meta.kind === "entry") {
        const edit = document.createElement("button");
        edit.type = "button"; edit.textContent = T.edit; edit.dataset.action = "edit";
        edit.setAttribute("aria-label", `${T.edit}: ${h.textContent}`);
        edit.addEventListener("click", () => startEdit(e));
        actions.appendChild(edit);
      }
      const del = document.createElement("button");
      del.type = "button"; del.textContent = T.del; del.dataset.action = "delete";
      del.setAttribute("aria-label", `${T.del}: ${h.textContent}`);
      del.addEventListener("click", () => remove(e));
      actions.appendChild(del);
      li.appendChild(actions);
      list.appendChild(li);
    }
  }

  function startEdit(e) {
    editing = e.meta.id;
    $("entry-title").value = e.plain.title;
    $("entry-body").value = e.plain.body;
    $("entry-cancel").hidden = false;
    $("entry-title").focus();
  }
  function stopEdit() {
    editing = null;
    $("entry-form").reset();
    $("entry-cancel").hidden = true;
  }

  async function save(kind, blockId, existing, plain) {
    if (existing) {
      const sealed = await seal(existing.meta.id, existing.meta.kind, existing.meta.blockId, plain);
      return api("PUT", "/entries/" + existing.meta.id, { version: existing.meta.version, ...sealed });
    }
    const id = crypto.randomUUID();
    const sealed = await seal(id, kind, blockId, plain);
    const body = { id, kind, iv: sealed.iv, ciphertext: sealed.ciphertext };
    if (blockId) body.blockId = blockId;
    return api("POST", "/entries", body);
  }

  async function remove(e) {
    if (!window.confirm(T.confirmDelete)) return;
    const r = await api("DELETE", "/entries/" + e.meta.id, { version: e.meta.version });
    if (r.status === 204) { if (editing === e.meta.id) stopEdit(); await loadEntries(); say(T.deleted); }
    else warn(problem(r));
  }

  async function unlocked(key, note) {
    dataKey = key;
    show("journal");
    await loadEntries();
    say(note || "");
    $("journal-heading").focus();
  }

  async function start() {
    const r = await api("GET", "/keyring");
    if (r.status === 404) { show("setup"); return; }
    if (r.status !== 200) { warn(problem(r)); return; }
    keyring = r.data;
    show("unlock");
  }

  // set-up: passphrase, then the recovery code shown once
  let pendingCode = null;
  $("setup-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const pass = $("setup-pass").value, again = $("setup-pass2").value;
    if (pass.length < 10) { warn(T.tooShort); return; }
    if (pass !== again) { warn(T.mismatch); return; }
    busy(form, true); say(T.working);
    try {
      const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
      pendingCode = newRecoveryCode();
      const body = { version: 0, passphrase: await wrapWith(pass, key), recovery: await wrapWith(pendingCode, key) };
      const res = await api("PUT", "/keyring", body);
      if (res.status !== 201) { warn(problem(res)); return; }
      keyring = res.data;
      dataKey = key;
      form.reset();
      $("recovery-code").textContent = pendingCode;
      show("recovery");
      say("");
      $("recovery-heading").focus();
    } finally { busy(form, false); }
  });
  $("print-code").addEventListener("click", () => window.print());
  $("recovery-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("recovery-code").textContent = ""; // shown once: gone from the page when the learner moves on
    pendingCode = null;
    await unlocked(dataKey);
  });

  $("unlock-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    busy(form, true); say(T.working);
    try {
      const key = await unwrapWith($("unlock-pass").value, keyring.passphrase).catch(() => null);
      if (!key) { warn(T.wrongPass); return; }
      form.reset();
      await unlocked(key);
    } finally { busy(form, false); }
  });
  $("code-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    busy(form, true); say(T.working);
    try {
      const key = await unwrapWith(normalizeCode($("unlock-code").value), keyring.recovery).catch(() => null);
      if (!key) { warn(T.wrongCode); return; }
      form.reset();
      await unlocked(key, T.unlockedWithCode);
    } finally { busy(form, false); }
  });

  document.querySelectorAll("form.prompt").forEach((form) => {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const blockId = form.dataset.block;
      const existing = entries.find((x) => x.meta.kind === "reflection" && x.meta.blockId === blockId);
      if (existing && !existing.plain) { warn(T.unreadable); return; }
      busy(form, true);
      try {
        const r = await save("reflection", blockId, existing, { title: form.dataset.prompt, body: form.querySelector("textarea").value });
        if (r.status === 200 || r.status === 201) { await loadEntries(); say(T.saved); } else warn(problem(r));
      } finally { busy(form, false); render(); }
    });
  });

  $("entry-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const existing = editing ? entries.find((x) => x.meta.id === editing) : null;
    busy(form, true);
    try {
      const r = await save("entry", null, existing, { title: $("entry-title").value, body: $("entry-body").value });
      if (r.status === 200 || r.status === 201) { stopEdit(); await loadEntries(); say(T.saved); } else warn(problem(r));
    } finally { busy(form, false); }
  });
  $("entry-cancel").addEventListener("click", stopEdit);

  $("export").addEventListener("click", () => {
    const lines = [`# ${T.exportTitle}`, "", `${new Date().toISOString()}`, ""];
    for (const e of entries) {
      lines.push(`## ${e.plain ? (e.plain.title || T.untitled) : T.untitled}`, "", `_${T.created} ${e.meta.createdAt}_`, "");
      lines.push(e.plain ? e.plain.body : T.unreadable, "");
    }
    const url = URL.createObjectURL(new Blob([lines.join("\n")], { type: "text/markdown;charset=utf-8" }));
    const a = document.createElement("a");
    a.href = url; a.download = `smeb-journal-${new Date().toISOString().slice(0, 10)}.md`;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  });

  $("change-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const pass = $("new-pass").value, again = $("new-pass2").value;
    if (pass.length < 10) { warn(T.tooShort); return; }
    if (pass !== again) { warn(T.mismatch); return; }
    busy(form, true); say(T.working);
    try {
      // Re-wrap only: the data key and every entry stay as they are.
      const r = await api("PUT", "/keyring", { version: keyring.version, passphrase: await wrapWith(pass, dataKey) });
      if (r.status !== 200) { warn(problem(r)); return; }
      keyring = r.data;
      form.reset();
      say(T.changed);
    } finally { busy(form, false); }
  });

  $("lock").addEventListener("click", () => {
    dataKey = null; entries = []; stopEdit(); render();
    document.querySelectorAll("form.prompt textarea").forEach((t) => { t.value = ""; });
    show("unlock"); say(T.locked);
  });

  start().catch((e) => warn(T.failed + e));
})();
