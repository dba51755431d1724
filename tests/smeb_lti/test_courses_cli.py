"""``smeb courses install`` with a folder that holds no course sources: a clear, non-zero error (issue 18 item 8)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from smeb_lti.cli import main
from tests.conftest import FIXTURES


@pytest.fixture
def cmi5_folder(tmp_path: Path) -> Path:
    """A real cmi5 package of the fixture course, unpacked (cmi5.xml, course.json, the player)."""
    from content import load_course
    from scorm_export.build import build_package

    package = build_package(load_course(FIXTURES / "courses" / "valid" / "all-blocks"), "cmi5", tmp_path / "zips")
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(folder)
    assert (folder / "cmi5.xml").is_file()
    return folder


def test_installing_a_cmi5_package_folder_fails_clearly_and_installs_nothing(db_url: str, cmi5_folder: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMEB_DATABASE_URL", db_url)
    runner = CliRunner()
    result = runner.invoke(main, ["courses", "install", str(cmi5_folder)])
    assert result.exit_code == 1, result.output
    assert "is a cmi5 package (cmi5.xml), not course sources" in result.output and "nothing installed" in result.output
    assert "Traceback" not in result.output
    assert "No courses installed" in runner.invoke(main, ["courses"]).output


def test_installing_a_folder_without_courses_fails(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMEB_DATABASE_URL", db_url)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["courses", "install", str(empty)])
    assert result.exit_code == 1 and "no course.yaml in this folder or its subfolders" in result.output


def test_a_folder_of_courses_still_installs_each(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMEB_DATABASE_URL", db_url)
    result = CliRunner().invoke(main, ["courses", "install", str(FIXTURES / "courses" / "valid")])
    assert result.exit_code == 0 and "installed  all-blocks" in result.output
