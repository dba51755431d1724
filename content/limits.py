"""Limits on course sources, so a hostile or broken source cannot hang or exhaust the loader.

Course sources may come from customers (``smeb courses install``, ``smeb validate``), so the loader treats
them as untrusted: each file is size-checked before it is read, YAML anchors and aliases are refused (an
alias bomb expands to billions of nodes; no shipped course uses them), and YAML nesting is bounded (deep
nesting would exhaust the parser's recursion). Settings (documented in docs/security.md and the README's configuration table):

``SMEB_COURSE_MAX_FILE_BYTES``  largest course.yaml or lesson file, default 1 MB (shipped lessons are < 20 kB).
``SMEB_COURSE_MAX_YAML_DEPTH``  deepest YAML nesting (mappings and lists), default 32 (courses use < 10).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from content.errors import CourseError

DEFAULT_MAX_FILE_BYTES = 1_000_000
DEFAULT_MAX_YAML_DEPTH = 32


class SourceLimitError(CourseError, ValueError):
    """A SMEB_COURSE_* setting is not a valid limit; the message names the variable."""


@dataclass(frozen=True)
class SourceLimits:
    """How much the loader reads from one course source file."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_yaml_depth: int = DEFAULT_MAX_YAML_DEPTH


def _positive_int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SourceLimitError(f"{name}={raw!r} is not a whole number; expected {low}..{high} (default {default})") from None
    if not low <= value <= high:
        raise SourceLimitError(f"{name}={value} is out of range; expected {low}..{high} (default {default})")
    return value


def source_limits() -> SourceLimits:
    """The limits from the environment (validated; an invalid value raises :class:`SourceLimitError`)."""
    return SourceLimits(
        max_file_bytes=_positive_int("SMEB_COURSE_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES, 1_000, 100_000_000),
        max_yaml_depth=_positive_int("SMEB_COURSE_MAX_YAML_DEPTH", DEFAULT_MAX_YAML_DEPTH, 4, 100),
    )
