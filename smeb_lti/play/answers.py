"""Answers checked against the course, and quiz points and verdicts computed from them (pure: never the browser's word)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from content.model import Block, CaseBlock, CaseStep, Course, QuizBlock, SurveyBlock
from smeb_lti.play.errors import EventInvalid


@dataclass(frozen=True)
class Answer:
    """A checked answer: which block (and case step), the chosen ids or value, and for quizzes the verdict."""

    block: Block
    block_id: str
    step: CaseStep | None
    response: tuple[str, ...]
    correct: bool | None


def fail(path: str, message: str) -> EventInvalid:
    return EventInvalid(f"event {path}: {message}", field=path)


def _strings(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(path, "must be a list of strings")
    return tuple(value)


def _answered_block(course: Course, block_id: str) -> tuple[Block, CaseStep | None]:
    """The block an answer names: ``<block id>``, or ``<case id>.<step id>`` for one step of a case."""
    block = course.blocks_by_id.get(block_id)
    if block is not None:
        return block, None
    if "." in block_id:
        case_id, step_id = block_id.split(".", 1)
        case = course.blocks_by_id.get(case_id)
        if not isinstance(case, CaseBlock):
            raise fail("data.blockId", f"{block_id!r} is not a block of this course")
        step = next((s for s in case.steps if s.id == step_id), None)
        if step is None:
            raise fail("data.blockId", f"case {case_id!r} has no step {step_id!r}")
        return case, step
    raise fail("data.blockId", f"{block_id!r} is not a block of this course")


def check_answer(course: Course, data: Mapping[str, Any]) -> Answer:
    """Check an ``answered`` event's data against the course; quiz correctness is decided here."""
    block_id = data.get("blockId")
    if not isinstance(block_id, str) or not block_id:
        raise fail("data.blockId", "is required")
    block, step = _answered_block(course, block_id)
    if isinstance(block, QuizBlock):
        response = _strings(data.get("response"), "data.response")
        ids = [c.id for c in block.choices]
        if not response or len(set(response)) != len(response) or any(r not in ids for r in response):
            raise fail("data.response", f"must name distinct choices of {block_id!r} ({', '.join(ids)})")
        if block.kind in ("single", "true-false") and len(response) != 1:
            raise fail("data.response", f"{block_id!r} takes exactly one choice")
        return Answer(block, block_id, None, response, set(block.correct_ids) == set(response))
    if isinstance(block, CaseBlock):
        if step is None:
            raise fail("data.blockId", f"a case answer names its step: '{block_id}.<step id>'")
        response = _strings(data.get("response"), "data.response")
        ids = [c.id for c in step.choices]
        if len(response) != 1 or response[0] not in ids:
            raise fail("data.response", f"must be one choice of step {block_id!r} ({', '.join(ids)})")
        return Answer(block, block_id, step, response, None)
    if isinstance(block, SurveyBlock):
        response = _strings(data.get("response"), "data.response")
        survey = block.kind
        if survey in ("scale", "likert"):
            top = 10 if survey == "scale" else 5
            if len(response) != 1 or not response[0].isdigit() or not 1 <= int(response[0]) <= top:
                raise fail("data.response", f"a {survey} answer is one whole number 1..{top}")
        elif survey == "rank":
            options = [f"o{i + 1}" for i in range(len(block.options))]
            if not response or len(set(response)) != len(response) or any(r not in options for r in response):
                raise fail("data.response", f"a rank answer orders distinct options of {block_id!r} ({', '.join(options)})")
        elif len(response) != 1 or len(response[0]) > 5000:
            raise fail("data.response", "a free-text answer is one text of at most 5000 characters")
        return Answer(block, block_id, None, response, None)
    if block.type in ("reflection", "action-plan"):
        if "response" in data:
            # Reflections and plans stay in the learner's browser (docs/xapi-profile.md): refuse, never store.
            raise fail("data.response", f"{block.type} content is never sent to the server")
        return Answer(block, block_id, None, (), None)
    raise fail("data.blockId", f"{block_id!r} is a {block.type} block, which takes no answers")


def _right(quiz: QuizBlock, chosen: list[str] | tuple[str, ...]) -> bool:
    return set(quiz.correct_ids) == set(chosen)


def quiz_points(course: Course, answers: Mapping[str, list[str]]) -> tuple[int, bool]:
    """Points for the checked answers, and whether every quiz is answered (then the grade is final)."""
    points = 0
    quizzes = course.quizzes
    for quiz in quizzes:
        chosen = answers.get(quiz.id)
        if chosen is not None and _right(quiz, chosen):
            points += quiz.points
    return points, all(q.id in answers for q in quizzes)


def verdict_for(quiz: QuizBlock, response: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """What the learner may see after answering a quiz: right or not, and the feedback of the chosen choices only."""
    chosen = set(response)
    return {"correct": _right(quiz, response), "feedback": {c.id: c.feedback.to_dict() for c in quiz.choices if c.id in chosen}}


def verdicts_for(course: Course, answers: Mapping[str, list[str]]) -> dict[str, dict[str, Any]]:
    """The verdicts of a learner's stored quiz answers (a resumed player shows them again)."""
    quizzes = {q.id: q for q in course.quizzes}
    return {bid: verdict_for(quizzes[bid], chosen) for bid, chosen in answers.items() if bid in quizzes}
