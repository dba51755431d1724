"""The player's cmi5 and xAPI runtimes in chromium against the real embedded LRS (smeb_lti/lrs, tests/lrs.py).

The LRS enforces the cmi5 AU rules itself (403 naming the requirement), so a statement out of order or
without the cmi5 context would be rejected and missing from what these tests read back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from content import load_course
from content.model import Course
from tests.e2e.test_player_browser import (
    COURSES,
    LONGEST,
    assemble_package,
    expected_scaled,
)
from tests.support.lrs_server import LrsServer
from tests.support.node import run_driver
from xapi.validation import validate_statement

pytestmark = pytest.mark.browser

CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
ADL = "http://adlnet.gov/expapi/verbs/"
REFLECTION = "PRIVAT-REFLEKSJON"
LMS_VERBS = {"launched", "satisfied", "abandoned", "waived"}  # recorded by the LMS side, not the player


def statements(server: LrsServer, **params: str) -> list[dict[str, Any]]:
    """Every statement matching ``params``, oldest first (following `more` links)."""
    headers = {"Authorization": server.auth_header, "X-Experience-API-Version": "1.0.3"}
    found: list[dict[str, Any]] = []
    url = server.endpoint + "statements?" + urlencode({**params, "ascending": "true", "limit": "100"})
    while url:
        response = httpx.get(url, headers=headers, timeout=30)
        response.raise_for_status()
        body = response.json()
        found.extend(body["statements"])
        more = body.get("more")
        url = server.base_url + more if more else ""
    return found


def verbs(found: list[dict[str, Any]]) -> list[str]:
    return [s["verb"]["id"].rsplit("/", 1)[-1] for s in found]


def plan_for(course: Course) -> tuple[str, str, set[str]]:
    quizzes = [q.id for q in course.quizzes]
    reload_after = quizzes[0]
    offline = quizzes[1] if len(quizzes) > 1 else quizzes[0]
    return reload_after, offline, set(quizzes[2::3])


@pytest.fixture
def lrs(lrs_server: LrsServer) -> LrsServer:
    """The embedded LRS over real HTTP on 127.0.0.1 (SQLite and PostgreSQL), serving the package folders too."""
    return lrs_server


ACTOR = {"objectType": "Agent", "name": "Ola Testesen", "account": {"homePage": "https://lms.example.no", "name": "ola-1"}}


@pytest.mark.parametrize("course_dir", [LONGEST], ids=[LONGEST.name])
def test_cmi5_session_sends_initialized_answers_completion_score_and_terminated_that_the_lrs_accepts(
    course_dir: Path, lrs: LrsServer, tmp_path: Path
) -> None:
    course = load_course(course_dir)
    reload_after, offline, wrong = plan_for(course)
    pkg = assemble_package(course, "cmi5", tmp_path / "pkg")
    base = lrs.serve_folder(pkg)
    return_url = base + "course.json"
    mastery = 0.5
    launch_url = lrs.create_cmi5_launch(
        ACTOR, course.id + "/au", base + "index.html", mastery_score=mastery, return_url=return_url
    )
    result = run_driver(
        "drive-lrs.js",
        {
            "launchUrl": launch_url,
            "course": str(pkg / "course.json"),
            "wrong": sorted(wrong),
            "reloadAfter": reload_after,
            "offlineBlock": offline,
            "locale": "en-GB",
            "expectExitUrl": return_url,
        },
    )
    assert result["errors"] == [], "\n".join(result["errors"])
    assert result["fetchCalls"] == 1, "the token is fetched once; a reload reuses it from sessionStorage"
    assert result["finalUrl"] == return_url
    assert result["lang"] == "nb", "cmi5LearnerPreferences (nb-NO first) wins over the browser's en-GB"
    assert result["reload"]["after"] == {
        "lesson": result["reload"]["before"]["lesson"],
        "state": result["reload"]["before"]["state"],
    }
    assert result["offline"]["pendingWhileOffline"] > 0

    registration = dict(x.split("=", 1) for x in launch_url.split("?", 1)[1].split("&"))["registration"]
    found = statements(lrs, registration=registration)
    au = [s for s in found if s["verb"]["id"].rsplit("/", 1)[-1] not in LMS_VERBS]
    order = verbs(au)
    assert order[0] == "initialized" and order.count("initialized") == 1
    assert order[-1] == "terminated" and order.count("terminated") == 1
    assert order.count("completed") == 1
    scaled = expected_scaled(course, wrong)
    judged = "passed" if scaled >= mastery else "failed"
    assert order.count(judged) == 1 and order.count("passed") + order.count("failed") == 1
    session = au[0]["context"]["extensions"][SESSION]
    for s in au:
        validate_statement(s)
        assert s["context"]["registration"] == registration
        assert s["context"]["extensions"][SESSION] == session
        categories = {c["id"] for c in s["context"]["contextActivities"].get("category", [])}
        defined = s["verb"]["id"].rsplit("/", 1)[-1] in ("initialized", "completed", "passed", "failed", "terminated")
        assert (CMI5 in categories) == defined
        assert (MOVEON in categories) == (defined and ("success" in s.get("result", {}) or "completion" in s.get("result", {})))
        assert REFLECTION not in json.dumps(s)
    outcome = next(s for s in au if s["verb"]["id"] == ADL + judged)
    assert outcome["result"]["score"]["scaled"] == pytest.approx(scaled, abs=1e-4)
    assert outcome["result"]["success"] is (judged == "passed")
    assert outcome["context"]["extensions"][MASTERY] == mastery
    for verb in ("completed", judged, "terminated"):
        assert next(s for s in au if s["verb"]["id"] == ADL + verb)["result"]["duration"].startswith("PT")
    # Answers: one statement per quiz, even for the one answered offline and retried.
    answered = [s for s in au if s["verb"]["id"] == ADL + "answered"]
    per_quiz = [s["object"]["id"] for s in answered if s["object"]["definition"]["interactionType"] in ("choice", "true-false")]
    for quiz in course.quizzes:
        assert per_quiz.count(course.activity_id(quiz.id)) == 1, quiz.id
    assert "progressed" in order
    assert len({s["id"] for s in found}) == len(found)

    # A second launch of the same registration resumes from the State API at the result page and repeats
    # no "once per registration" statement (the LRS would refuse a second completed/passed with 403).
    again = lrs.create_cmi5_launch(
        ACTOR, course.id + "/au", base + "index.html", mastery_score=mastery, registration=registration
    )
    second = run_driver("drive-lrs.js", {"launchUrl": again, "course": str(pkg / "course.json")})
    assert second["errors"] == [], "\n".join(second["errors"])
    assert second["startLesson"] == sum(len(m.lessons) for m in course.modules)
    assert second["summary"] == ("statusPassed" if judged == "passed" else "statusFailed")
    later = verbs([s for s in statements(lrs, registration=registration) if s["verb"]["id"].rsplit("/", 1)[-1] not in LMS_VERBS])
    assert later[len(order) :] == ["initialized", "terminated"]

    # launchMode Review (cmi5 10.2.2): the learner sees every earlier answer, can change none, and the AU sends
    # only initialized and terminated.
    review = lrs.create_cmi5_launch(
        ACTOR, course.id + "/au", base + "index.html", mastery_score=mastery, registration=registration, launch_mode="Review"
    )
    third = run_driver("drive-lrs.js", {"launchUrl": review, "course": str(pkg / "course.json"), "review": True})
    assert third["errors"] == [], "\n".join(third["errors"])
    seen = third["review"]
    assert seen["lessons"] == sum(len(m.lessons) for m in course.modules)
    assert seen["enabledControls"] == [], "nothing can be answered or saved in review"
    assert sorted(seen["lockedQuizzes"]) == sorted(seen["checkedQuizzes"]) == sorted(q.id for q in course.quizzes)
    assert seen["notice"] and "kan ikke endre" in seen["notice"]
    assert third["summary"] == second["summary"]
    reviewed = verbs([s for s in statements(lrs, registration=registration) if s["verb"]["id"].rsplit("/", 1)[-1] not in LMS_VERBS])
    assert reviewed[len(later) :] == ["initialized", "terminated"]


@pytest.mark.parametrize("course_dir", COURSES[:1], ids=[p.name for p in COURSES[:1]])
def test_cmi5_browse_mode_sends_no_completion_or_judgement(course_dir: Path, lrs: LrsServer, tmp_path: Path) -> None:
    course = load_course(course_dir)
    pkg = assemble_package(course, "cmi5", tmp_path / "pkg")
    base = lrs.serve_folder(pkg)
    launch_url = lrs.create_cmi5_launch(ACTOR, course.id + "/au", base + "index.html", launch_mode="Browse")
    result = run_driver("drive-lrs.js", {"launchUrl": launch_url, "course": str(pkg / "course.json")})
    assert result["errors"] == [], "\n".join(result["errors"])
    assert result["summary"] == "statusPassed"  # the learner sees the result ...
    registration = dict(x.split("=", 1) for x in launch_url.split("?", 1)[1].split("&"))["registration"]
    order = verbs(statements(lrs, registration=registration))
    assert order == ["launched", "initialized", "terminated"]  # ... but the LMS records no judgement (10.2.2)


@pytest.mark.parametrize("course_dir", [LONGEST], ids=[LONGEST.name])
def test_xapi_launch_sends_profile_statements_and_resumes_from_the_state_api(
    course_dir: Path, lrs: LrsServer, tmp_path: Path
) -> None:
    course = load_course(course_dir)
    reload_after, offline, wrong = plan_for(course)
    pkg = assemble_package(course, "xapi", tmp_path / "pkg")
    base = lrs.serve_folder(pkg)
    registration = "0b0d5a4e-6c55-4c1e-9d36-1f4b7f0f6a21"
    launch_url = (
        base
        + "index.html?"
        + urlencode(
            {
                "endpoint": lrs.endpoint,
                "auth": lrs.auth_header,
                "registration": registration,
                "actor": json.dumps(
                    {
                        "name": ["Ola Testesen"],
                        "account": [{"accountServiceHomePage": "https://lms.example.no", "accountName": "ola-2"}],
                    }
                ),
                "activity_id": course.id,
            }
        )
    )
    result = run_driver(
        "drive-lrs.js",
        {
            "launchUrl": launch_url,
            "course": str(pkg / "course.json"),
            "wrong": sorted(wrong),
            "reloadAfter": reload_after,
            "offlineBlock": offline,
        },
    )
    assert result["errors"] == [], "\n".join(result["errors"])
    assert result["reload"]["after"]["lesson"] == result["reload"]["before"]["lesson"]
    assert result["reload"]["after"]["state"] == result["reload"]["before"]["state"]
    found = statements(lrs, registration=registration)
    order = verbs(found)
    assert order[:2] == ["launched", "initialized"]
    assert order[-1] == "terminated"
    assert order.count("completed") == 1
    assert "suspended" in order  # the reload ended the first page's session as a pause
    scaled = expected_scaled(course, wrong)
    judged = next(s for s in found if s["verb"]["id"] in (ADL + "passed", ADL + "failed"))
    assert judged["result"]["score"]["scaled"] == pytest.approx(scaled, abs=1e-4)
    for s in found:
        validate_statement(s)
        assert s["actor"]["account"] == {"homePage": "https://lms.example.no", "name": "ola-2"}
        assert {
            "id": "https://smeb.no/xapi/profile/v1",
            "definition": {"type": "http://adlnet.gov/expapi/activities/profile"},
        } in s["context"]["contextActivities"]["category"]
        assert REFLECTION not in json.dumps(s)
    answered = [s["object"]["id"] for s in found if s["verb"]["id"] == ADL + "answered"]
    for quiz in course.quizzes:
        assert answered.count(course.activity_id(quiz.id)) == 1, quiz.id
