"""Deterministic, atomic zip files: same entries → same bytes, and never a half-written zip.

Determinism: entries are written sorted by name with a fixed timestamp
(1980-01-01 00:00, the earliest a zip can hold), fixed Unix permissions
(0644), a fixed "made by" system and no comment. Bytes of DEFLATED entries
depend on the zlib build, so two machines with different zlib versions may
differ; the same machine always gives the same bytes. Deflate runs at zlib's
default level: level 9 saves well under 1 % on the player's text files and
costs noticeably more time.

Atomicity: the zip is written to a hidden temporary file in the destination
folder, flushed and fsync'ed, then renamed over the final name with
:func:`os.replace` (atomic on POSIX and Windows within one file system). On
any error the temporary file is removed, so the final name is either absent,
the previous complete zip, or the new complete zip.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from scorm_export.errors import EntryCollisionError, UnsafePathError

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # regular file, rw-r--r--
_UNIX = 3  # "made by" = Unix, so external_attr means Unix permissions on every platform

# Formats that are already compressed: deflating them again costs time and gains
# nothing (often a few bytes more), and a STORED video can be range-read by some LMS players.
STORED_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".webm", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp3", ".m4a", ".ogg", ".woff", ".woff2", ".zip", ".gz"}
)


@dataclass(frozen=True)
class Entry:
    """One file of a zip: its name inside the zip and either its bytes or the file to copy."""

    name: str
    data: bytes | None = None
    source: Path | None = None

    def __post_init__(self) -> None:
        check_entry_name(self.name)
        if (self.data is None) == (self.source is None):
            raise ValueError(f"entry {self.name!r} needs exactly one of data or source")

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.source is not None
        return self.source.stat().st_size


def check_entry_name(name: str) -> None:
    """Refuse a zip entry name that could be extracted outside the target folder.

    Raises:
        UnsafePathError: absolute, with a drive letter or backslash, empty, or with ``.``/``..`` segments.
    """
    problem = None
    if not name or name != name.strip():
        problem = "is empty or has leading/trailing spaces"
    elif "\\" in name or ":" in name:
        problem = "contains a backslash or colon (Windows path syntax)"
    elif name.startswith("/"):
        problem = "is absolute"
    elif any(part in ("", ".", "..") for part in name.split("/")):
        problem = "has an empty, '.' or '..' segment"
    elif any(ord(ch) < 32 for ch in name):
        problem = "contains a control character"
    elif posixpath.normpath(name) != name:
        problem = "is not a normalised relative path"
    if problem:
        raise UnsafePathError(f"zip entry {name!r} {problem}; package paths must be plain relative paths like 'media/intro.mp4'")


def compression_for(name: str) -> int:
    """STORED for formats that are already compressed, DEFLATED for everything else."""
    return zipfile.ZIP_STORED if PurePosixPath(name).suffix.lower() in STORED_SUFFIXES else zipfile.ZIP_DEFLATED


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
    info.create_system = _UNIX
    info.external_attr = _FILE_MODE << 16
    info.compress_type = compression_for(name)
    return info


def _write_entries(fileobj: IO[bytes], entries: list[Entry]) -> None:
    with zipfile.ZipFile(fileobj, "w", allowZip64=True) as zf:
        for entry in entries:
            info = _info(entry.name)
            if entry.data is not None:
                zf.writestr(info, entry.data)
                continue
            assert entry.source is not None
            with entry.source.open("rb") as src:
                size = os.fstat(src.fileno()).st_size
                info.file_size = size
                with zf.open(info, "w", force_zip64=size > zipfile.ZIP64_LIMIT) as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)


def write_zip(dest: Path, entries: Iterable[Entry]) -> Path:
    """Write ``entries`` (sorted by name) to ``dest`` atomically; returns ``dest``.

    Raises:
        EntryCollisionError: two entries have the same name.
        UnsafePathError: an entry name could escape the extraction folder.
        OSError: reading a source or writing the zip failed (``dest`` is left untouched).
    """
    ordered = sorted(entries, key=lambda e: e.name)
    for before, after in itertools.pairwise(ordered):
        if before.name == after.name:
            raise EntryCollisionError(f"two files would be stored as {before.name!r} in {dest.name}")
    dest = Path(dest)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as fileobj:
            _write_entries(fileobj, ordered)
            fileobj.flush()
            os.fsync(fileobj.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a package is meant to be shared
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)
    return dest


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; not every platform lets a directory be opened, so this is best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
