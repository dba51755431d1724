"""A generated 450-question course played to the end in chromium (issue 13, items 12b and 12e).

Before issue 13 the player's state grew by ~10 characters per answer against a fixed 4,000-character budget
in every format, so a learner of this course was stuck at lesson 24 ("state exceeds 4000 characters"), even in
SCORM 2004, whose suspend_data holds 64,000. Now the state is compact and budgeted per format; this plays the
SCORM 2004 package in the test LMS (scorm-again) through all 30 lessons and checks completion, the score, the
suspend data and the interaction timestamps (SCORM 2004 time(second,10,0) with its zone).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from content import load_course
from tests.e2e.test_player_browser import Site, assemble_package, expected_scaled, scorm_launch, site  # noqa: F401
from tests.scorm_export.big_course import write_big_course
from tests.support.node import run_driver

pytestmark = pytest.mark.browser

# SCORM 2004 RTE 4.1.1.7 time(second,10,0): YYYY[-MM[-DD[Thh[:mm[:ss[.s[TZD]]]]]]], TZD = Z or +hh:mm / -hh:mm.
SCORM2004_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,2})?(Z|[+-]\d{2}(:\d{2})?)")


def test_a_450_question_scorm2004_course_plays_to_the_end_with_zoned_interaction_timestamps(site: Site, tmp_path: Path) -> None:  # noqa: F811
    course = load_course(write_big_course(tmp_path / "stort-kurs", 450))
    wrong = {q.id for q in course.quizzes[::4]}
    pkg = assemble_package(course, "scorm2004", site.root / "pkg")
    result = run_driver(
        "drive-scorm.js",
        {"base": site.base, "pkg": scorm_launch(pkg), "api": "scorm2004", "course": str(pkg / "course.json"), "wrong": sorted(wrong),
         "reloadAfter": course.quizzes[-20].id},
    )
    assert result["errors"] == [], "\n".join(result["errors"][:20])
    cmi = result["lms"]["last"]
    assert cmi["completion_status"] == "completed"
    assert cmi["success_status"] == "passed"
    assert float(cmi["score"]["scaled"]) == pytest.approx(expected_scaled(course, wrong), abs=1e-4)
    # Resume near the end: the state written in lesson 29 (index 28) still held every answer.
    reload = result["reload"]
    assert reload["after"]["lesson"] == reload["before"]["lesson"] == 28
    assert reload["after"]["state"] == reload["before"]["state"]
    assert len(cmi["suspend_data"]) < 4096
    stamps = [value for element, value in result["lms"]["sets"] if re.fullmatch(r"cmi\.interactions\.\d+\.timestamp", element)]
    assert len(stamps) >= 450
    bad = [s for s in stamps if not SCORM2004_TIME.fullmatch(s)]
    assert bad == [], f"not SCORM 2004 time(second,10,0) with a zone: {bad[:3]}"
