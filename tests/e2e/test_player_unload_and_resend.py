"""The player against a real LRS when the learner closes the tab or presses a button many times (issue 13).

- 12d: closing the tab of an xAPI launch sends ``suspended`` (docs/player.md): on pagehide the player hands the
  queued statements to the browser with ``fetch(keepalive)`` (sendBeacon cannot carry the xAPI Authorization
  header), so they reach the LRS after the page is gone.
- 12a: the reflection "Lagre", survey "Send svar" and "Lagre tiltaksplanen" buttons send once per change:
  pressed twenty times in a row they send one statement, and a second save of the same content sends nothing.

The LRS is the embedded one over real HTTP (tests/support/lrs_server.py), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from content import load_course
from tests.e2e.test_player_browser import FIXTURE, assemble_package
from tests.e2e.test_player_lrs import statements, verbs
from tests.support.lrs_server import LrsServer
from tests.support.node import run_driver

pytestmark = pytest.mark.browser


@pytest.fixture
def lrs(lrs_server: LrsServer) -> LrsServer:
    return lrs_server


def xapi_launch(lrs: LrsServer, base: str, course_id: str, registration: str, name: str) -> str:
    return base + "index.html?" + urlencode({
        "endpoint": lrs.endpoint,
        "auth": lrs.auth_header,
        "registration": registration,
        "actor": json.dumps({"objectType": "Agent", "name": "Ola Testesen", "account": {"homePage": "https://lms.example.no", "name": name}}),
        "activity_id": course_id,
    })


def wait_for(lrs: LrsServer, registration: str, verb: str, seconds: float = 15) -> list[str]:
    deadline = time.monotonic() + seconds
    while True:
        found = verbs(statements(lrs, registration=registration))
        if verb in found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def test_closing_the_tab_of_an_xapi_launch_sends_suspended_to_the_lrs(lrs: LrsServer, tmp_path: Path) -> None:
    course = load_course(FIXTURE)
    pkg = assemble_package(course, "xapi", tmp_path / "pkg")
    base = lrs.serve_folder(pkg)
    registration = "5f1c2a0e-8d4b-4c7e-9a3f-2b6d8e0c1a11"
    result = run_driver("drive-close.js", {"launchUrl": xapi_launch(lrs, base, course.id, registration, "ola-close"),
                                         "course": str(pkg / "course.json")})
    assert result["errors"] == [], "\n".join(result["errors"])
    found = wait_for(lrs, registration, "suspended")
    assert found[:2] == ["launched", "initialized"]
    assert "answered" in found
    assert found[-1] == "suspended", found
    assert found.count("suspended") == 1


def test_save_and_send_buttons_send_once_per_change_however_often_they_are_pressed(lrs: LrsServer, tmp_path: Path) -> None:
    course = load_course(FIXTURE)
    pkg = assemble_package(course, "xapi", tmp_path / "pkg")
    base = lrs.serve_folder(pkg)
    registration = "7a2e4c61-3b5d-4f8a-9c0e-1d2f3a4b5c6d"
    result = run_driver("drive-resend.js", {"launchUrl": xapi_launch(lrs, base, course.id, registration, "ola-resend"),
                                          "course": str(pkg / "course.json"), "presses": 20})
    assert result["errors"] == [], "\n".join(result["errors"])
    found = statements(lrs, registration=registration)
    by_object: dict[str, list[str]] = {}
    for s in found:
        by_object.setdefault(s["object"]["id"], []).append(s["verb"]["id"].rsplit("/", 1)[-1])
    for block, verb in (("r1", "reflected"), ("plan", "submit"), ("s-fritekst", "answered"), ("s-scale", "answered")):
        # Twenty presses, then one more with the same content: one statement; then a change: a second one.
        assert by_object.get(course.activity_id(block), []).count(verb) == 2, (block, by_object.get(course.activity_id(block)))
    for block in ("r1", "plan", "s-fritekst", "s-scale"):
        seen = result["blocks"][block]
        assert seen["busyAfterFirstPress"] is True, f"{block}: aria-disabled/aria-busy while sending"
        assert seen["enabledAfter"] is True, f"{block}: usable again once sent"
        assert seen["unchangedStatus"], f"{block}: says nothing new was sent"
        assert seen["focusKept"] is True, f"{block}: keyboard focus stays on the button"
    assert result["blocks"]["r1"]["unchangedStatus"] in ("Allerede lagret. Endre for å lagre på nytt.",)
