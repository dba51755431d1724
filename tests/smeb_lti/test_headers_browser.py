"""In Chromium (issue 13): the player page renders inside its LMS's iframe with no CSP violation (no
'unsafe-inline' any more), and a page of another origin cannot frame it (frame-ancestors).

Three servers on 127.0.0.1: the tool (the real app), the LMS (a registered platform: its origin is the issuer)
and an unregistered site; the LMS and the other site serve the same page, an iframe of the player.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from smeb_lti.db import migrate, session_scope
from smeb_lti.lti import registrations
from tests.smeb_lti.dashboard.helpers import Company, launch
from tests.support.app import course_app
from tests.support.node import require_chromium, run_node

pytestmark = pytest.mark.browser

DRIVER = r"""
"use strict";
const { launch, playerFrame } = require(process.env.SMEB_E2E_LIB);
async function main() {
  const opts = JSON.parse(process.argv[2]);
  const { context, close, errors } = await launch({ locale: "nb-NO", viewport: { width: 1024, height: 800 } });
  const out = {};
  try {
    const page = await context.newPage();
    await page.goto(opts.lms);
    const frame = await playerFrame(page);
    out.framedReady = true;
    out.staffBar = await frame.evaluate(() => {
      const nav = document.querySelector(".smeb-staff");
      return nav ? getComputedStyle(nav).backgroundColor : null;
    });
    out.lessonShown = await frame.evaluate(() => !!document.querySelector("section.block"));
    out.framedErrors = errors.splice(0);
    const other = await context.newPage();
    await other.goto(opts.other);
    await other.waitForTimeout(3000);
    const blocked = other.frame({ name: "course" });
    out.otherReady = blocked ? await blocked.evaluate(() => !!(window.SMEB && window.SMEB.ready)).catch(() => false) : false;
    out.otherErrors = errors.splice(0);
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
"""


class _Framing(BaseHTTPRequestHandler):
    """An LMS activity page (or any site): the player in an iframe named "course"."""

    target = ""

    def do_GET(self) -> None:
        body = (f'<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>LMS</title></head><body>'
                f'<iframe name="course" title="Kurs" src="{self.target}" width="1000" height="700"></iframe></body></html>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, str]]:
    require_chromium()
    handler = type("Framing", (_Framing,), {})
    lms, other = _serve(handler), _serve(handler)
    issuer = f"http://127.0.0.1:{lms.server_port}"
    db_url = f"sqlite:///{tmp_path / 'smeb.db'}"  # headers do not depend on the database
    migrate(db_url)
    app = course_app(db_url, tmp_path)
    company = Company(issuer, "client-1", "dep-1", "ctx-1")
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registrations.add(session, registrations.RegistrationInput(
            issuer=issuer, client_id="client-1", auth_login_url=issuer + "/auth", auth_token_url=issuer + "/token",
            key_set_url=issuer + "/jwks", deployment_ids=("dep-1",)))
    launch_id = launch(app, company, "learner-1")
    tool = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=tool.serve_forever, daemon=True).start()
    handler.target = f"http://127.0.0.1:{tool.server_port}/play/{launch_id}"
    try:
        yield {"lms": issuer + "/", "other": f"http://127.0.0.1:{other.server_port}/"}
    finally:
        for server in (tool, lms, other):
            server.shutdown()
            server.server_close()
        app.extensions["smeb.engine"].dispose()


def test_the_player_renders_in_its_lms_frame_without_csp_violations_and_nowhere_else(servers: dict[str, str], tmp_path: Path) -> None:
    result = run_node(tmp_path / "drive-frames.js", servers, source=DRIVER, timeout=180)
    assert result["framedErrors"] == [], "\n".join(result["framedErrors"])  # no CSP violation, no refused request
    assert result["framedReady"] and result["lessonShown"]
    assert result["staffBar"] == "rgb(32, 49, 74)"  # the hashed inline <style> applied
    assert result["otherReady"] is False
    assert any("frame-ancestors" in e for e in result["otherErrors"]), result["otherErrors"]
