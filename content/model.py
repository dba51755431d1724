"""The immutable, typed course model every other part of SMEB reads.

A :class:`Course` is produced by :func:`content.loader.load_course` from course
sources, which has already checked the schema and the cross-references (ids are
unique, media exist, branches land on real steps and completion is reachable),
or by :func:`content.reader.course_from_json` from the JSON the loader's course
was written to (:func:`content.export.course_to_json`), e.g. an installed course.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

Lang = Literal["nb", "en"]
LANGUAGES: tuple[Lang, ...] = ("nb", "en")

# The closed vocabularies of the model, as types and as the values a reader accepts.
Quality = Literal["good", "partial", "poor"]
QUALITIES: tuple[Quality, ...] = ("good", "partial", "poor")
QuizKind = Literal["single", "multiple", "true-false"]
QUIZ_KINDS: tuple[QuizKind, ...] = ("single", "multiple", "true-false")
SurveyKind = Literal["scale", "likert", "free-text", "rank"]
SURVEY_KINDS: tuple[SurveyKind, ...] = ("scale", "likert", "free-text", "rank")
WorkshopMode = Literal["in-person", "online", "hybrid"]
WORKSHOP_MODES: tuple[WorkshopMode, ...] = ("in-person", "online", "hybrid")
ModuleKind = Literal["digital", "workshop"]
MODULE_KINDS: tuple[ModuleKind, ...] = ("digital", "workshop")

# Media a text block's HTML uses (``<img src>``) and links to (``<a href>``). The HTML comes from
# content.markdown's renderer, which only lets images under media/ through, with plain path characters.
_HTML_IMAGE = re.compile(r'\bsrc="(media/[^"]+)"')
_HTML_MEDIA = re.compile(r'(?:src|href)="(media/[^"]+)"')


@dataclass(frozen=True)
class Text:
    """A text in Norwegian bokmål and English."""

    nb: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang``; bokmål for anything that is not English, and when the English text is empty."""
        return (self.en or self.nb) if lang == "en" else self.nb

    def to_dict(self) -> dict[str, str]:
        return {"nb": self.nb, "en": self.en}


@dataclass(frozen=True)
class CompetenceTag:
    id: str
    title: Text


@dataclass(frozen=True)
class TextBlock:
    """Text the player shows, as allow-listed HTML (:func:`content.markdown.render_markdown`).

    The HTML is what the course JSON carries (the contract with the player), so it is the block's content.
    ``markdown`` is the source as the author wrote it: present when the block was loaded from course sources,
    ``None`` when it was read back from course JSON, and not part of equality for that reason.
    """

    id: str
    html: Text
    markdown: Text | None = field(default=None, compare=False, repr=False)
    type: Literal["text"] = "text"

    def image_files(self) -> set[str]:
        """The media files the block's images show."""
        return {src for html in (self.html.nb, self.html.en) for src in _HTML_IMAGE.findall(html)}

    def media_links(self) -> set[str]:
        """Every ``media/...`` path the block's HTML refers to: images and links to files such as handouts."""
        return {src for html in (self.html.nb, self.html.en) for src in _HTML_MEDIA.findall(html)}


@dataclass(frozen=True)
class VideoBlock:
    id: str
    title: Text
    src: str
    poster: str
    captions: tuple[tuple[Lang, str], ...]
    duration: str
    transcript: tuple[tuple[Lang, str], ...] = ()
    type: Literal["video"] = "video"


@dataclass(frozen=True)
class CaseChoice:
    id: str
    text: Text
    feedback: Text
    quality: Quality
    next: str | None = None


@dataclass(frozen=True)
class CaseStep:
    id: str
    situation: Text
    choices: tuple[CaseChoice, ...]


@dataclass(frozen=True)
class CaseBlock:
    id: str
    title: Text
    start: str
    steps: tuple[CaseStep, ...]
    type: Literal["case"] = "case"

    def step(self, step_id: str) -> CaseStep:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


@dataclass(frozen=True)
class QuizChoice:
    id: str
    text: Text
    correct: bool
    feedback: Text


@dataclass(frozen=True)
class QuizBlock:
    id: str
    kind: QuizKind
    question: Text
    points: int
    choices: tuple[QuizChoice, ...]
    type: Literal["quiz"] = "quiz"

    @property
    def correct_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.choices if c.correct)


@dataclass(frozen=True)
class SurveyBlock:
    id: str
    kind: SurveyKind
    prompt: Text
    low: Text | None = None
    high: Text | None = None
    options: tuple[Text, ...] = ()
    pick: int = 3
    type: Literal["survey"] = "survey"


@dataclass(frozen=True)
class ReflectionBlock:
    """A prompt whose answer stays private to the learner (never in statements)."""

    id: str
    prompt: Text
    type: Literal["reflection"] = "reflection"


