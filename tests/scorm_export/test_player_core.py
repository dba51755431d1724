"""The player's pure core (scorm_export/player/core.js), run in node: compact state, score, completion, formats."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from content import CourseError, discover, load_course
from content.export import course_to_json
from tests.support.node import run_node

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "tests" / "e2e" / "js" / "core-check.js"
FIXTURE = REPO / "tests" / "fixtures" / "courses" / "valid" / "all-blocks"


def node(task: str, **options: Any) -> dict[str, Any]:
    return run_node(CHECK, {"task": task, **options}, timeout=120)  # type: ignore[no-any-return]


def course_json(folder: Path, tmp_path: Path) -> Path:
    path = tmp_path / f"{folder.name}.json"
    path.write_text(course_to_json(load_course(folder)), encoding="utf-8")
    return path


def valid_courses() -> list[Path]:
    found = []
    for folder in discover():
        try:
            load_course(folder)
        except CourseError:
            continue
        found.append(folder)
    return found


def longest_course() -> Path:
    """The shipped course with the most blocks."""
    courses = valid_courses()
    assert courses, "no shipped course validates"
    return max(courses, key=lambda p: len(list(load_course(p).blocks())))


def test_the_fullest_possible_state_of_the_longest_course_fits_scorm12_suspend_data(tmp_path: Path) -> None:
    result = node("worst-state", course=str(course_json(longest_course(), tmp_path)), textLength=0)
    assert result["length"] < 4096
    assert result["sameProgress"] and result["reencoded"] and result["newlineFree"]


def test_the_state_budget_is_checked_on_systematisk_hms_arbeid_kundeverksted() -> None:
    assert "systematisk-hms-arbeid-kundeverksted" in [p.name for p in valid_courses()]
    assert longest_course().name == "systematisk-hms-arbeid-kundeverksted"


def test_played_segments_are_merged_into_a_union_and_progress_is_its_share_of_the_length() -> None:
    result = node("segments")
    assert result["steps"] == [
        ["0[.]3", 0.375],
        ["0[.]3[,]6[.]8", 0.625],
        ["0[.]8", 1],
        ["0[.]8", 1],
        ["0[.]8", 1],
    ]
    assert result["gap"] == "0[.]1[,]2[.]3"
    assert result["noLength"] == 0


def test_long_learner_texts_are_dropped_from_the_state_before_it_exceeds_the_budget(tmp_path: Path) -> None:
    result = node("worst-state", course=str(course_json(longest_course(), tmp_path)), textLength=400)
    assert result["length"] <= 4000
    assert result["sameProgress"]
    assert result["textsKept"] < result["textsGiven"] or result["textsGiven"] == 0


def test_state_from_another_course_version_or_garbage_starts_fresh(tmp_path: Path) -> None:
    result = node("roundtrip", course=str(course_json(FIXTURE, tmp_path)))
    assert result["otherVersionFresh"] and result["garbageFresh"]


def test_all_correct_answers_give_full_score_and_an_empty_attempt_is_neither_passed_nor_complete(tmp_path: Path) -> None:
    course = load_course(FIXTURE)
    result = node("roundtrip", course=str(course_json(FIXTURE, tmp_path)))
    assert result["perfect"] == {"scaled": 1, "complete": True, "passed": True, "points": course.max_points}
    assert result["empty"]["complete"] is False and result["empty"]["points"] == 0
    assert result["emptyPassed"] is None


def test_time_formats_follow_scorm12_cmitimespan_and_iso8601() -> None:
    result = node("formats")
    assert result["scorm12"] == ["0000:00:00.00", "0000:00:01.23", "0001:02:03.45", "1000:00:00.00", "9999:00:00.00"]
    assert all(re.fullmatch(r"\d{4}:\d{2}:\d{2}\.\d{2}", v) for v in result["scorm12"])
    assert result["iso"] == ["PT0S", "PT1.23S", "PT1H2M3.45S", "PT1M0S"]
    assert result["locales"] == ["en", "nb", "nb", "en", None, None]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", result["uuid"])


@pytest.mark.parametrize("folder", valid_courses() or [FIXTURE], ids=lambda p: p.name)
def test_every_shipped_course_state_roundtrips(folder: Path, tmp_path: Path) -> None:
    result = node("roundtrip", course=str(course_json(folder, tmp_path)))
    assert result["sameProgress"] and result["reencoded"]
