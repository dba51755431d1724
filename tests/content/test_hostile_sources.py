"""Hostile course sources: YAML alias bombs, deep nesting, huge files and media paths that leave media/.

Each is refused by the loader with a :class:`CourseValidationError` naming the file, line and field, quickly
and without building the document the attacker hoped for (issue 13, docs/security.md).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from content import CourseValidationError, load_course
from smeb_lti.cli import main

REPO = Path(__file__).resolve().parents[2]
VALID = REPO / "tests" / "fixtures" / "courses" / "valid" / "all-blocks"
SMEB = REPO / ".venv" / "bin" / "smeb"

# Nine levels of ten aliases each: 10**9 leaves once expanded ("billion laughs").
BOMB = "\n".join(
    ['lol0: &a0 ["lol"]']
    + [f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
)


def _course(tmp_path: Path) -> Path:
    course = tmp_path / "kurs"
    shutil.copytree(VALID, course)
    return course


def _errors(course: Path) -> list[tuple[str, int | None, str, str]]:
    with pytest.raises(CourseValidationError) as info:
        load_course(course)
    return [(str(Path(e.file).relative_to(course)), e.line, e.path, e.rule) for e in info.value.errors]


def _lesson_bomb(course: Path) -> None:
    lesson = course / "lessons" / "02-samling.md"
    indented = "\n".join("  " + line for line in BOMB.splitlines())
    lesson.write_text(lesson.read_text("utf-8").replace("mode: in-person\n", "mode: in-person\nnotes:\n" + indented + "\n"), "utf-8")


def test_a_yaml_alias_bomb_in_course_yaml_is_refused_at_once_by_the_loader(tmp_path: Path) -> None:
    course = _course(tmp_path)
    (course / "course.yaml").write_text((course / "course.yaml").read_text("utf-8") + BOMB + "\n", "utf-8")
    started = time.monotonic()
    errors = _errors(course)
    assert time.monotonic() - started < 5
    assert errors == [("course.yaml", 28, "", "yaml-alias")], "the first anchor's line, no half-built document"


def test_a_yaml_alias_bomb_in_a_lesson_block_is_refused_with_the_lesson_line(tmp_path: Path) -> None:
    course = _course(tmp_path)
    _lesson_bomb(course)
    started = time.monotonic()
    errors = _errors(course)
    assert time.monotonic() - started < 5
    assert ("lessons/02-samling.md", 10, "", "yaml-alias") in errors


def test_smeb_validate_refuses_an_alias_bomb_within_seconds_with_file_and_line(tmp_path: Path) -> None:
    course = _course(tmp_path)
    _lesson_bomb(course)
    started = time.monotonic()
    try:
        result = subprocess.run([str(SMEB), "validate", str(course)], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("smeb validate still ran after 60 s on an alias bomb")
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert f"{course / 'lessons' / '02-samling.md'}:10:" in result.stdout + result.stderr
    assert "[yaml-alias]" in result.stdout + result.stderr


def test_deeply_nested_yaml_is_refused_with_its_line_not_a_recursion_error(tmp_path: Path) -> None:
    course = _course(tmp_path)
    (course / "course.yaml").write_text((course / "course.yaml").read_text("utf-8") + "deep: " + "[" * 500 + "]" * 500 + "\n", "utf-8")
    assert _errors(course) == [("course.yaml", 28, "", "yaml-depth")]


def test_a_source_file_over_the_size_limit_is_refused_without_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    course = _course(tmp_path)
    lesson = course / "lessons" / "01-alt.md"
    lesson.write_text(lesson.read_text("utf-8") + "<!-- " + "x" * 3_000_000 + " -->\n", "utf-8")
    errors = _errors(course)
    assert errors == [("lessons/01-alt.md", None, "", "file-size")]


def test_the_size_limit_is_a_validated_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from content.limits import SourceLimitError, limits_from
    from smeb_lti.settings import Settings, SettingsError, course_limits

    course = _course(tmp_path)
    with pytest.raises(CourseValidationError) as info:
        load_course(course, limits=limits_from({"SMEB_COURSE_MAX_FILE_BYTES": "1000"}))
    assert ("lessons/01-alt.md", None, "", "file-size") in [  # 4 kB; course.yaml is 0.7 kB
        (str(Path(e.file).relative_to(course)), e.line, e.path, e.rule) for e in info.value.errors
    ]
    monkeypatch.setenv("SMEB_COURSE_MAX_FILE_BYTES", "1000")
    result = CliRunner().invoke(main, ["validate", str(course)])
    assert result.exit_code == 1 and "larger than 1000 bytes" in result.output  # the command reads the setting
    assert Settings.from_env().course_limits.max_file_bytes == 1000  # and so does the tool
    monkeypatch.setenv("SMEB_COURSE_MAX_FILE_BYTES", "lots")
    with pytest.raises(SourceLimitError, match="SMEB_COURSE_MAX_FILE_BYTES"):
        limits_from({"SMEB_COURSE_MAX_FILE_BYTES": "lots"})
    with pytest.raises(SettingsError, match="SMEB_COURSE_MAX_FILE_BYTES"):
        course_limits()
    result = CliRunner().invoke(main, ["validate", str(course)])
    assert result.exit_code == 1 and "SMEB_COURSE_MAX_FILE_BYTES='lots' is not a whole number" in result.output
    monkeypatch.setenv("SMEB_COURSE_MAX_FILE_BYTES", "1000")
    monkeypatch.setenv("SMEB_COURSE_MAX_YAML_DEPTH", "2")
    with pytest.raises(SettingsError, match="SMEB_COURSE_MAX_YAML_DEPTH=2 is out of range"):
        course_limits()


def test_the_shipped_courses_use_no_yaml_anchors_or_aliases() -> None:
    from content import discover

    for folder in discover():
        load_course(folder)  # would fail with yaml-alias


# ---------- media paths (item 12c) ----------


@pytest.mark.parametrize(
    "src,rule",
    [
        ("/etc/passwd", "image-path"),
        ("file:///etc/passwd", "image-path"),
        ("https://evil.example/x.png", "image-path"),
        ("media/../course.yaml", "path-escape"),
        ("../../etc/passwd", "path-escape"),
    ],
)
def test_an_image_outside_the_media_folder_is_refused_with_file_line_and_field(tmp_path: Path, src: str, rule: str) -> None:
    course = _course(tmp_path)
    lesson = course / "lessons" / "01-alt.md"
    lesson.write_text(lesson.read_text("utf-8").replace("![Et enkelt diagram](media/diagram.png)", f"![Et enkelt diagram]({src})"), "utf-8")
    assert _errors(course) == [("lessons/01-alt.md", 8, "$.blocks[0].nb", rule)]


@pytest.mark.parametrize("field", ["poster", "src"])
@pytest.mark.parametrize("value", ["media/../course.yaml", "media/../lessons/01-alt.md"])
def test_a_video_file_outside_the_media_folder_is_refused(tmp_path: Path, field: str, value: str) -> None:
    course = _course(tmp_path)
    lesson = course / "lessons" / "01-alt.md"
    old = {"poster": "poster: media/poster.png", "src": "src: media/clip.mp4"}[field]
    lesson.write_text(lesson.read_text("utf-8").replace(old, f"{field}: {value}"), "utf-8")
    line = {"poster": 16, "src": 15}[field]
    assert _errors(course) == [("lessons/01-alt.md", line, f"$.blocks[1].{field}", "path-escape")]


def test_a_media_symlink_to_a_file_outside_the_course_is_refused(tmp_path: Path) -> None:
    course = _course(tmp_path)
    (course / "media" / "diagram.png").unlink()
    (course / "media" / "diagram.png").symlink_to("/etc/passwd")
    assert _errors(course) == [("lessons/01-alt.md", 8, "$.blocks[0].nb", "path-escape"), ("lessons/01-alt.md", 10, "$.blocks[0].en", "path-escape")]
