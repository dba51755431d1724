"""Manifest writers: pure functions from a :class:`content.Course` (and the package's file list) to XML bytes.

Each module exposes ``FILENAME`` and ``render(course, files) -> bytes``. Output
is deterministic (fixed attribute order, no timestamps, ``\\n`` line ends), so
packages are reproducible.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import cast
from urllib.parse import quote

from lxml import etree

from content.model import LANGUAGES, Course, Text

# https://registry.tincanapi.com/#uri/activityType/5 (ADL vocabulary): the whole course is one activity.
ACTIVITY_TYPE_COURSE = "http://adlnet.gov/expapi/activities/course"
LAUNCH_FILE = "index.html"

Renderer = Callable[[Course, Sequence[str]], bytes]


def ncname(*parts: str) -> str:
    """An XML ``xs:ID`` (NCName) built from ``parts``; SCORM identifiers must be NCNames."""
    raw = "-".join(parts)
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", raw)
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"id-{cleaned}"


def decimal_text(value: float, places: int = 4) -> str:
    """``0.5`` → ``"0.5"``, ``0.8`` → ``"0.8"``: no float noise like ``0.8000000000000000444``."""
    quantum = Decimal(1).scaleb(-places)
    text = format(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP).normalize(), "f")
    return text


def ordered_languages(course: Course) -> tuple[str, ...]:
    """The course's own language first, then the other one (LMSs that show one string take the first)."""
    return (course.language, *(lang for lang in LANGUAGES if lang != course.language))


def namespaces(default: str, **prefixed: str) -> dict[str, str]:
    """An lxml ``nsmap`` with a default namespace, then ``prefixed`` in order (the xmlns attributes' order).

    lxml takes ``None`` as the default namespace's prefix; lxml-stubs type an nsmap as str → str only, so the
    ``None`` key is cast here, once.
    """
    nsmap: dict[str | None, str] = {None: default}
    nsmap.update(prefixed)
    return cast("dict[str, str]", nsmap)


def element(parent: etree._Element, tag: str, attrib: Mapping[str, str] | None = None, text: str | None = None) -> etree._Element:
    """Append a child with attributes in the given order (lxml keeps insertion order)."""
    child = etree.SubElement(parent, tag)
    for key, value in (attrib or {}).items():
        child.set(key, value)
    if text is not None:
        child.text = text
    return child


def langstrings(parent: etree._Element, tag: str, text: Text, languages: Sequence[str], lang_attr: str = "lang") -> None:
    for lang in languages:
        element(parent, tag, {lang_attr: lang}, text.get(lang))


def href(name: str) -> str:
    """A package path as a URI reference (``file/@href`` is ``xs:anyURI``): spaces and the like percent-encoded."""
    return quote(name, safe="/-._~")


def serialize(root: etree._Element) -> bytes:
    # lxml writes the declaration with single quotes; some LMS parsers only accept the usual double quotes.
    body: bytes = etree.tostring(root, encoding="UTF-8", pretty_print=True)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
