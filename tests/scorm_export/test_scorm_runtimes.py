"""The SCORM runtime adapters of the player, run in node against a recording API object: what Moodle would store.

Fast checks of what issue 11 found in a real Moodle (the same flows run there in tests/e2e/moodle/test_moodle_scorm.py):
SCORM 2004 grades as the percentage (Moodle grades from ``cmi.score.raw``), interaction values that pass Moodle's
own SCORM 2004 checks, and Preview (browse) / review launches that never lock or change an attempt.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from content import CourseError, discover, load_course
from content.export import course_to_json
from tests.scorm_export.moodle_rules import SHORT_IDENTIFIER, moodle_2004_errors
from tests.support.node import run_node, run_node_code

REPO = Path(__file__).resolve().parents[2]
CHECK = Path(__file__).resolve().parent / "runtime-check.js"
FIXTURE = REPO / "tests" / "fixtures" / "courses" / "valid" / "all-blocks"


def _courses() -> list[Path]:
    found = [FIXTURE]
    for folder in discover():
        try:
            load_course(folder)
        except CourseError:
            continue
        found.append(folder)
    return found


COURSES = _courses()


def run(course_dir: Path, tmp_path: Path, api: str, mode: str = "normal", status: str = "") -> dict[str, Any]:
    path = tmp_path / f"{course_dir.name}.json"
    path.write_text(course_to_json(load_course(course_dir)), encoding="utf-8")
    return run_node(CHECK, {"course": str(path), "api": api, "mode": mode, "status": status}, timeout=120)  # type: ignore[no-any-return]


@pytest.mark.parametrize("course_dir", COURSES, ids=[p.name for p in COURSES])
def test_scorm2004_interactions_pass_moodles_runtime_checks(course_dir: Path, tmp_path: Path) -> None:
    result = run(course_dir, tmp_path, "scorm2004")
    errors = moodle_2004_errors(result["sets"])
    assert errors == [], "\n".join(errors)
    responses = [v for k, v in result["sets"] if k.endswith((".learner_response", ".correct_responses.0.pattern"))]
    assert responses, "the course has answers to report"


def test_choice_ids_become_the_same_short_identifiers_every_time_and_stay_distinct(tmp_path: Path) -> None:
    # Course ids are [a-z0-9-] (content/schema): the hyphen is what Moodle refused.
    ids = {c.id for p in COURSES for q in load_course(p).quizzes for c in q.choices}
    assert any("-" in i for i in ids), "the shipped courses have hyphenated choice ids"
    script = (
        "const core = require(process.argv[1]); const ids = JSON.parse(process.argv[2]);"
        "process.stdout.write(JSON.stringify(ids.map((i) => [core.shortId(i), core.shortId(i)])));"
    )
    mapped = run_node_code(script, str(REPO / "scorm_export" / "player" / "core.js"), json.dumps(sorted(ids)))
    assert all(a == b and re.fullmatch(SHORT_IDENTIFIER, a, re.ASCII) for a, b in mapped)
    assert len({a for a, _ in mapped}) == len(ids)


@pytest.mark.parametrize("api", ["scorm12", "scorm2004"])
def test_a_full_pass_is_graded_100_percent_in_both_scorm_versions(api: str, tmp_path: Path) -> None:
    course_dir = next(p for p in COURSES if p != FIXTURE) if len(COURSES) > 1 else FIXTURE
    values = run(course_dir, tmp_path, api)["values"]
    prefix = "cmi.core.score." if api == "scorm12" else "cmi.score."
    # Moodle's gradebook takes raw against its maximum grade (100): raw is the percentage in both versions.
    assert (values[prefix + "raw"], values[prefix + "min"], values[prefix + "max"]) == ("100", "0", "100")
    if api == "scorm2004":
        assert values["cmi.score.scaled"] == "1"


def test_scorm12_browse_launch_leaves_browsed_not_completed(tmp_path: Path) -> None:
    # Moodle stores "completed" at LMSFinish for a status still "not attempted" (scorm_12.js StoreData); a Preview
    # must say "browsed" so that the next Enter is a normal attempt, and report nothing else.
    result = run(FIXTURE, tmp_path, "scorm12", mode="browse", status="not attempted")
    assert result["sets"] == [["cmi.core.lesson_status", "browsed"]]


def test_scorm12_browse_after_a_started_attempt_keeps_its_status(tmp_path: Path) -> None:
    assert run(FIXTURE, tmp_path, "scorm12", mode="browse", status="incomplete")["sets"] == []


def test_scorm12_normal_launch_after_a_preview_starts_the_attempt(tmp_path: Path) -> None:
    values = run(FIXTURE, tmp_path, "scorm12", status="browsed")["values"]
    assert values["cmi.core.lesson_status"] == "passed"


@pytest.mark.parametrize("api,mode", [("scorm12", "review"), ("scorm2004", "review"), ("scorm2004", "browse")])
def test_review_and_2004_browse_launches_write_no_learner_data(api: str, mode: str, tmp_path: Path) -> None:
    status = "completed" if mode == "review" else ""
    sets = run(FIXTURE, tmp_path, api, mode=mode, status=status)["sets"]
    # Only the navigation request that lets the LMS leave the player.
    assert [k for k, _ in sets if k.startswith("cmi.")] == []
