"""The course model as plain JSON data: what the player reads (``course.json``).

Only fields named ``html`` carry HTML, rendered by :mod:`content.markdown`'s
allow-list; every other string is text the player must insert as text.
:mod:`content.reader` reads this JSON back into the same :class:`Course`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from content.model import Course, Text, TextBlock

FORMAT_VERSION = 1


def _plain(value: Any) -> Any:
    if isinstance(value, Text):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if isinstance(value, TextBlock):
            return {"type": "text", "id": value.id, "html": value.html.to_dict()}  # never the Markdown source
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if item is None or item == ():
                continue
            if f.name in ("captions", "transcript"):
                out[f.name] = dict(item)
            else:
                out[_camel(f.name)] = _plain(item)
        return out
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def course_to_dict(course: Course) -> dict[str, Any]:
    """The course as JSON-ready data for the player and the LTI tool."""
    return {
        "format": FORMAT_VERSION,
        "id": course.id,
        "slug": course.slug,
        "version": course.version,
        "language": course.language,
        "title": course.title.to_dict(),
        "summary": course.summary.to_dict(),
        "duration": course.duration,
        "passingScore": course.passing_score,
        "certificate": course.certificate,
        "competenceTags": [_plain(t) for t in course.competence_tags],
        "required": list(course.required_blocks),
        "maxPoints": course.max_points,
        "modules": [_plain(m) for m in course.modules],
    }


def course_to_json(course: Course) -> str:
    """Deterministic JSON text (sorted keys, no whitespace variance) for reproducible packages."""
    return json.dumps(course_to_dict(course), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def learner_course_dict(course: Course) -> dict[str, Any]:
    """The course as a learner's browser gets it when the tool grades: quizzes without their answer key.

    ``choices[].correct`` and the choice feedback (which says what is right) are left out; ``"grading":
    "server"`` tells the player to ask for each verdict. Packages that grade offline keep the key.
    """
    data = course_to_dict(course)
    for module in data["modules"]:
        for lesson in module.get("lessons", ()):
            for block in lesson.get("blocks", ()):
                if block["type"] == "quiz":
                    block["choices"] = [{k: v for k, v in choice.items() if k not in ("correct", "feedback")} for choice in block["choices"]]
    return {**data, "grading": "server"}
