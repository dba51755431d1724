"""The public verification page in real Chromium (playwright-core): WebCrypto Ed25519 checks the QR
claims in the browser, also with the network cut after the page loaded; online it shows revocation."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from smeb_lti.certificates.issue import issue_certificate
from smeb_lti.certificates.revocation import revoke_certificate
from smeb_lti.db import migrate, session_scope
from smeb_lti.settings import update_settings
from tests.smeb_lti.certificates.conftest import (
    TENANT,
    make_certificate,
    new_key,
)
from tests.smeb_lti.certificates.test_issue_and_revoke import ADMIN, request
from tests.support.app import dispose, make_app
from tests.support.node import NODE_MODULES, run_node
from tests.support.servers import serving

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.browser

DRIVER = r"""
"use strict";
const fs = require("fs"), os = require("os"), path = require("path");
const { chromium } = require("playwright-core");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

(async () => {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "smeb-cert-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: input.chromium, headless: true, args: FLAGS });
  const out = { steps: {}, csp: [], requestsWhileOffline: [] };
  let offline = false;
  context.on("console", (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) out.csp.push(m.text()); });
  context.on("request", (r) => { if (offline) out.requestsWhileOffline.push(r.url()); });
  try {
    const page = context.pages()[0] || await context.newPage();
    let runs = 0;
    const state = async (name) => {
      runs += 1;
      await page.waitForFunction((n) => Number(document.body.dataset.done || 0) >= n, runs, { timeout: 60000 });
      out.steps[name] = await page.evaluate(() => ({
        signature: document.getElementById("signature-status").dataset.state,
        live: document.getElementById("live-status").dataset.state,
        verdict: document.body.dataset.verdict,
        learner: document.getElementById("learner").textContent,
        course: document.getElementById("course").textContent,
        detailsShown: !document.getElementById("details").hidden,
      }));
    };
    // RFC 8032 section 7.1, test 1: WebCrypto Ed25519 in this Chromium.
    await page.goto(input.base + "/certificates/keys.json");
    out.rfc8032 = await page.evaluate(async () => {
      const hex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));
      const key = await crypto.subtle.importKey("raw", hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"), { name: "Ed25519" }, false, ["verify"]);
      const sig = hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
      return crypto.subtle.verify({ name: "Ed25519" }, key, sig, new Uint8Array(0));
    });

    await page.goto(input.valid);
    runs = 0;
    await state("online-valid");

    // Cut the network: from here on the page cannot reach the server.
    await context.setOffline(true);
    offline = true;
    await page.evaluate((h) => { location.hash = h; }, input.tamperedHash);
    await state("offline-tampered");
    await page.evaluate((h) => { location.hash = h; }, input.strangerHash);
    await state("offline-unknown-key");
    await page.evaluate((h) => { location.hash = h; }, "not-a-token");
    await state("offline-malformed-token");
    await page.evaluate((h) => { location.hash = h; }, "%E0%A4%A");
    await state("offline-malformed");
    await page.evaluate((h) => { location.hash = h; }, input.otherIdHash);
    await state("offline-id-mismatch");
    await page.evaluate((h) => { location.hash = h; }, input.validHash);
    await state("offline-valid");
    offline = false;
    await context.setOffline(false);

    await page.goto(input.revoked);
    runs = 0;
    await state("online-revoked");
    await page.goto(input.unknown);
    runs = 0;
    await state("online-unknown-id");
  } catch (error) {
    out.error = String(error && error.stack || error);
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
})();
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, object]]:
    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    migrate(url)
    app = make_app(url)
    try:
        with serving(app) as base:
            update_settings(app, {"SMEB_PUBLIC_URL": base})
            yield base, app
    finally:
        dispose(app)


def test_the_verification_page_checks_signatures_offline_in_chromium_and_shows_revocation_online(server, tmp_path: Path) -> None:
    base, app = server
    node = shutil.which("node")
    assert node and Path(CHROMIUM).exists(), "node and Debian's chromium are needed (apt-get install -y nodejs chromium)"
    sessions = app.extensions["smeb.sessions"]  # type: ignore[attr-defined]
    with session_scope(sessions) as session:
        valid = issue_certificate(session, request(name="Đorđe Šćepanović Dương"), base_url=base)
        other = issue_certificate(session, request(name="Åse Ødegård", subject="user-2"), base_url=base)
        revoked = issue_certificate(session, request(name="Per Hansen", subject="user-3"), base_url=base)
    with session_scope(sessions) as session:
        revoke_certificate(session, TENANT, revoked.id, "issued-in-error", revoked_by=ADMIN, base_url=base)
    signature = valid.token.split(".")[1]
    tampered = other.token.split(".")[0] + "." + signature  # another certificate's claims under this signature
    stranger = make_certificate(new_key(), certificate_id=valid.id)
    unknown = make_certificate(new_key())
    data = {
        "chromium": CHROMIUM,
        "base": base,
        "valid": valid.verification_url,
        "validHash": valid.token,
        "tamperedHash": tampered,
        "strangerHash": stranger.token,
        "otherIdHash": other.token,
        "revoked": revoked.verification_url,
        "unknown": f"{base}/verify/{unknown.claims.certificate_id}#{unknown.token}",
    }
    # A bare environment on purpose: the page must verify without anything of ours around it.
    bare = {"NODE_PATH": str(NODE_MODULES), "PATH": "/usr/bin:/bin:/usr/local/bin"}
    out = run_node(tmp_path / "driver.cjs", source=DRIVER, stdin=json.dumps(data), timeout=300, env=bare)
    assert "error" not in out, out["error"]
    steps = out["steps"]
    assert out["rfc8032"] is True
    assert steps["online-valid"] == {"signature": "valid", "live": "valid", "verdict": "valid", "learner": "Đorđe Šćepanović Dương",
                                     "course": "Guttastemning 2.0", "detailsShown": True}
    assert (steps["offline-tampered"]["signature"], steps["offline-tampered"]["detailsShown"]) == ("bad-signature", False)
    assert steps["offline-unknown-key"]["signature"] == "unknown-key"
    assert steps["offline-malformed"]["signature"] == "malformed-payload"
    assert steps["offline-malformed-token"]["signature"] == "malformed-payload"
    assert steps["offline-id-mismatch"]["signature"] == "id-mismatch"
    assert steps["offline-valid"]["signature"] == "valid" and steps["offline-valid"]["live"] == "offline"
    assert steps["offline-valid"]["learner"] == "Đorđe Šćepanović Dương"
    assert steps["online-revoked"]["signature"] == "valid" and steps["online-revoked"]["live"] == "revoked"
    assert steps["online-revoked"]["verdict"] == "revoked"
    assert steps["online-unknown-id"]["signature"] == "unknown-key" and steps["online-unknown-id"]["live"] == "unknown"
    assert out["csp"] == [], out["csp"]
    # Offline, the page only tried the status endpoint; no script or key was fetched.
    assert all(u.endswith("/status.json") for u in out["requestsWhileOffline"]), out["requestsWhileOffline"]
