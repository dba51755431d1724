"""``smeb build``: through click's CliRunner, and once as a real process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import content
from smeb_lti.cli import main

REPO = Path(__file__).resolve().parents[2]
FIXTURE_COURSE = REPO / "tests" / "fixtures" / "courses" / "valid" / "all-blocks"


@pytest.fixture
def player(tmp_path: Path) -> Path:
    """A stand-in for scorm_export/player/ (written in parallel by another engineer); only in a tmp dir."""
    folder = tmp_path / "player"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><title>player</title>\n", encoding="utf-8")
    (folder / "player.js").write_text("console.log('player');\n", encoding="utf-8")
    return folder


@pytest.fixture
def invalid_course(tmp_path: Path) -> Path:
    """The fixture course with two errors: a passing score above 1 and a missing caption file."""
    folder = Path(shutil.copytree(FIXTURE_COURSE, tmp_path / "broken"))
    yaml_path = folder / "course.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace("passing_score: 0.5", "passing_score: 5"), encoding="utf-8")
    (folder / "media" / "clip.en.vtt").unlink()
    return folder


def test_build_writes_every_format_for_a_course_folder(player: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    result = CliRunner().invoke(main, ["build", str(FIXTURE_COURSE), "--out", str(out), "--player", str(player)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [f"all-blocks-1.0.0-{f}.zip" for f in ("cmi5", "scorm12", "scorm2004", "xapi")]
    assert result.output.count("built  ") == 4


def test_build_with_one_format_writes_only_that_zip(player: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    result = CliRunner().invoke(main, ["build", str(FIXTURE_COURSE), "--format", "cmi5", "--out", str(out), "--player", str(player)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["all-blocks-1.0.0-cmi5.zip"]
    with zipfile.ZipFile(out / "all-blocks-1.0.0-cmi5.zip") as zf:
        assert "cmi5.xml" in zf.namelist()


def test_build_refuses_an_invalid_course_prints_the_loaders_errors_and_writes_nothing(invalid_course: Path, player: Path, tmp_path: Path) -> None:
    with pytest.raises(content.CourseValidationError) as caught:
        content.load_course(invalid_course)
    assert len(caught.value.errors) >= 2
    out = tmp_path / "dist"
    result = CliRunner().invoke(main, ["build", str(FIXTURE_COURSE), str(invalid_course), "--out", str(out), "--player", str(player)])
    assert result.exit_code == 1
    for error in caught.value.errors:
        assert str(error) in result.output
    assert "nothing was built" in result.output
    assert not out.exists() or list(out.iterdir()) == []  # not even the valid course was built


def test_build_names_an_unknown_course(player: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", "no-such-course", "--out", str(tmp_path / "dist"), "--player", str(player)])
    assert result.exit_code == 1
    assert "no-such-course" in result.output


def test_build_refuses_an_unknown_format(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(FIXTURE_COURSE), "--format", "aicc", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "scorm12" in result.output


def test_build_reports_a_missing_player_without_a_traceback(tmp_path: Path) -> None:
    empty = tmp_path / "empty-player"
    empty.mkdir()
    result = CliRunner().invoke(main, ["build", str(FIXTURE_COURSE), "--out", str(tmp_path / "dist"), "--player", str(empty)])
    assert result.exit_code == 1
    assert "no index.html" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_build_warns_about_a_video_too_big_for_typical_moodle_uploads(player: Path, tmp_path: Path) -> None:
    folder = Path(shutil.copytree(FIXTURE_COURSE, tmp_path / "all-blocks"))
    with (folder / "media" / "clip.mp4").open("r+b") as video:
        video.truncate(51 * 1024 * 1024)  # sparse: 51 MB without using the disk
    out = tmp_path / "dist"
    result = CliRunner().invoke(main, ["build", str(folder), "--format", "scorm12", "--out", str(out), "--player", str(player)])
    assert result.exit_code == 0, result.output
    assert "warning: all-blocks-1.0.0-scorm12.zip: media/clip.mp4 is 51.0 MB" in result.output
    assert "Moodle" in result.output
    assert (out / "all-blocks-1.0.0-scorm12.zip").is_file()


def test_smeb_build_runs_as_a_real_process(player: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-c", "from smeb_lti.cli import main; main()", "build", str(FIXTURE_COURSE), "--format", "xapi", "--out", str(out), "--player", str(player)]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (out / "all-blocks-1.0.0-xapi.zip").is_file()
    assert str(out / "all-blocks-1.0.0-xapi.zip") in result.stdout