@dataclass(frozen=True)
class ActionPlanExample:
    measure: Text
    responsible: Text | None = None
    deadline: Text | None = None


@dataclass(frozen=True)
class ActionPlanBlock:
    """Rows of measure / deadline / responsible / done (tiltak / frist / ansvarlig / utført)."""

    id: str
    prompt: Text
    min_rows: int = 1
    examples: tuple[ActionPlanExample, ...] = ()
    type: Literal["action-plan"] = "action-plan"


@dataclass(frozen=True)
class AgendaItem:
    minutes: int
    title: Text
    notes: Text | None = None


@dataclass(frozen=True)
class WorkshopBlock:
    """A gathering with a facilitator run-sheet; attendance is recorded by the facilitator."""

    id: str
    title: Text
    mode: WorkshopMode
    agenda: tuple[AgendaItem, ...]
    description: Text | None = None
    type: Literal["workshop"] = "workshop"

    @property
    def minutes(self) -> int:
        return sum(item.minutes for item in self.agenda)


Block = TextBlock | VideoBlock | CaseBlock | QuizBlock | SurveyBlock | ReflectionBlock | ActionPlanBlock | WorkshopBlock

# Blocks a learner "does"; "completion: all" requires every one of these.
COMPLETABLE_TYPES = frozenset({"video", "case", "quiz", "reflection", "action-plan"})


@dataclass(frozen=True)
class Lesson:
    id: str
    title: Text
    blocks: tuple[Block, ...]
    source: str
    duration: str | None = None


@dataclass(frozen=True)
class Module:
    id: str
    title: Text
    lessons: tuple[Lesson, ...]
    summary: Text | None = None
    kind: ModuleKind = "digital"

    def blocks(self) -> Iterator[Block]:
        for lesson in self.lessons:
            yield from lesson.blocks


@dataclass(frozen=True)
class Course:
    id: str
    slug: str
    version: str
    title: Text
    summary: Text
    duration: str
    passing_score: float
    certificate: bool
    competence_tags: tuple[CompetenceTag, ...]
    required_blocks: tuple[str, ...]
    modules: tuple[Module, ...]
    root: Path = field(compare=False)
    language: str = "nb"

    def blocks(self) -> Iterator[Block]:
        for module in self.modules:
            yield from module.blocks()

    def lessons(self) -> Iterator[Lesson]:
        for module in self.modules:
            yield from module.lessons

    @cached_property
    def blocks_by_id(self) -> Mapping[str, Block]:
        """Every block by its id (ids are unique in a course; should one repeat, the first counts)."""
        found: dict[str, Block] = {}
        for block in self.blocks():
            found.setdefault(block.id, block)
        return found

    @cached_property
    def lesson_ids(self) -> frozenset[str]:
        return frozenset(lesson.id for lesson in self.lessons())

    def block(self, block_id: str) -> Block:
        """The block with this id; :class:`KeyError` when the course has none."""
        return self.blocks_by_id[block_id]

    def module(self, module_id: str) -> Module:
        """The module with this id; :class:`KeyError` when the course has none."""
        for module in self.modules:
            if module.id == module_id:
                return module
        raise KeyError(module_id)

    @property
    def quizzes(self) -> tuple[QuizBlock, ...]:
        return tuple(b for b in self.blocks() if isinstance(b, QuizBlock))

    @property
    def max_points(self) -> int:
        """The points the quizzes give together (what a learner's score is out of)."""
        return sum(q.points for q in self.quizzes)

    @property
    def passing_applies(self) -> bool:
        """Whether a pass mark counts: there are quiz points to earn and a passing score above 0."""
        return self.max_points > 0 and self.passing_score > 0

    def media_files(self) -> tuple[str, ...]:
        """Every media file the course shows (video files, captions, transcripts, images), relative to the
        course folder, sorted: what a package ships and the catalogue's hash covers."""
        found: set[str] = set()
        for block in self.blocks():
            if isinstance(block, VideoBlock):
                found.add(block.src)
                found.add(block.poster)
                found.update(path for _, path in block.captions)
                found.update(path for _, path in block.transcript)
            elif isinstance(block, TextBlock):
                found.update(block.image_files())
        return tuple(sorted(found))

    def media_paths(self) -> frozenset[str]:
        """Every ``media/...`` path the course JSON refers to: :meth:`media_files` and the files its texts
        link to. The tool serves exactly these from the course folder (the folder may hold drafts)."""
        found = set(self.media_files())
        for block in self.blocks():
            if isinstance(block, TextBlock):
                found.update(block.media_links())
        return frozenset(found)

    def activity_id(self, *parts: str) -> str:
        """The xAPI activity IRI of a module, lesson or block of this course: the course IRI (without a
        trailing slash) and the ids, joined by ``/``. Same rule as the player (scorm_export/player/core.js
        ``activityId``), so the statements of a package and of the tool name the same activities."""
        return "/".join((self.id.rstrip("/"), *parts))
