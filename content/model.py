"""The immutable, typed course model every other part of SMEB reads.

A :class:`Course` is produced only by :func:`content.loader.load_course`, which
has already checked the schema and the cross-references; code that holds a
``Course`` may therefore trust that ids are unique, media exist, branches land
on real steps and completion is reachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Literal, Union

Lang = Literal["nb", "en"]
LANGUAGES: tuple[Lang, ...] = ("nb", "en")


@dataclass(frozen=True)
class Text:
    """A text in Norwegian bokmål and English."""

    nb: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang``; bokmål for anything that is not English."""
        return self.en if lang == "en" else self.nb

    def to_dict(self) -> dict[str, str]:
        return {"nb": self.nb, "en": self.en}


@dataclass(frozen=True)
class CompetenceTag:
    id: str
    title: Text


@dataclass(frozen=True)
class TextBlock:
    id: str
    nb: str
    en: str
    type: Literal["text"] = "text"

    @property
    def body(self) -> Text:
        return Text(self.nb, self.en)


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
    quality: Literal["good", "partial", "poor"]
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
    kind: Literal["single", "multiple", "true-false"]
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
    kind: Literal["scale", "likert", "free-text", "rank"]
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
    mode: Literal["in-person", "online", "hybrid"]
    agenda: tuple[AgendaItem, ...]
    description: Text | None = None
    type: Literal["workshop"] = "workshop"

    @property
    def minutes(self) -> int:
        return sum(item.minutes for item in self.agenda)


Block = Union[
    TextBlock, VideoBlock, CaseBlock, QuizBlock, SurveyBlock, ReflectionBlock, ActionPlanBlock, WorkshopBlock
]

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
    kind: Literal["digital", "workshop"] = "digital"

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

    def block(self, block_id: str) -> Block:
        for block in self.blocks():
            if block.id == block_id:
                return block
        raise KeyError(block_id)

    @property
    def quizzes(self) -> tuple[QuizBlock, ...]:
        return tuple(b for b in self.blocks() if isinstance(b, QuizBlock))

    @property
    def max_points(self) -> int:
        return sum(q.points for q in self.quizzes)

    def media_files(self) -> tuple[str, ...]:
        """Every media path the course uses, relative to the course folder, sorted."""
        found: set[str] = set()
        for block in self.blocks():
            if isinstance(block, VideoBlock):
                found.add(block.src)
                found.add(block.poster)
                found.update(path for _, path in block.captions)
                found.update(path for _, path in block.transcript)
            elif isinstance(block, TextBlock):
                from content.markdown import image_sources

                found.update(image_sources(block.nb))
                found.update(image_sources(block.en))
        return tuple(sorted(found))

    def activity_id(self, *parts: str) -> str:
        """The xAPI activity IRI of a module, lesson or block of this course."""
        return "/".join((self.id.rstrip("/"), *parts))
