"""Course JSON (the player's format) → :class:`Course`: the reader beside the writer, :mod:`content.export`.

The JSON is a contract with the player, so both directions live here, in the course package:
``course_from_json(course_to_json(course)) == course``, and writing the course read back gives the same text.
The only place a course's JSON is parsed: the tool stores installed courses as this JSON and reads them here.

The reader is strict: every field the writer writes is checked for its type and closed vocabulary, unknown
fields are refused, and the derived ``maxPoints`` must agree with the quizzes. A problem raises
:class:`CourseJsonError` naming the JSON path. It does not re-check what the loader judged from the sources
(that media exist, that branches land, that the HTML is allow-listed): the JSON holds what the loader built.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from content.errors import CourseJsonError
from content.export import FORMAT_VERSION
from content.model import (
    LANGUAGES,
    MODULE_KINDS,
    QUALITIES,
    QUIZ_KINDS,
    SURVEY_KINDS,
    WORKSHOP_MODES,
    ActionPlanBlock,
    ActionPlanExample,
    AgendaItem,
    Block,
    CaseBlock,
    CaseChoice,
    CaseStep,
    CompetenceTag,
    Course,
    Lang,
    Lesson,
    Module,
    QuizBlock,
    QuizChoice,
    ReflectionBlock,
    SurveyBlock,
    Text,
    TextBlock,
    VideoBlock,
    WorkshopBlock,
)

T = TypeVar("T")
S = TypeVar("S", bound=str)

_ABSENT = object()


def _kind_of(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


class _Object:
    """One JSON object being read: typed accessors that name the path of what they refuse."""

    def __init__(self, value: object, path: str):
        if not isinstance(value, dict):
            raise CourseJsonError(path, f"expected an object, got {_kind_of(value)}")
        self.data: dict[str, object] = value
        self.path = path
        self.read: set[str] = set()

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def get(self, key: str, required: bool = True) -> object:
        self.read.add(key)
        if key in self.data:
            return self.data[key]
        if required:
            raise CourseJsonError(self.path, f"missing required field {key!r}")
        return _ABSENT

    def finish(self) -> None:
        """Refuse fields the writer never writes: the contract is closed in both directions."""
        extra = sorted(set(self.data) - self.read)
        if extra:
            raise CourseJsonError(self.at(extra[0]), f"unknown field {extra[0]!r}")

    def string(self, key: str) -> str:
        return _string(self.get(key), self.at(key))

    def optional_string(self, key: str) -> str | None:
        value = self.get(key, required=False)
        return None if value is _ABSENT else _string(value, self.at(key))

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.get(key, required=default is None)
        if value is _ABSENT and default is not None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise CourseJsonError(self.at(key), f"expected a whole number, got {_kind_of(value)}")
        return value

    def number(self, key: str) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CourseJsonError(self.at(key), f"expected a number, got {_kind_of(value)}")
        return float(value)

    def boolean(self, key: str) -> bool:
        value = self.get(key)
        if not isinstance(value, bool):
            raise CourseJsonError(self.at(key), f"expected true or false, got {_kind_of(value)}")
        return value

    def choice(self, key: str, options: tuple[S, ...], default: S | None = None) -> S:
        value = self.get(key, required=default is None)
        if value is _ABSENT and default is not None:
            return default
        for option in options:
            if value == option:
                return option
        raise CourseJsonError(self.at(key), f"{value!r} is not one of {', '.join(map(repr, options))}")

    def text(self, key: str) -> Text:
        return _text(self.get(key), self.at(key))

    def optional_text(self, key: str) -> Text | None:
        value = self.get(key, required=False)
        return None if value is _ABSENT else _text(value, self.at(key))

    def each(self, key: str, read: Callable[[object, str], T], required: bool = True) -> tuple[T, ...]:
        """The items of an array; the writer leaves out empty arrays, so ``required=False`` reads absent as ()."""
        value = self.get(key, required=required)
        if value is _ABSENT:
            return ()
        if not isinstance(value, list):
            raise CourseJsonError(self.at(key), f"expected an array, got {_kind_of(value)}")
        return tuple(read(item, f"{self.at(key)}[{i}]") for i, item in enumerate(value))

    def by_language(self, key: str) -> tuple[tuple[Lang, str], ...]:
        """A ``{"nb": path, "en": path}`` object (captions, transcripts) as sorted pairs, as the loader keeps it."""
        value = self.get(key, required=False)
        if value is _ABSENT:
            return ()
        item = _Object(value, self.at(key))
        pairs = tuple((lang, item.string(lang)) for lang in LANGUAGES if lang in item.data)
        item.finish()
        return tuple(sorted(pairs))


def _string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise CourseJsonError(path, f"expected a string, got {_kind_of(value)}")
    return value


def _text(value: object, path: str) -> Text:
    item = _Object(value, path)
    text = Text(item.string("nb"), item.string("en"))
    item.finish()
    return text


def _reading(build: Callable[[_Object], T]) -> Callable[[object, str], T]:
    """``build`` over a checked object, refusing any field it did not read."""

    def read(value: object, path: str) -> T:
        item = _Object(value, path)
        result = build(item)
        item.finish()
        return result

    return read


@_reading
def _competence_tag(o: _Object) -> CompetenceTag:
    return CompetenceTag(o.string("id"), o.text("title"))


def _text_block(o: _Object) -> TextBlock:
    return TextBlock(id=o.string("id"), html=o.text("html"))


def _video_block(o: _Object) -> VideoBlock:
    return VideoBlock(
        id=o.string("id"), title=o.text("title"), src=o.string("src"), poster=o.string("poster"),
        captions=o.by_language("captions"), duration=o.string("duration"), transcript=o.by_language("transcript"),
    )


@_reading
def _case_choice(o: _Object) -> CaseChoice:
    return CaseChoice(o.string("id"), o.text("text"), o.text("feedback"), o.choice("quality", QUALITIES), o.optional_string("next"))


@_reading
def _case_step(o: _Object) -> CaseStep:
    return CaseStep(o.string("id"), o.text("situation"), o.each("choices", _case_choice, required=False))


def _case_block(o: _Object) -> CaseBlock:
    return CaseBlock(id=o.string("id"), title=o.text("title"), start=o.string("start"), steps=o.each("steps", _case_step, required=False))


@_reading
def _quiz_choice(o: _Object) -> QuizChoice:
    return QuizChoice(o.string("id"), o.text("text"), o.boolean("correct"), o.text("feedback"))


def _quiz_block(o: _Object) -> QuizBlock:
    return QuizBlock(
        id=o.string("id"), kind=o.choice("kind", QUIZ_KINDS), question=o.text("question"), points=o.integer("points"),
        choices=o.each("choices", _quiz_choice, required=False),
    )


def _survey_block(o: _Object) -> SurveyBlock:
    return SurveyBlock(
        id=o.string("id"), kind=o.choice("kind", SURVEY_KINDS), prompt=o.text("prompt"), low=o.optional_text("low"),
        high=o.optional_text("high"), options=o.each("options", _text, required=False), pick=o.integer("pick"),
    )


def _reflection_block(o: _Object) -> ReflectionBlock:
    return ReflectionBlock(id=o.string("id"), prompt=o.text("prompt"))


@_reading
def _action_plan_example(o: _Object) -> ActionPlanExample:
    return ActionPlanExample(o.text("measure"), o.optional_text("responsible"), o.optional_text("deadline"))


def _action_plan_block(o: _Object) -> ActionPlanBlock:
    return ActionPlanBlock(
        id=o.string("id"), prompt=o.text("prompt"), min_rows=o.integer("minRows"),
        examples=o.each("examples", _action_plan_example, required=False),
    )


@_reading
def _agenda_item(o: _Object) -> AgendaItem:
    return AgendaItem(o.integer("minutes"), o.text("title"), o.optional_text("notes"))


def _workshop_block(o: _Object) -> WorkshopBlock:
    return WorkshopBlock(
        id=o.string("id"), title=o.text("title"), mode=o.choice("mode", WORKSHOP_MODES),
        agenda=o.each("agenda", _agenda_item, required=False), description=o.optional_text("description"),
    )


# Block readers get the object whose "type" chose them (and was read), so they are not wrapped in _reading.
_BLOCKS: dict[str, Callable[[_Object], Block]] = {
    "text": _text_block,
    "video": _video_block,
    "case": _case_block,
    "quiz": _quiz_block,
    "survey": _survey_block,
    "reflection": _reflection_block,
    "action-plan": _action_plan_block,
    "workshop": _workshop_block,
}


def _block(value: object, path: str) -> Block:
    item = _Object(value, path)
    kind = item.string("type")
    build = _BLOCKS.get(kind)
    if build is None:
        raise CourseJsonError(item.at("type"), f"unknown block type {kind!r}; expected one of: {', '.join(_BLOCKS)}")
    block = build(item)
    item.finish()
    return block


@_reading
def _lesson(o: _Object) -> Lesson:
    return Lesson(
        id=o.string("id"), title=o.text("title"), blocks=o.each("blocks", _block, required=False), source=o.string("source"),
        duration=o.optional_string("duration"),
    )


@_reading
def _module(o: _Object) -> Module:
    return Module(
        id=o.string("id"), title=o.text("title"), lessons=o.each("lessons", _lesson, required=False),
        summary=o.optional_text("summary"), kind=o.choice("kind", MODULE_KINDS),
    )


def _check_consistent(course: Course, o: _Object) -> None:
    """What the writer derives from the model must agree with it, or the JSON was edited by hand."""
    seen: set[str] = set()
    for mi, module in enumerate(course.modules):
        for li, lesson in enumerate(module.lessons):
            for bi, block in enumerate(lesson.blocks):
                if block.id in seen:
                    raise CourseJsonError(f"$.modules[{mi}].lessons[{li}].blocks[{bi}].id", f"block id {block.id!r} is used twice")
                seen.add(block.id)
    for ri, block_id in enumerate(course.required_blocks):
        if block_id not in seen:
            raise CourseJsonError(f"$.required[{ri}]", f"required block {block_id!r} is not a block of this course")
    declared = o.integer("maxPoints")
    if declared != course.max_points:
        raise CourseJsonError("$.maxPoints", f"{declared}, but the quizzes' points add up to {course.max_points}")


def course_from_dict(data: object, *, root: Path | None = None) -> Course:
    """The :class:`Course` of already parsed course JSON (:func:`content.export.course_to_dict`'s shape).

    ``root`` is the course folder, where its media files are; a course read from JSON has none of its own
    (default: the current folder).

    Raises:
        CourseJsonError: naming the JSON path of the first problem.
    """
    o = _Object(data, "$")
    version = o.integer("format")
    if version != FORMAT_VERSION:
        raise CourseJsonError("$.format", f"format {version} is not supported; this version of SMEB reads format {FORMAT_VERSION}")
    passing_score = o.number("passingScore")
    if not math.isfinite(passing_score):
        raise CourseJsonError("$.passingScore", f"expected a finite number, got {passing_score}")
    course = Course(
        id=o.string("id"),
        slug=o.string("slug"),
        version=o.string("version"),
        title=o.text("title"),
        summary=o.text("summary"),
        duration=o.string("duration"),
        passing_score=passing_score,
        certificate=o.boolean("certificate"),
        competence_tags=o.each("competenceTags", _competence_tag),
        required_blocks=o.each("required", _string),
        modules=o.each("modules", _module),
        root=root if root is not None else Path(),
        language=o.string("language"),
    )
    _check_consistent(course, o)
    o.finish()
    return course


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def course_from_json(text: str | bytes, *, root: Path | None = None) -> Course:
    """The :class:`Course` of course JSON text (what :func:`content.export.course_to_json` wrote).

    Raises:
        CourseJsonError: the text is not JSON, or not a course; the error names the JSON path.
    """
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise CourseJsonError("$", f"not valid JSON: {exc}") from None
    return course_from_dict(data, root=root)
