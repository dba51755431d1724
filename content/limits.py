"""Limits on course sources, so a hostile or broken source cannot hang or exhaust the loader.

Course sources may come from customers (``smeb courses install``, ``smeb validate``), so the loader treats
them as untrusted: each file is size-checked before it is read, YAML anchors and aliases are refused (an
alias bomb expands to billions of nodes; no shipped course uses them), and YAML nesting is bounded (deep
nesting would exhaust the parser's recursion). Settings (documented in docs/security.md and the README's configuration
table; the tool reads them with its other settings, in ``smeb_lti.settings``, and passes them to the loader):

``SMEB_COURSE_MAX_FILE_BYTES``  largest course.yaml or lesson file, default 1 MB (shipped lessons are < 20 kB).
``SMEB_COURSE_MAX_YAML_DEPTH``  deepest YAML nesting (mappings and lists), default 32 (courses use < 10).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


def _positive_int(values: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    raw = values.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise SourceLimitError(f"{name}={raw!r} is not a whole number; expected {low}..{high} (default {default})") from None
    if not low <= value <= high:
        raise SourceLimitError(f"{name}={value} is out of range; expected {low}..{high} (default {default})")
    return value


def limits_from(values: Mapping[str, Any]) -> SourceLimits:
    """The limits from settings values (``SMEB_COURSE_MAX_*``), validated: a bad value raises :class:`SourceLimitError`."""
    return SourceLimits(
        max_file_bytes=_positive_int(values, "SMEB_COURSE_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES, 1_000, 100_000_000),
        max_yaml_depth=_positive_int(values, "SMEB_COURSE_MAX_YAML_DEPTH", DEFAULT_MAX_YAML_DEPTH, 4, 100),
    )
