"""The learner state against each format's storage (issue 13, item 12b).

The player's state must fit where the runtime keeps it — SCORM 1.2 ``cmi.suspend_data`` (4096), SCORM 2004
(64000), the xAPI State API and the LTI tool (64000) — so ``smeb build`` refuses a course whose fullest state
cannot fit a format, naming the course, the format, the size and the limit; and the state is compact enough
that a 450-question course fits even SCORM 1.2. The browser half (playing such a course to the end) is
tests/e2e/test_big_course_browser.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from content import load_course
from content.export import course_to_json
from scorm_export import FORMATS, StateBudgetError, build_package
from scorm_export.state import STATE_BUDGETS, check_state_budget, fingerprint, worst_case_state_bytes
from smeb_lti.cli import main
from tests.scorm_export.big_course import write_big_course
from tests.support.node import run_node

REPO = Path(__file__).resolve().parents[2]
CHECK = Path(__file__).resolve().parent / "state-check.js"
FIXTURE = REPO / "tests" / "fixtures" / "courses" / "valid" / "all-blocks"


def node(**options: Any) -> dict[str, Any]:
    return run_node(CHECK, options, timeout=120)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def big450(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_big_course(tmp_path_factory.mktemp("big") / "stort-kurs", 450)


@pytest.fixture(scope="module")
def big2000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_big_course(tmp_path_factory.mktemp("huge") / "svaert-stort-kurs", 2000, per_lesson=40)


def test_the_packager_and_the_player_agree_on_each_formats_budget() -> None:
    budgets = node()["budgets"]
    assert budgets == STATE_BUDGETS
    assert budgets["scorm12"] == 4096 and budgets["scorm2004"] == 64000 and budgets["xapi"] == 32000
    assert set(FORMATS) <= set(budgets)


@pytest.mark.parametrize("folder", ["fixture", "big450"])
def test_the_build_time_worst_case_bounds_the_fullest_state_the_player_writes(folder: str, big450: Path, tmp_path: Path) -> None:
    course = load_course(FIXTURE if folder == "fixture" else big450)
    path = tmp_path / "course.json"
    path.write_text(course_to_json(course), encoding="utf-8")
    result = node(course=str(path))
    assert result["fingerprint"] == fingerprint(course)
    assert result["roundtrip"]
    assert result["bytes"] <= worst_case_state_bytes(course) <= result["bytes"] + 16, "a tight upper bound"
    assert result["v1"]["lesson"] == 1 and result["v1"]["answer"] == [0, 1]
    assert result["tooSmall"] and "exceeds 20 bytes" in result["tooSmall"]


def test_a_450_question_course_fits_every_format_including_scorm12(big450: Path, tmp_path: Path) -> None:
    course = load_course(big450)
    assert len(course.quizzes) == 450
    size = worst_case_state_bytes(course)
    assert size < 4096, f"compact state: {size} bytes for 450 questions"
    result = CliRunner().invoke(main, ["build", str(big450), "--format", "all", "--out", str(tmp_path / "dist")])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "dist").glob("*.zip"))) == len(FORMATS)


def test_smeb_build_refuses_scorm12_for_a_course_whose_state_cannot_fit_and_says_why(big2000: Path, tmp_path: Path) -> None:
    course = load_course(big2000)
    size = worst_case_state_bytes(course)
    assert size > 4096
    out = tmp_path / "dist"
    result = CliRunner().invoke(main, ["build", str(big2000), "--format", "scorm12", "--out", str(out)])
    assert result.exit_code == 1
    message = result.output
    assert "svaert-stort-kurs" in message and "scorm12" in message and str(size) in message and "4096" in message
    assert not list(out.glob("*.zip")), "nothing is written for a refused format"
    with pytest.raises(StateBudgetError):
        build_package(course, "scorm12", tmp_path / "direct")
    assert not (tmp_path / "direct").exists() or not list((tmp_path / "direct").iterdir())
    # The same course has room in SCORM 2004.
    assert check_state_budget(course, "scorm2004") == size
    assert build_package(course, "scorm2004", tmp_path / "ok").is_file()
