"""Issue 11 items 3, 4 and 5: grades over LTI AGS in a real Moodle.

The tool is registered in Moodle's admin pages (``registered_tool``); two External tool activities of one
Moodle course name the same SMEB course. A learner opens the first in chromium (Moodle's launch page, its
OIDC login and auth endpoint, the tool's launch), then plays the course through the player's events endpoint:
the last quiz answer (FullyGraded) and the outcome (Completed) arrive within the same second, as they do
when a learner finishes. ``smeb ags-worker --once`` posts to Moodle's scores service (token from Moodle's
``token.php``, signed with the tool's key, checked by Moodle against the tool's JWKS). Then:

* Moodle accepted everything: the tool's outbox holds no pending or parked score and the gradebook has the
  grade (before the fix Moodle refused the second score with 409 and the tool retried it forever);
* the learner opens the second activity and only looks: its grade column gets the same grade (before: empty);
* a teacher opens an activity and even completes the course: no score is queued, nothing is parked (before:
  a score per launch, refused by Moodle with 400, parked).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from content import load_course, shipped_courses_dir
from content.export import course_to_dict
from tests.e2e.moodle import api
from tests.e2e.moodle.conftest import RegisteredTool, _record
from tests.e2e.moodle.harness import Moodle, SmebTool, run_driver

COURSE = "guttastemning-2-0"
TOKEN_HEADER = "X-SMEB-Launch-Token"


def _right_answers() -> list[tuple[str, list[str]]]:
    """Every quiz of the course with its right choices (from the course source: the player gets no answer key)."""
    course = course_to_dict(load_course(shipped_courses_dir() / COURSE))
    return [(block["id"], [c["id"] for c in block["choices"] if c.get("correct")])
            for module in course["modules"] for lesson in module["lessons"] for block in lesson["blocks"] if block.get("type") == "quiz"]


def _launch(moodle: Moodle, user: api.User, activity: api.Activity, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The user opens the activity in chromium; the launch id of the player page it reached."""
    seen = run_driver("drive-lti-launch.js", {
        "moodle": moodle.url, "user": {"username": user.username, "password": user.password}, "cmid": activity.cmid,
        "debugDir": str(tmp_path_factory.mktemp("grades-debug")),
    })
    return str(seen["launchId"])


