"""Issue 11 items 6, 7, 8 and 10: the SCORM packages in a real Moodle's own SCORM player (Display package: Current
window), played by a learner in chromium.

One short shipped course is built as SCORM 1.2 and SCORM 2004 and uploaded as two SCORM activities (what the
"Upload to Moodle" section of docs/moodle.md tells a teacher to do). The learner presses **Preview** first, then
**Enter**, works through the whole course and leaves with "Avslutt". Then Moodle's gradebook and tracks say:
the same percentage for both versions (100 for full marks), every SCORM 2004 interaction stored with its learner
response (no "406 Data Model Element Type Mismatch"), and Enter after Preview was a normal attempt, not review.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from pathlib import Path

import pytest

from content import load_course, shipped_courses_dir
from content.export import course_to_json
from scorm_export.build import build_package
from scorm_export.errors import PackageSizeWarning
from tests.e2e.moodle import api
from tests.e2e.moodle.conftest import _record, screenshot_dir, shrink_screenshots
from tests.e2e.moodle.harness import Moodle, run_driver
from tests.scorm_export.moodle_rules import SHORT_IDENTIFIER

COURSE = "guttastemning-2-0"  # short (26 blocks), and 10 of its 19 quiz choice ids have a hyphen
SHOTS = ("scorm-1-in-moodle", "scorm-2-end-screen")


def _settings() -> dict[str, object]:
    # The settings docs/moodle.md ("Upload to Moodle") and docs/packages.md give: current window, Preview offered,
    # the view page shown (so the learner sees Preview and Enter), highest grade out of 100, no forced new attempt.
    return {"popup": 0, "hidebrowse": 0, "skipview": 0, "displaycoursestructure": 0, "grademethod": 1, "maxgrade": 100,
            "forcenewattempt": 0, "maxattempt": 0}


def _interactions(tracks: dict[str, str]) -> dict[str, dict[str, str]]:
    """``{n: {field: value}}`` of the interaction tracks Moodle stored (``cmi.interactions.N<n>.<field>``: Moodle's
    datamodel.php keeps the collection index as the player's API object names it)."""
    out: dict[str, dict[str, str]] = {}
    for element, value in tracks.items():
        found = re.fullmatch(r"cmi\.interactions[._]N?(\d+)\.(.+)", element)
        if found:
            out.setdefault(found.group(1), {})[found.group(2)] = value
    return out


def test_scorm_12_and_2004_in_moodles_player_grade_alike_store_every_interaction_and_preview_locks_nothing(
    moodle: Moodle, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    course = load_course(shipped_courses_dir() / COURSE)
    packages = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PackageSizeWarning)
        for fmt in ("scorm12", "scorm2004"):
            packages[fmt] = build_package(course, fmt, tmp_path / "zips")
    keyed = tmp_path / "course.json"
    keyed.write_text(course_to_json(course), encoding="utf-8")

    learner = api.create_user(moodle, api.unique("learner"), "Ola", "Elektriker")
    moodle_course = api.create_course(moodle)
    api.enrol(moodle, learner, moodle_course, "student")
    activities = {fmt: api.add_scorm_activity(moodle, moodle_course, pkg, name=f"{course.title.nb} ({fmt})", **_settings())
                  for fmt, pkg in packages.items()}

    shots = screenshot_dir(tmp_path_factory, *SHOTS)
    started = time.monotonic()
    seen = run_driver("scorm-play.js", {
        "moodle": moodle.url, "user": {"username": learner.username, "password": learner.password}, "course": str(keyed),
        "activities": [
            {"name": "scorm12", "cmid": activities["scorm12"].cmid, "preview": True, "shotName": "scorm-1-in-moodle",
             "endShotName": "scorm-2-end-screen"},
            {"name": "scorm2004", "cmid": activities["scorm2004"].cmid, "preview": True},
        ],
        "shots": str(shots), "debugDir": str(tmp_path_factory.mktemp("scorm-debug")),
    })
    _record(**{"SCORM 1.2 + 2004 played in Moodle": round(time.monotonic() - started, 1)})
    shrink_screenshots(shots)

    # No SetValue refused by Moodle's runtime (the player logs each refusal with Moodle's error code).
    refused = [e for e in seen["errors"] if "SetValue" in e]
    assert refused == [], "\n".join(refused)

    for fmt in ("scorm12", "scorm2004"):
        run = seen["runs"][fmt]
        # Preview is browse mode; the Enter after it is a normal attempt (before the fix: read-only review).
        assert run["preview"]["notice"] and re.search(r"registreres ikke|not recorded", run["preview"]["notice"]), run["preview"]
        assert run["enter"]["notice"] is None and run["enter"]["quizEnabled"] is not False, (fmt, run["enter"])
        assert run["summary"] == "statusPassed" and run["outcome"]["scaled"] == 1, run
        # The end screen fits the current window: no "close the window" (Moodle's page is that window).
        if "text" in run["exited"]:
            text = run["exited"]["text"]
            assert not re.search(r"lukke vinduet|close the window", text, re.I) and run["exited"]["closeButton"] is False, text
            assert re.search(r"læringsplattformen|learning platform", text), text
            assert run["exited"]["terminateError"] is None, run["exited"]
    assert "text" in seen["runs"]["scorm12"]["exited"], "SCORM 1.2 stays on the end screen after Avslutt"

    # The gradebook: the same percentage for both versions, 100 for full marks.
    graded = {fmt: api.grades(moodle, moodle_course, activity, [learner.id])[learner.id] for fmt, activity in activities.items()}
    assert graded["scorm12"]["grade"] == graded["scorm2004"]["grade"] == 100.0, graded

    tracks = {fmt: api.scorm_tracks(moodle, activity, learner) for fmt, activity in activities.items()}
    assert set(tracks["scorm12"]) == {1} and set(tracks["scorm2004"]) == {1}, "one attempt each: Preview made none"
    t12, t2004 = tracks["scorm12"][1], tracks["scorm2004"][1]
    assert t12["cmi.core.lesson_status"] == "passed" and t12["cmi.core.score.raw"] == "100", t12
    assert (t2004["cmi.completion_status"], t2004["cmi.success_status"]) == ("completed", "passed"), t2004
    assert (float(t2004["cmi.score.raw"]), float(t2004["cmi.score.scaled"])) == (100.0, 1.0), t2004
    # The session ended with Terminate/LMSFinish (Moodle adds the session to the total time only then).
    assert t2004["cmi.exit"] == "normal" and "cmi.total_time" in t2004, sorted(t2004)
    assert "cmi.core.total_time" in t12, sorted(t12)

    # Every SCORM 2004 interaction is stored with its response: quizzes, each case decision, the surveys.
    stored = _interactions(t2004)
    assert len(stored) >= len(course.quizzes) + sum(1 for b in course.blocks() if b.type == "survey"), sorted(t2004)
    missing = {n: fields.get("id") for n, fields in stored.items() if "learner_response" not in fields}
    assert missing == {}, f"interactions stored without their response (refused by Moodle): {json.dumps(missing)}"
    choice_responses = [f["learner_response"] for f in stored.values() if f.get("type") == "choice"]
    assert choice_responses and all(re.fullmatch(SHORT_IDENTIFIER, part, re.ASCII) for r in choice_responses for part in r.split("[,]"))
    assert any("_" in r for r in choice_responses), "a hyphenated choice id arrived (as '_')"
