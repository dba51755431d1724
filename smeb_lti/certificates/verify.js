// Verifies a SMEB certificate in the browser: the signed claims travel in the URL fragment
// (never sent to any server), the issuer's public keys are embedded in the page, and the
// Ed25519 signature is checked with WebCrypto. Only the live status (valid / revoked) needs
// the network; without it the page still says whether the signature is genuine.
// The claims format is documented in smeb_lti/certificates/claims.py (version 1).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const MONTHS = ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember"];

  class Failure extends Error {
    constructor(reason, message) {
      super(message);
      this.reason = reason;
    }
  }

  function bytesOf(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]+$/.test(text) || text.length % 4 === 1) {
      throw new Failure("malformed-payload", "Koden er skadet (ikke base64url).");
    }
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    const binary = atob(b64);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  function parseClaims(payload) {
    let claims;
    try {
      claims = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
    } catch (error) {
      throw new Failure("malformed-payload", "Koden er skadet (ikke lesbare data).");
    }
    if (!Array.isArray(claims) || claims.length !== 11 || claims[0] !== 1) {
      throw new Failure("malformed-payload", "Koden har et ukjent format.");
    }
    const strings = [1, 2, 3, 4, 5, 6, 10].every((i) => typeof claims[i] === "string" && claims[i].length > 0);
    if (!strings || !Array.isArray(claims[8]) || !/^[a-z2-7]{16}$/.test(claims[1])) {
      throw new Failure("malformed-payload", "Koden har et ukjent format.");
    }
    return {
      id: claims[1], courseId: claims[2], course: claims[3], learner: claims[4], issued: claims[5],
      issuer: claims[6], organization: claims[7], competences: claims[8], minutes: claims[9], kid: claims[10],
    };
  }

  async function verifyToken(token, pathId, keys) {
    const parts = (token || "").split(".");
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new Failure("malformed-payload", "Lenken mangler den signerte koden, eller koden er skadet.");
    }
    const payload = bytesOf(parts[0]);
    const signature = bytesOf(parts[1]);
    if (signature.length !== 64) throw new Failure("malformed-payload", "Signaturen har feil lengde.");
    const claims = parseClaims(payload);
    const jwk = keys.find((k) => k.kid === claims.kid && k.kty === "OKP" && k.crv === "Ed25519");
    if (!jwk) throw new Failure("unknown-key", "Beviset er signert med en nøkkel utstederen ikke kjenner.");
    const key = await crypto.subtle.importKey("raw", bytesOf(jwk.x), { name: "Ed25519" }, false, ["verify"]);
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, signature, payload);
    if (!ok) throw new Failure("bad-signature", "Signaturen stemmer ikke: beviset er endret eller forfalsket.");
    if (claims.id !== pathId) throw new Failure("id-mismatch", "Lenken og beviset har forskjellig ID.");
    return claims;
  }

  function dateNb(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return `${d}. ${MONTHS[m - 1]} ${y}`;
  }

  // Same wording as the PDF (pdf.duration_nb), so the two can be compared at a glance.
  function durationNb(minutes) {
    if (typeof minutes !== "number") return "–";
    const hours = Math.floor(minutes / 60), rest = minutes % 60;
    if (!hours) return `${rest} minutter`;
    if (rest) return `${hours} t ${rest} min`;
    return hours === 1 ? "1 time" : `${hours} timer`;
  }

  function show(claims) {
    $("learner").textContent = claims.learner;
    $("course").textContent = claims.course;
    $("issued").textContent = dateNb(claims.issued);
    $("issuer").textContent = claims.organization ? `${claims.issuer} i samarbeid med ${claims.organization}` : claims.issuer;
    $("duration").textContent = durationNb(claims.minutes);
    const list = $("competences");
    list.replaceChildren(...claims.competences.map((tag) => {
      const li = document.createElement("li");
      li.textContent = String(tag);
      return li;
    }));
    $("details").hidden = false;
  }

  function setState(element, state, text) {
    element.dataset.state = state;
    element.textContent = text;
  }

  async function checkStatus(pathId) {
    const live = $("live-status");
    setState(live, "checking", "Sjekker status hos utstederen …");
    try {
      const response = await fetch(`${location.pathname.replace(/\/$/, "")}/status.json`, { cache: "no-store", credentials: "omit" });
      const body = await response.json();
      if (body.status === "revoked") {
        setState(live, "revoked", `Trukket tilbake av utstederen (${body.revoked_on || ""}): ${body.reason || ""}`);
        document.body.dataset.verdict = "revoked";
      } else if (body.status === "valid") {
        setState(live, "valid", "Gyldig: utstederen har ikke trukket beviset tilbake.");
      } else {
        setState(live, "unknown", "Utstederen kjenner ikke dette beviset.");
        document.body.dataset.verdict = "unknown";
      }
    } catch (error) {
      setState(live, "offline", "Fikk ikke kontakt med utstederen: signaturen er sjekket, men ikke om beviset er trukket tilbake.");
    }
  }

  async function run() {
    const pathId = document.body.dataset.certificateId;
    const keys = JSON.parse($("issuer-keys").textContent).keys;
    const signatureStatus = $("signature-status");
    $("details").hidden = true;
    try {
      if (!window.crypto || !crypto.subtle) throw new Failure("no-webcrypto", "Nettleseren kan ikke sjekke signaturer.");
      let token;
      try {
        token = decodeURIComponent(location.hash.slice(1));
      } catch (error) {
        throw new Failure("malformed-payload", "Lenken er skadet.");
      }
      const claims = await verifyToken(token, pathId, keys);
      show(claims);
      setState(signatureStatus, "valid", "Ekte: signaturen fra SMEB AS stemmer.");
      document.body.dataset.verdict = "valid";
    } catch (error) {
      const reason = error instanceof Failure ? error.reason : "error";
      const text = error instanceof Failure ? error.message : "Kunne ikke sjekke signaturen.";
      setState(signatureStatus, reason, text);
      document.body.dataset.verdict = reason;
    }
    await checkStatus(pathId);
    document.body.dataset.done = String(Number(document.body.dataset.done || "0") + 1);
  }

  window.addEventListener("hashchange", run);
  $("recheck").addEventListener("click", run);
  run();
})();
