"""Every malformed course under tests/fixtures/courses/invalid/NNN-<rule>/ gives its specific errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from content import CourseValidationError, load_course
from smeb_lti.cli import main

INVALID = Path(__file__).resolve().parents[1] / "fixtures" / "courses" / "invalid"
CASES = sorted(p for p in INVALID.iterdir() if p.is_dir())


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_there_is_an_invalid_fixture_for_at_least_fifteen_rules() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_an_invalid_course_reports_exactly_its_errors_with_file_line_and_path(case: Path) -> None:
    expected = yaml.safe_load((case / "expected.yaml").read_text("utf-8"))["errors"]
    before = _snapshot(case)
    with pytest.raises(CourseValidationError) as info:
        load_course(case)
    got = [
        {"file": str(Path(e.file).relative_to(case)), "line": e.line, "path": e.path, "rule": e.rule}
        for e in info.value.errors
    ]
    assert got == expected
    assert all(e.message for e in info.value.errors), "every error says what was expected"
    assert _snapshot(case) == before, "validation must not write anything"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_smeb_validate_exits_non_zero_and_prints_the_rule(case: Path) -> None:
    expected = yaml.safe_load((case / "expected.yaml").read_text("utf-8"))["errors"]
    result = CliRunner().invoke(main, ["validate", str(case)])
    assert result.exit_code == 1
    for error in expected:
        assert f"[{error['rule']}]" in result.output
        assert error["file"] in result.output


def test_the_folder_name_names_a_rule_that_the_course_breaks() -> None:
    for case in CASES:
        rules = {e["rule"] for e in yaml.safe_load((case / "expected.yaml").read_text("utf-8"))["errors"]}
        assert rules, case.name


def test_a_run_reports_every_error_not_only_the_first(tmp_path: Path) -> None:
    import shutil

    course = tmp_path / "many"
    shutil.copytree(INVALID / "004-dangling-branch", course)
    lesson = course / "lessons" / "01.md"
    lesson.write_text(lesson.read_text("utf-8").replace("src: media/clip.mp4", "src: media/borte.mp4"), "utf-8")
    (course / "course.yaml").write_text((course / "course.yaml").read_text("utf-8") + "ekstra: 1\n", "utf-8")
    with pytest.raises(CourseValidationError) as info:
        load_course(course)
    rules = {e.rule for e in info.value.errors}
    assert {"dangling-branch", "unreachable-step", "missing-media", "schema-additionalProperties"} <= rules