def _event(tool: SmebTool, launch_id: str, type_: str, data: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    event = {"id": str(uuid.uuid4()), "type": type_, "courseId": config["courseId"], "data": data}
    response = httpx.post(tool.url + config["eventsUrl"], json=event, headers={TOKEN_HEADER: config["token"]}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _config(tool: SmebTool, launch_id: str) -> dict[str, Any]:
    response = httpx.get(f"{tool.url}/play/{launch_id}/smeb-config.json", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _scores(tool: SmebTool) -> list[dict[str, Any]]:
    """The tool's AGS outbox rows (its SQLite database), oldest first, with the score parsed."""
    conn = sqlite3.connect(f"file:{tool.data_dir / 'smeb.db'}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT status, payload, last_error FROM xapi_outbox WHERE kind = 'ags' ORDER BY id").fetchall()
    finally:
        conn.close()
    return [{"status": s, **json.loads(p), "last_error": e} for s, p, e in rows]


def _ags_worker(tool: SmebTool) -> str:
    """``smeb ags-worker --once``: every score due is accepted by Moodle (its errors are in the message otherwise)."""
    done = tool.smeb("ags-worker", "--once", check=False)
    summary = done.stdout.strip()
    assert "parked 0, rescheduled 0" in summary, f"{summary}\n{done.stderr[-3000:]}\n{tool.smeb('outbox', 'parked').stdout}"
    return summary


@pytest.fixture(scope="module")
def graded_course(moodle: Moodle, registered_tool: RegisteredTool) -> dict[str, Any]:
    learner = api.create_user(moodle, api.unique("learner"), "Ola", "Elektriker")
    teacher = api.create_user(moodle, api.unique("teacher"), "Tora", "Lærer")
    course = api.create_course(moodle)
    api.enrol(moodle, learner, course, "student")
    api.enrol(moodle, teacher, course, "editingteacher")
    first = api.add_lti_activity(moodle, course, registered_tool.type_id, name="Guttastemning 2.0", course_slug=COURSE,
                                 launch_container=api.LAUNCH_WINDOW)
    second = api.add_lti_activity(moodle, course, registered_tool.type_id, name="Guttastemning 2.0 (repetisjon)",
                                  course_slug=COURSE, launch_container=api.LAUNCH_WINDOW)
    return {"learner": learner, "teacher": teacher, "course": course, "first": first, "second": second}


def test_a_learner_who_finishes_gets_the_grade_in_moodle_and_so_does_a_second_activity_for_the_course(
    moodle: Moodle, registered_tool: RegisteredTool, graded_course: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    tool = registered_tool.tool
    learner: api.User = graded_course["learner"]
    course, first, second = graded_course["course"], graded_course["first"], graded_course["second"]
    started = time.monotonic()
    before = len(_scores(tool))

    launch_id = _launch(moodle, learner, first, tmp_path_factory)
    config = _config(tool, launch_id)
    answers = _right_answers()
    for block, right in answers[:-1]:
        _event(tool, launch_id, "answered", {"blockId": block, "response": right}, config)
    _ags_worker(tool)  # the grade so far is in Moodle (InProgress, Pending)
    # The learner's last two steps, back to back: FullyGraded, then Completed, within one second.
    last = _event(tool, launch_id, "answered", {"blockId": answers[-1][0], "response": answers[-1][1]}, config)
    done = _event(tool, launch_id, "outcome", {"completed": True, "passed": True, "progress": 1}, config)
    assert done["completed"] and done["points"] == done["maxPoints"] > 0 and last["gradeQueued"] and done["gradeQueued"]
    _ags_worker(tool)

    mine = [s for s in _scores(tool)[before:] if s["score"]["userId"] == str(learner.id)]
    assert mine and {s["status"] for s in mine} <= {"delivered", "superseded"}, mine
    sent = [s["score"] for s in mine if s["status"] == "delivered"]
    assert (sent[-1]["activityProgress"], sent[-1]["gradingProgress"]) == ("Completed", "FullyGraded"), sent
    seconds = [int(datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00")).timestamp()) for s in sent]
    assert seconds == sorted(set(seconds)), f"timestamps must grow in whole seconds: {[s['timestamp'] for s in sent]}"
    graded = api.grades(moodle, course, first, [learner.id])[learner.id]
    assert graded["grade"] == 100.0, graded

    # A second activity for the same course: the learner opens it and looks (100 % in the player).
    assert api.grades(moodle, course, second, [learner.id])[learner.id]["grade"] is None
    _launch(moodle, learner, second, tmp_path_factory)
    _ags_worker(tool)
    graded_second = api.grades(moodle, course, second, [learner.id])[learner.id]
    assert graded_second["grade"] == 100.0, graded_second
    status = json.loads(tool.smeb("outbox", "status", "--json").stdout)
    ags = {name: row for name, row in status.items() if name.startswith("ags:")}
    assert ags and all(row["pending"] == 0 and row["parked"] == 0 for row in ags.values()), ags
    _record(**{"AGS learner flow in Moodle": round(time.monotonic() - started, 1)})


def test_a_teacher_launch_queues_no_score_and_parks_nothing(
    moodle: Moodle, registered_tool: RegisteredTool, graded_course: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    tool = registered_tool.tool
    teacher: api.User = graded_course["teacher"]
    before = _scores(tool)
    launch_id = _launch(moodle, teacher, graded_course["first"], tmp_path_factory)
    config = _config(tool, launch_id)
    assert config["role"] == "instructor"
    for block, right in _right_answers():  # the teacher tries the course to the end
        assert _event(tool, launch_id, "answered", {"blockId": block, "response": right}, config)["gradeQueued"] is False
    assert _event(tool, launch_id, "outcome", {"completed": True, "passed": True, "progress": 1}, config)["gradeQueued"] is False
    _launch(moodle, teacher, graded_course["second"], tmp_path_factory)
    assert _scores(tool) == before
    _ags_worker(tool)
    assert tool.smeb("outbox", "parked").stdout.strip() == "no parked rows"
    assert api.grades(moodle, graded_course["course"], graded_course["first"], [teacher.id]).get(teacher.id, {}).get("grade") is None
