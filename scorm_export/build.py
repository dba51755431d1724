"""A :class:`content.Course` → one reproducible zip per format (SCORM 1.2, SCORM 2004, cmi5, xAPI/TinCan).

Every package holds the same files; only ``smeb-config.json`` and the
manifest differ (the contract with the player):

- every file of the player folder (``scorm_export/player/``), as it is;
- ``course.json`` = :func:`content.export.course_to_json`;
- every media file the course uses, at its path relative to the course folder;
- ``smeb-config.json`` = ``{"runtime", "courseId", "version"}``;
- the manifest: ``imsmanifest.xml`` (SCORM), ``cmi5.xml`` or ``tincan.xml``.

``index.html`` is the launch file of every format.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, get_args

from content.export import course_to_json
from content.model import Course
from scorm_export.errors import (
    EntryCollisionError,
    MediaNotFoundError,
    PackageSizeWarning,
    PlayerNotFoundError,
    UnknownFormatError,
    UnsafePathError,
)
from scorm_export.manifests import (
    LAUNCH_FILE,
    Renderer,
    cmi5,
    scorm12,
    scorm2004,
    tincan,
)
from scorm_export.state import check_state_budget
from scorm_export.zipwriter import Entry, check_entry_name, write_zip

Format = Literal["scorm12", "scorm2004", "cmi5", "xapi"]
FORMATS: tuple[Format, ...] = get_args(Format)

COURSE_JSON = "course.json"
CONFIG_JSON = "smeb-config.json"
_MANIFESTS: dict[str, tuple[str, Renderer]] = {
    "scorm12": (scorm12.FILENAME, scorm12.render),
    "scorm2004": (scorm2004.FILENAME, scorm2004.render),
    "cmi5": (cmi5.FILENAME, cmi5.render),
    "xapi": (tincan.FILENAME, tincan.render),
}
# Names we generate; a player file with one of these names would be shadowed or confuse an LMS.
RESERVED_NAMES = frozenset({COURSE_JSON, CONFIG_JSON, scorm12.FILENAME, cmi5.FILENAME, tincan.FILENAME})

MB = 1024 * 1024


@dataclass(frozen=True)
class SizeLimits:
    """Above these sizes a package is still built, with a :class:`PackageSizeWarning`."""

    max_file_bytes: int = 50 * MB
    max_total_bytes: int = 200 * MB


DEFAULT_LIMITS = SizeLimits()


def default_player_dir() -> Path:
    """The player shipped inside the package: ``scorm_export/player/``."""
    return Path(str(resources.files("scorm_export").joinpath("player")))


def check_format(fmt: str) -> Format:
    """``fmt`` as a :data:`Format`, or :class:`UnknownFormatError` naming the valid ones."""
    if fmt not in FORMATS:
        raise UnknownFormatError(f"unknown package format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    return fmt  # narrowed to Format by the membership test


def package_name(course: Course, fmt: str) -> str:
    """``<slug>-<version>-<fmt>.zip``."""
    return f"{course.slug}-{course.version}-{check_format(fmt)}.zip"


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def player_entries(player_dir: Path) -> list[Entry]:
    """Every file of the player folder, skipping hidden files (``.DS_Store``, editor swap files).

    Raises:
        PlayerNotFoundError: the folder or its ``index.html`` is missing.
        UnsafePathError: a symlink points outside the player folder.
        EntryCollisionError: a player file has a name the packager generates (``course.json``...).
    """
    if not (player_dir / LAUNCH_FILE).is_file():
        raise PlayerNotFoundError(
            f"{player_dir}: no {LAUNCH_FILE} here; the player (index.html, JS, CSS) must be in scorm_export/player/ "
            "or passed with --player DIR"
        )
    entries: list[Entry] = []
    for path in sorted(player_dir.rglob("*")):
        rel = path.relative_to(player_dir).as_posix()
        if any(part.startswith(".") for part in rel.split("/")) or path.is_dir():
            continue
        if not _inside(player_dir, path):
            raise UnsafePathError(f"player file {rel!r} is a link to {path.resolve()}, outside {player_dir}")
        if not path.is_file():
            continue  # sockets, fifos: nothing a browser could load
        if rel in RESERVED_NAMES:
            raise EntryCollisionError(f"player file {rel!r} has the name of a file the packager writes; rename it")
        entries.append(Entry(rel, source=path))
    return entries


def media_entries(course: Course) -> list[Entry]:
    """The course's media files at their paths relative to the course folder.

    The loader has already refused paths that escape the course folder; this
    checks again because a package is a published artefact and a
    ``../../etc/passwd`` entry would be extracted by some LMSs.

    Raises:
        UnsafePathError: a path is absolute, has ``..``, or resolves (through a symlink) outside the course.
        MediaNotFoundError: a media file is gone since the course was loaded.
    """
    entries: list[Entry] = []
    for rel in course.media_files():
        check_entry_name(rel)
        path = course.root / rel
        if not _inside(course.root, path):
            raise UnsafePathError(f"{course.root}: media {rel!r} resolves to {path.resolve()}, outside the course folder")
        if not path.is_file():
            raise MediaNotFoundError(f"{course.root}: media file {rel!r} is missing; run 'smeb validate' and rebuild")
        entries.append(Entry(rel, source=path))
    return entries


def config_json(course: Course, fmt: Format) -> bytes:
    """``smeb-config.json``: tells the player which runtime API to look for."""
    config = {"runtime": fmt, "courseId": course.id, "version": course.version}
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode("utf-8")


def package_entries(course: Course, fmt: str, player_dir: Path | None = None) -> list[Entry]:
    """Every entry of the package, sorted by name, manifest included."""
    fmt = check_format(fmt)
    player_dir = default_player_dir() if player_dir is None else Path(player_dir)
    entries = [
        *player_entries(player_dir),
        *media_entries(course),
        Entry(COURSE_JSON, data=course_to_json(course).encode("utf-8")),
        Entry(CONFIG_JSON, data=config_json(course, fmt)),
    ]
    manifest_name, render = _MANIFESTS[fmt]
    listed = sorted(entry.name for entry in entries)
    entries.append(Entry(manifest_name, data=render(course, listed)))
    return sorted(entries, key=lambda e: e.name)


def size_warnings(entries: Sequence[Entry], package: str, limits: SizeLimits = DEFAULT_LIMITS) -> list[str]:
    """Messages for files and a total above ``limits`` (uncompressed sizes; media hardly compresses)."""
    messages: list[str] = []
    hint = (
        "Moodle's upload limit is set per site (PHP upload_max_filesize/post_max_size and Moodle's maxbytes) "
        "and is often lower, e.g. 2–100 MB; ask the site administrator, or shorten/re-encode the video."
    )
    total = 0
    for entry in entries:
        size = entry.size
        total += size
        if size > limits.max_file_bytes:
            messages.append(
                f"{package}: {entry.name} is {size / MB:.1f} MB (more than {limits.max_file_bytes / MB:.0f} MB). {hint}"
            )
    if total > limits.max_total_bytes:
        messages.append(
            f"{package}: the package holds {total / MB:.1f} MB (more than {limits.max_total_bytes / MB:.0f} MB). {hint}"
        )
    return messages


def build_package(
    course: Course,
    fmt: str,
    out_dir: str | Path,
    *,
    player_dir: Path | None = None,
    limits: SizeLimits = DEFAULT_LIMITS,
) -> Path:
    """Write ``<out_dir>/<slug>-<version>-<fmt>.zip`` atomically (creating ``out_dir``) and return its path.

    Emits :class:`PackageSizeWarning` (and still builds) when the package is
    larger than ``limits``.

    Raises:
        UnknownFormatError, PlayerNotFoundError, UnsafePathError, EntryCollisionError, MediaNotFoundError:
            see :mod:`scorm_export.errors`; nothing is written.
        StateBudgetError: the course's fullest learner state cannot fit the format (scorm_export/state.py).
        OSError: writing failed; no zip is left under the final name.
    """
    check_state_budget(course, check_format(fmt))  # before anything is written
    entries = package_entries(course, fmt, player_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = package_name(course, fmt)
    for message in size_warnings(entries, name, limits):
        warnings.warn(PackageSizeWarning(message), stacklevel=2)
    return write_zip(out / name, entries)


def build_all(
    course: Course,
    out_dir: str | Path,
    formats: Sequence[str] = FORMATS,
    *,
    player_dir: Path | None = None,
    limits: SizeLimits = DEFAULT_LIMITS,
) -> list[Path]:
    """One package per format in ``formats`` (default: all four); returns their paths in that order."""
    checked = [check_format(fmt) for fmt in formats]  # fail before writing anything
    for fmt in checked:
        check_state_budget(course, fmt)
    return [build_package(course, fmt, out_dir, player_dir=player_dir, limits=limits) for fmt in checked]
