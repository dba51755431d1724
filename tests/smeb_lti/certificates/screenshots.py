"""Take the pictures in docs/certificates.md with Debian's Chromium (playwright-core), from a real run of the tool.

    .venv/bin/python -m tests.smeb_lti.certificates.screenshots [--out docs/img]

A learner completes the test course through an (in-process) LTI launch, so a certificate is issued
as in production; the tool is served on 127.0.0.1; Chromium opens what each person opens:

* learner:  ``/app/<launch>/certificate`` (PDF, verification link, "Add to LinkedIn");
* employer: the verification URL that LinkedIn's "Show credential" opens (valid, then revoked);
* verifier: the issuer Profile at ``issuer.id`` and the independent verifier's verdicts.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

from smeb_lti.settings import update_settings

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

DRIVER = r"""
"use strict";
const fs = require("fs"), os = require("os"), path = require("path");
const { chromium } = require("playwright-core");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smeb-shots-"));
  const context = await chromium.launchPersistentContext(dir, { executablePath: input.chromium, headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    viewport: { width: 900, height: 700 }, deviceScaleFactor: 1 });
  const page = context.pages()[0] || await context.newPage();
  try {
    for (const shot of input.shots) {
      if (shot.html) await page.setContent(shot.html); else await page.goto(shot.url);
      if (shot.waitDone) await page.waitForFunction(() => Number(document.body.dataset.done || 0) >= 1, null, { timeout: 60000 });
      await page.screenshot({ path: shot.file, fullPage: true });
    }
  } finally {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch((e) => { console.error(e); process.exit(1); });
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    out = parser.parse_args().out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    from urllib.parse import parse_qs, urlsplit

    from smeb_lti.certificates.revocation import revoke_certificate
    from smeb_lti.db import migrate, session_scope
    from tests.smeb_lti.certificates import independent_verifier as outsider
    from tests.smeb_lti.dashboard.helpers import COMPANY_A, complete, launch
    from tests.support.app import course_app

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/shots.db"
        migrate(url)
        app = course_app(url, Path(tmp))
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{httpd.server_port}"
        update_settings(app, {"SMEB_PUBLIC_URL": base})
        try:
            launch_id = launch(app, COMPANY_A, "learner-1", name="Kari Nordmann")
            complete(app, launch_id)
            page = app.test_client().get(f"/app/{launch_id}/certificate").get_data(as_text=True)
            import re

            linkedin = html.unescape(re.search(r'id="certificate-linkedin" href="([^"]+)"', page).group(1))  # type: ignore[union-attr]
            cert_url = parse_qs(urlsplit(linkedin).query)["certUrl"][0]
            cert_id = cert_url.split("/verify/", 1)[1].split("#", 1)[0]
            from smeb_lti.certificates.issue import public_status

            with app.extensions["smeb.sessions"]() as session:
                cert = public_status(session, cert_id)
            assert cert is not None
            fresh = outsider.verify_badge(cert.credential_jwt)
            shots = [
                {"url": f"{base}/app/{launch_id}/certificate", "file": str(out / "cert-learner-page.png")},
                {"url": cert_url, "file": str(out / "cert-employer-valid.png"), "waitDone": True},
                {"url": f"{base}/certificates/issuer", "file": str(out / "cert-verifier-profile.png")},
            ]
            script = Path(tmp) / "driver.cjs"
            script.write_text(DRIVER, encoding="utf-8")

            def take(batch: list[dict[str, object]]) -> None:
                done = subprocess.run(["node", str(script)], input=json.dumps({"chromium": CHROMIUM, "shots": batch}), cwd=REPO,
                                      capture_output=True, text=True, timeout=300,
                                      env={"NODE_PATH": str(REPO / "node_modules"), "PATH": "/usr/bin:/bin:/usr/local/bin"})
                if done.returncode != 0:
                    raise SystemExit(done.stderr)

            take(shots)  # before the revocation
            with session_scope(app.extensions["smeb.sessions"]) as session:
                revoke_certificate(session, cert.tenant, cert.id, "issued-in-error", base_url=base,
                                   revoked_by={"objectType": "Agent", "account": {"homePage": base, "name": "smeb-certificates"}})
            revoked = outsider.verify_badge(cert.credential_jwt)
            report = "\n".join([
                "independent verifier (tests/smeb_lti/certificates/independent_verifier.py), badge from the PDF:",
                "", "before `smeb cert revoke`:", fresh.line().replace(' ', '\n  ', 4), "", "after `smeb cert revoke`:", revoked.line().replace(' ', '\n  ', 4),
            ])
            after = [
                {"url": cert_url, "file": str(out / "cert-employer-revoked.png"), "waitDone": True},
                {"html": "<!doctype html><meta charset=utf-8><body style='font:14px monospace;background:#111;color:#eee;padding:1em'>"
                         f"<pre style='white-space:pre-wrap;word-break:break-all;max-width:860px'>{html.escape(report)}</pre>", "file": str(out / "cert-verifier-run.png")},
            ]
            take(after)
            shots += after
            print(report)
            for shot in shots:
                print("wrote", shot["file"])
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=10)
            app.extensions["smeb.engine"].dispose()


if __name__ == "__main__":
    main()
