"""build_package / build_all: the package contract, reproducibility, compression, atomicity and hostile paths."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

import content
from content.export import course_to_json
from content.model import Course, VideoBlock
from scorm_export import (
    FORMATS,
    EntryCollisionError,
    MediaNotFoundError,
    PackageSizeWarning,
    PlayerNotFoundError,
    SizeLimits,
    UnknownFormatError,
    UnsafePathError,
    build_all,
    build_package,
    package_name,
)
from scorm_export.zipwriter import Entry, check_entry_name, write_zip

REPO = Path(__file__).resolve().parents[2]
FIXTURE_COURSE = REPO / "tests" / "fixtures" / "courses" / "valid" / "all-blocks"
MANIFEST = {"scorm12": "imsmanifest.xml", "scorm2004": "imsmanifest.xml", "cmi5": "cmi5.xml", "xapi": "tincan.xml"}
PLAYER_FILES = {"index.html": "<!doctype html><title>player</title>\n", "js/core.js": "console.log('core');\n" * 50, "css/player.css": "body{margin:0}\n", "fonts/x.woff2": "wOF2"}


@pytest.fixture
def player(tmp_path: Path) -> Path:
    """A stand-in for scorm_export/player/ (the real one is written in parallel); only ever in a tmp dir."""
    folder = tmp_path / "player"
    for name, text in PLAYER_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\0junk")
    return folder


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    """A private copy of the fixture course, so tests may change its files."""
    return Path(shutil.copytree(FIXTURE_COURSE, tmp_path / "all-blocks"))


@pytest.fixture
def course(course_dir: Path) -> Course:
    return content.load_course(course_dir)


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_package_holds_the_player_course_json_media_config_and_manifest(fmt: str, course: Course, player: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    path = build_package(course, fmt, out, player_dir=player)
    assert path == out / f"all-blocks-1.0.0-{fmt}.zip"
    expected = {*PLAYER_FILES, "course.json", "smeb-config.json", MANIFEST[fmt], *course.media_files()}
    assert set(_names(path)) == expected
    with zipfile.ZipFile(path) as zf:
        assert zf.read("course.json").decode("utf-8") == course_to_json(course)
        assert json.loads(zf.read("smeb-config.json")) == {"runtime": fmt, "courseId": course.id, "version": "1.0.0"}
        for name in PLAYER_FILES:
            assert zf.read(name) == (player / name).read_bytes()
        for name in course.media_files():
            assert zf.read(name) == (course.root / name).read_bytes()
        assert zf.testzip() is None


def test_hidden_files_in_the_player_folder_are_left_out(course: Course, player: Path, tmp_path: Path) -> None:
    path = build_package(course, "scorm12", tmp_path, player_dir=player)
    assert ".DS_Store" not in _names(path)


def test_build_all_writes_one_zip_per_format_named_slug_version_format(course: Course, player: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    out.mkdir()
    paths = build_all(course, out, player_dir=player)
    assert [p.name for p in paths] == [f"all-blocks-1.0.0-{fmt}.zip" for fmt in ("scorm12", "scorm2004", "cmi5", "xapi")]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)


def test_building_twice_gives_byte_identical_zips_even_after_sources_are_touched(course_dir: Path, player: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    build_all(content.load_course(course_dir), first, player_dir=player)
    for path in [*course_dir.rglob("*"), *player.rglob("*")]:
        os.utime(path, (1_700_000_000, 1_700_000_000))
        if path.is_file():
            path.chmod(0o600)
    build_all(content.load_course(course_dir), second, player_dir=player)
    for zip_a in sorted(first.iterdir()):
        assert zip_a.read_bytes() == (second / zip_a.name).read_bytes(), zip_a.name


def test_entries_are_sorted_with_fixed_timestamps_and_permissions(course: Course, player: Path, tmp_path: Path) -> None:
    path = build_package(course, "scorm2004", tmp_path, player_dir=player)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
        assert info.create_system == 3
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_compressed_media_is_stored_and_everything_else_deflated(course: Course, player: Path, tmp_path: Path) -> None:
    path = build_package(course, "cmi5", tmp_path, player_dir=player)
    with zipfile.ZipFile(path) as zf:
        kinds = {i.filename: i.compress_type for i in zf.infolist()}
    stored = {n for n, k in kinds.items() if k == zipfile.ZIP_STORED}
    assert stored == {"media/clip.mp4", "media/diagram.png", "media/poster.png", "fonts/x.woff2"}
    assert kinds["course.json"] == kinds["cmi5.xml"] == kinds["media/clip.nb.vtt"] == kinds["js/core.js"] == zipfile.ZIP_DEFLATED


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_zip_entry_can_escape_the_extraction_folder(fmt: str, course: Course, player: Path, tmp_path: Path) -> None:
    path = build_package(course, fmt, tmp_path, player_dir=player)
    for name in _names(path):
        assert not name.startswith("/") and "\\" not in name and ":" not in name
        assert ".." not in name.split("/")


@pytest.mark.parametrize(
    "name",
    ["../etc/passwd", "media/../../x", "/abs/path", "C:/windows", "media\\..\\x", "", "media//x", "./x", "media/x/", " x", "a\nb"],
)
def test_hostile_entry_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafePathError):
        check_entry_name(name)


def _with_video_src(course: Course, src: str) -> Course:
    """The course with its first video pointing at ``src`` (what a tampered model would hold)."""
    modules = []
    for module in course.modules:
        lessons = []
        for lesson in module.lessons:
            blocks = tuple(dataclasses.replace(b, src=src) if isinstance(b, VideoBlock) else b for b in lesson.blocks)
            lessons.append(dataclasses.replace(lesson, blocks=blocks))
        modules.append(dataclasses.replace(module, lessons=tuple(lessons)))
    return dataclasses.replace(course, modules=tuple(modules))


@pytest.mark.parametrize("src", ["../secret.mp4", "/etc/passwd", "media/../../secret.mp4"])
def test_media_paths_that_escape_the_course_folder_are_refused_and_nothing_is_written(src: str, course: Course, player: Path, tmp_path: Path) -> None:
    (course.root.parent / "secret.mp4").write_bytes(b"secret")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsafePathError):
        build_package(_with_video_src(course, src), "scorm12", out, player_dir=player)
    assert list(out.iterdir()) == []


def test_a_media_symlink_to_outside_the_course_is_refused(course: Course, player: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"not course media")
    target = course.root / "media" / "diagram.png"
    target.unlink()
    target.symlink_to(outside)
    with pytest.raises(UnsafePathError, match="outside the course folder"):
        build_package(course, "xapi", tmp_path, player_dir=player)


def test_a_player_symlink_to_outside_the_player_is_refused(course: Course, player: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    (player / "leak.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(UnsafePathError, match=r"leak\.txt"):
        build_package(course, "xapi", tmp_path, player_dir=player)


def test_media_deleted_after_loading_is_reported_before_anything_is_written(course: Course, player: Path, tmp_path: Path) -> None:
    (course.root / "media" / "clip.mp4").unlink()
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(MediaNotFoundError, match=r"media/clip\.mp4"):
        build_package(course, "scorm12", out, player_dir=player)
    assert list(out.iterdir()) == []


def test_a_player_without_index_html_is_refused(course: Course, player: Path, tmp_path: Path) -> None:
    (player / "index.html").unlink()
    with pytest.raises(PlayerNotFoundError, match=r"index\.html"):
        build_package(course, "cmi5", tmp_path, player_dir=player)


@pytest.mark.parametrize("reserved", ["course.json", "smeb-config.json", "imsmanifest.xml", "cmi5.xml", "tincan.xml"])
def test_a_player_file_with_a_generated_name_is_refused(reserved: str, course: Course, player: Path, tmp_path: Path) -> None:
    (player / reserved).write_text("{}")
    with pytest.raises(EntryCollisionError, match=reserved):
        build_package(course, "xapi", tmp_path, player_dir=player)


def test_a_player_file_that_collides_with_course_media_is_refused(course: Course, player: Path, tmp_path: Path) -> None:
    (player / "media").mkdir()
    (player / "media" / "clip.mp4").write_bytes(b"player's own")
    with pytest.raises(EntryCollisionError, match=r"media/clip\.mp4"):
        build_package(course, "scorm12", tmp_path, player_dir=player)
    assert not list(tmp_path.glob("*.zip"))


def test_an_unknown_format_is_refused_before_anything_is_written(course: Course, player: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnknownFormatError, match="scorm12, scorm2004, cmi5, xapi"):
        build_all(course, out, ["scorm12", "aicc"], player_dir=player)
    assert list(out.iterdir()) == []
    with pytest.raises(UnknownFormatError):
        package_name(course, "scorm")


def test_large_media_gives_a_warning_that_mentions_moodle_and_still_builds(course: Course, player: Path, tmp_path: Path) -> None:
    limits = SizeLimits(max_file_bytes=10, max_total_bytes=1000)
    with pytest.warns(PackageSizeWarning) as caught:
        path = build_package(course, "scorm12", tmp_path, player_dir=player, limits=limits)
    messages = [str(w.message) for w in caught]
    assert any("media/diagram.png" in m and "Moodle" in m for m in messages)
    assert any("the package holds" in m for m in messages)
    assert path.is_file()


def test_a_normal_package_gives_no_size_warning(course: Course, player: Path, tmp_path: Path) -> None:
    # pytest turns warnings into errors here (filterwarnings = error), so a spurious warning fails this test.
    assert build_package(course, "scorm12", tmp_path, player_dir=player).is_file()


def test_a_failing_rebuild_keeps_the_previous_zip_and_leaves_no_temporary_file(course: Course, player: Path, tmp_path: Path) -> None:
    path = build_package(course, "scorm12", tmp_path, player_dir=player)
    before = path.read_bytes()
    with pytest.raises(EntryCollisionError):
        write_zip(path, [Entry("a.txt", data=b"1"), Entry("a.txt", data=b"2")])
    with pytest.raises(IsADirectoryError):
        write_zip(path, [Entry("a.txt", data=b"1"), Entry("b.mp4", source=tmp_path)])  # a folder is not readable as a file
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".zip") or p.name.endswith(".part")) == [path.name]


def test_a_write_that_fails_midway_leaves_no_zip(course_dir: Path, player: Path, tmp_path: Path) -> None:
    """A real write error (file size limit, as on a full disk) while the big video is being written."""
    (course_dir / "media" / "clip.mp4").write_bytes(os.urandom(512 * 1024))
    out = tmp_path / "out"
    out.mkdir()
    script = textwrap.dedent(
        f"""
        import resource, signal
        from pathlib import Path
        import content
        from scorm_export import build_package
        course = content.load_course({str(course_dir)!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG as an OSError instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))
        build_package(course, "scorm12", Path({str(out)!r}), player_dir=Path({str(player)!r}))
        """
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode != 0
    assert "File too large" in result.stderr, result.stderr
    assert list(out.iterdir()) == []


def test_the_default_player_is_every_visible_file_of_scorm_export_player(course: Course, tmp_path: Path) -> None:
    from scorm_export import default_player_dir

    player = default_player_dir()
    assert player == REPO / "scorm_export" / "player"
    assert (player / "index.html").is_file()
    path = build_package(course, "scorm12", tmp_path / "new-dir")
    shipped = {p.relative_to(player).as_posix() for p in player.rglob("*") if p.is_file() and not any(s.startswith(".") for s in p.relative_to(player).parts)}
    assert shipped <= set(_names(path))
    assert set(_names(path)) - shipped == {"course.json", "smeb-config.json", "imsmanifest.xml", *course.media_files()}


def test_scorm_export_imports_without_flask() -> None:
    """Dependency direction: scorm_export → {content, xapi}, never the Flask edge."""
    script = "import sys; sys.modules['flask'] = None; sys.modules['smeb_lti'] = None; import scorm_export, scorm_export.build"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
