"""The forum in the real browser: stored XSS attempts stay inert (no script runs, no request leaves the tool),
keyboard-only posting works, and every page is axe-clean in nb and en.

The tool runs on 127.0.0.1 (werkzeug in a thread, stopped after the test); another company's learner seeds a
thread full of hostile Markdown/HTML through the real forms, then chromium (playwright-core) reads and replies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.smeb_lti.forum.test_forum import User
from tests.smeb_lti.journal.launches import ISSUER_B, launch, make_journal_app
from tests.support.app import dispose
from tests.support.node import E2E_JS, run_node
from tests.support.servers import serving

pytestmark = pytest.mark.browser

HOSTILE = "\n\n".join([
    "<script>window.pwned = 'script'</script>",
    '<img src=x onerror="window.pwned = \'img\'">',
    '<svg onload="window.pwned = \'svg\'"></svg>',
    '<iframe src="javascript:window.parent.pwned = \'iframe\'"></iframe>',
    "[klikk her](javascript:window.pwned='link')",
    "![sporingspiksel](https://evil.example/pixel.png)",
    "**Dette er fet tekst** og en [ekte lenke](https://www.arbeidstilsynet.no/).",
])


@pytest.fixture
def served(migrated_db_url: str, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    app = make_journal_app(migrated_db_url, tmp_path / "data")
    try:
        with serving(app) as base:
            yield app, base
    finally:
        dispose(app)


def drive(opts: dict[str, Any]) -> dict[str, Any]:
    return run_node(E2E_JS / "drive-forum.js", opts, timeout=570, cwd=E2E_JS)  # type: ignore[no-any-return]


@pytest.mark.parametrize("locale", ["nb-NO", "en-GB"])
def test_stored_xss_stays_inert_and_the_forum_is_keyboard_usable_and_axe_clean(served: tuple[Flask, str], locale: str) -> None:
    app, base = served
    attacker = User(app, launch(app, issuer=ISSUER_B, sub="mallory", locale=locale))
    attacker.profile("<b>Mallory</b>", "annet")
    thread = attacker.thread(title="<script>window.pwned='title'</script> Tavle", body=HOSTILE)
    learner = launch(app, sub="ola", locale=locale, name="Ola Nordmann")
    out = drive({"base": f"{base}/app/{learner}/forum", "thread": thread, "locale": locale, "name": "Ola E.",
                 "reply": "Takk! Vi bruker **sjekkliste** før tavla lukkes."})
    assert out["lang"] == locale[:2]
    assert out["pwned"] is None and out["pwnedAfterReply"] is None and out["dialogs"] == [] and out["scriptsInDom"] == 0
    assert "<script>window.pwned = 'script'</script>" in out["bodyText"]  # shown as text
    # the tracking pixel was never fetched: CSP img-src 'self' blocked it before it left the browser
    assert out["foreignLoaded"] == [] and set(out["foreign"]) <= {"https://evil.example/pixel.png", "failed: csp"}
    assert all("evil.example/pixel.png" in e and "Content Security Policy" in e for e in out["errors"]), out["errors"]
    assert "Takk! Vi bruker sjekkliste" in out["afterReply"] and "Ola E." in out["afterReply"] and "Ola Nordmann" not in out["afterReply"]
    assert out["editLinks"] == 1 and out["notifications"] == 1
    assert out["smallTargets"] == [] and out["overflow"] == 0  # 360 px wide, 44 px targets
    assert out["scans"] == ["profile form", "thread list", "thread with hostile posts", "edit page", "notifications"]
    assert out["violations"] == [], json.dumps(out["violations"], indent=1)
    # the reply reached the other company's learner as a notification
    assert 'id="unread">1<' in attacker.get().get_data(as_text=True)
