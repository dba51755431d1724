"""The xAPI statements one learner event makes (pure: data in, xAPI dicts out, built with :mod:`xapi.statements`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from content.model import (
    ActionPlanBlock,
    CaseBlock,
    Course,
    QuizBlock,
    ReflectionBlock,
    SurveyBlock,
    VideoBlock,
)
from smeb_lti.play.answers import Answer, check_answer
from smeb_lti.play.events import Event
from xapi import statements as xb


def statement_id(progress_attempt: str, event_id: str, n: int) -> str:
    """Derived from the event id, so a replayed event could never make a second statement."""
    return str(uuid.uuid5(uuid.UUID(progress_attempt), f"{event_id}/{n}"))


def statements_for(event: Event, course: Course, actor: Mapping[str, Any], attempt: str, locale: str, *,
                   newly_completed: bool = False, verdict: bool | None = None, score: xb.Score | None = None,
                   session_id: str | None = None) -> list[dict[str, Any]]:
    """The statements one event makes; ``newly_completed``/``verdict`` (passed or failed) only when that just happened.

    ``session_id``: the player session (:func:`smeb_lti.play.tokens.player_session_id`), the profile's ``session-id``
    extension. Activity ids follow :meth:`content.model.Course.activity_id`, the player's rule.
    """
    activity = xb.Activity(course.id, name=course.title.to_dict())
    ctx = xb.StatementContext(registration=attempt, course_id=course.id, language=locale, session_id=session_id)
    stamp = xb.utc_timestamp(event.time)
    out: list[dict[str, Any]] = []

    def ids() -> dict[str, Any]:
        return {"statement_id": statement_id(attempt, event.id, len(out)), "timestamp": stamp}

    if event.type == "initialized":
        out.append(xb.initialized(actor, "course", activity, ctx, **ids()))
    elif event.type == "progressed":
        out.append(xb.progressed(actor, "course", activity, round(float(event.data["progress"]) * 100), ctx, **ids()))
    elif event.type == "answered":
        statement = _answer_statement(check_answer(course, event.data), course, actor, ctx, ids)
        if statement is not None:
            out.append(statement)
    elif event.type == "video":
        out.append(_video_statement(event, course, actor, attempt, locale, ids()))
    elif event.type == "outcome":
        if newly_completed:
            out.append(xb.completed(actor, "course", activity, ctx, **ids()))
        if verdict is not None and score is not None:
            builder = xb.passed if verdict else xb.failed
            out.append(builder(actor, "course", activity, score, ctx, **ids()))
    return out


def _answer_statement(answer: Answer, course: Course, actor: Mapping[str, Any], ctx: xb.StatementContext,
                      ids: Any) -> dict[str, Any] | None:
    """The statement of one checked answer; ``None`` for answers the LRS does not get (free text, ranks)."""
    block = answer.block
    if isinstance(block, QuizBlock):
        choices = [xb.Choice(c.id, c.text.to_dict()) for c in block.choices]
        correct = list(block.correct_ids)
        question = xb.Activity(course.activity_id(answer.block_id), name=block.question.to_dict())
        tf = block.kind == "true-false" and {c.id for c in block.choices} <= {"true", "false"}
        return xb.quiz_answer(
            actor, question, course.activity_id(answer.block_id),
            interaction_type="true-false" if tf else "choice",
            response=(answer.response[0] == "true") if tf else list(answer.response),
            success=bool(answer.correct),
            correct_responses=(correct[0] == "true") if tf else [correct],
            choices=() if tf else choices,
            score=xb.Score(scaled=1.0 if answer.correct else 0.0, raw=block.points if answer.correct else 0, min=0, max=block.points),
            ctx=ctx, **ids(),
        )
    if isinstance(block, CaseBlock):
        assert answer.step is not None  # check_answer refuses a case answer without its step
        step = answer.step
        return xb.scenario_decision(
            actor, xb.Activity(course.activity_id(block.id, step.id), name=step.situation.to_dict()),
            xb.Activity(course.activity_id(block.id), name=block.title.to_dict()),
            choices=[xb.Choice(c.id, c.text.to_dict()) for c in step.choices], chosen=answer.response[0], ctx=ctx, **ids(),
        )
    if isinstance(block, SurveyBlock):
        question = xb.Activity(course.activity_id(block.id), name=block.prompt.to_dict())
        if block.kind == "likert":
            return xb.survey_answer(actor, question, course.activity_id(block.id), kind="likert", response=answer.response[0],
                                    scale=[xb.Choice(str(n)) for n in range(1, 6)], ctx=ctx, **ids())
        if block.kind == "scale":
            return xb.survey_answer(actor, question, course.activity_id(block.id), kind="numeric",
                                    response=int(answer.response[0]), ctx=ctx, **ids())
        return None  # free text may name colleagues, and the profile has no rank template: neither goes to the LRS
    if isinstance(block, ReflectionBlock):
        return xb.reflection_written(actor, xb.Activity(course.activity_id(block.id), name=block.prompt.to_dict()), ctx, **ids())
    if isinstance(block, ActionPlanBlock):
        return xb.assignment_submitted(actor, xb.Activity(course.activity_id(block.id), name=block.prompt.to_dict()), ctx, **ids())
    return None


def _video_statement(event: Event, course: Course, actor: Mapping[str, Any], attempt: str, locale: str,
                     ids: dict[str, Any]) -> dict[str, Any]:
    """The ADL video profile statement of a ``video`` event (checked by :func:`smeb_lti.play.events.check_video`)."""
    data = event.data
    block = course.blocks_by_id[str(data["blockId"])]
    assert isinstance(block, VideoBlock)  # check_video refuses any other block
    video = xb.Activity(course.activity_id(block.id), name=block.title.to_dict())
    vctx = xb.StatementContext(registration=attempt, course_id=course.id, language=locale, session_id=str(data["sessionId"]))
    length = float(data["length"]) if data.get("length") is not None else None
    if data["verb"] == "played":
        return xb.video_played(actor, video, time=float(data["time"]), length=length, ctx=vctx, **ids)
    if data["verb"] == "paused":
        return xb.video_paused(actor, video, time=float(data["time"]), length=float(data["length"]),
                               progress=float(data["progress"]), played_segments=data["segments"], ctx=vctx, **ids)
    if data["verb"] == "seeked":
        return xb.video_seeked(actor, video, time_from=float(data["timeFrom"]), time_to=float(data["timeTo"]),
                               length=length, ctx=vctx, **ids)
    return xb.video_completed(actor, video, time=float(data["time"]), length=float(data["length"]),
                              progress=float(data["progress"]), played_segments=data["segments"],
                              duration=data["duration"], completion_threshold=0.95, ctx=vctx, **ids)

