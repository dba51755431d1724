"""The player host: ``/play/<launch_id>`` serves the course player to an LTI launch and takes its learner events.

A launch (validated by :mod:`smeb_lti.lti`) redirects here. The page is the player from
``scorm_export/player/`` with ``runtime: "lti"``; relative URLs resolve under ``/play/<launch_id>/``:

* ``smeb-config.json`` — per launch: ``eventsUrl``, ``token`` (sent back in ``X-SMEB-Launch-Token``),
  learner, locale and the saved ``state`` for resume;
* ``course.json`` — the installed course from the catalogue (one module only when the link names one);
* ``media/<file>`` — files the course references, from the course folder;
* ``events`` (POST) — one event per request, as ``scorm_export/player/runtime-lti.js`` sends it::

      {"id": "<uuid>", "type": "initialized|state|progressed|answered|outcome|terminated",
       "time": "<ISO 8601>", "courseId": "<course IRI>", "data": {...}}

  Each event is checked against the course (block ids, answer shapes, choice ids), applied to the
  learner's progress row, turned into xAPI statements (:mod:`xapi.builders`) queued in the outbox
  in the SAME transaction, and, when the grade changed, an AGS score queued for the platform
  (:mod:`smeb_lti.ags`). A replayed event id answers 409 (the player's outbox counts that as sent).
  A refused event is JSON ``{"error", "message", "field"}`` (400, or 413 past ``SMEB_MAX_EVENT_BYTES``): the body
  is parsed strictly (:func:`read_event_body`: no NaN, no U+0000, at most ``SMEB_MAX_JSON_DEPTH`` levels).

Quiz points are computed here from the answers, never taken from the browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
)
from markupsafe import Markup
from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from content import shipped_courses_dir
from smeb_lti.db import Base, session_scope
from smeb_lti.lti import binding
from smeb_lti.lti.context import LaunchContext
from smeb_lti.lti.launches import get_launch
from xapi import builders as xb
from xapi.actors import pseudonymous_actor
from xapi.destinations import lrs_destinations_for
from xapi.jsonlimits import JsonLimitError, loads_bounded
from xapi.outbox import enqueue

bp = Blueprint("play", __name__, template_folder="templates")

TOKEN_HEADER = "X-SMEB-Launch-Token"
EVENT_TYPES = ("initialized", "state", "progressed", "answered", "outcome", "terminated", "video")
VIDEO_VERBS = ("played", "paused", "seeked", "completed")  # ADL video profile verbs the player reports
PLAYED_SEGMENTS = re.compile(r"^(\d+(\.\d+)?\[\.\]\d+(\.\d+)?)(\[,\]\d+(\.\d+)?\[\.\]\d+(\.\d+)?)*$")
MAX_STATE = 65536  # the encoded player state is ~4 KB (SCORM budget); anything far larger is not ours
PLAYER_FILES = re.compile(r"^[a-z0-9][a-z0-9-]*\.(js|css)$")  # scorm_export/player/*.js|css, nothing else


# -- errors ------------------------------------------------------------------------------------


class PlayError(Exception):
    """Base class: a player request refused; ``status`` is the HTTP status."""

    status = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class CourseNotInstalled(PlayError):
    """404: the launch names no course, or a course (or module) that is not installed."""

    status = 404


class EventInvalid(PlayError):
    """400: a learner event is malformed or does not fit the course; ``field`` (and the message) name the field."""

    def __init__(self, message: str, field: str = "body") -> None:
        self.field = field
        super().__init__(message)


class LaunchTokenInvalid(PlayError):
    """401: the event lacks the launch token of this launch (only the player page has it)."""

    status = 401


class EventReplayed(PlayError):
    """409: this event id was applied before (the player's outbox retried); nothing changed."""

    status = 409


# -- storage -----------------------------------------------------------------------------------


class Progress(Base):
    __tablename__ = "play_progress"
    __table_args__ = (UniqueConstraint("registration_id", "subject", "course_key", name="uq_play_progress_registration_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    course_key: Mapped[str] = mapped_column(String(200))
    course_version: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[str] = mapped_column(String(36))
    state: Mapped[str | None] = mapped_column(Text, nullable=True)
    location: Mapped[str | None] = mapped_column(String(200), nullable=True)
    progress: Mapped[float] = mapped_column(Float)
    completed: Mapped[bool] = mapped_column(Boolean)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    answers: Mapped[str] = mapped_column(Text)
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    grade_key: Mapped[str | None] = mapped_column(String(100), nullable=True)  # unused since ags_0001: kept per line item (smeb_lti.ags)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AppliedEvent(Base):
    __tablename__ = "play_events"

    progress_id: Mapped[int] = mapped_column(ForeignKey("play_progress.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def progress_for(session: Session, registration_id: int, subject: str, course_key: str, *, lock: bool = False) -> Progress | None:
    """The learner's row; ``lock`` holds it until commit (PostgreSQL), so two tabs cannot lose each other's answers."""
    query = select(Progress).where(Progress.registration_id == registration_id, Progress.subject == subject, Progress.course_key == course_key)
    return session.scalars(query.with_for_update() if lock else query).first()


def progress_of_context(session: Session, registration_id: int, course_key: str) -> dict[str, Progress]:
    """Every learner's progress in one course of one platform registration, by LTI ``sub`` (for the roster)."""
    rows = session.scalars(select(Progress).where(Progress.registration_id == registration_id, Progress.course_key == course_key))
    return {row.subject: row for row in rows}


# -- the course as the player sees it (pure) ---------------------------------------------------


@dataclass(frozen=True)
class CourseIndex:
    """What event checks need: blocks by id, lessons, quizzes and the required blocks."""

    course: Mapping[str, Any]
    blocks: Mapping[str, Mapping[str, Any]]
    lessons: frozenset[str]
    quizzes: tuple[str, ...]
    max_points: int

    @property
    def iri(self) -> str:
        return str(self.course["id"])

    def activity_id(self, part: str) -> str:
        # Same rule as the player (scorm_export/player/core.js activityId).
        return self.iri.rstrip("/") + "/" + part


def course_view(course: Mapping[str, Any], module_id: str | None) -> dict[str, Any]:
    """The course, or only ``module_id`` of it (a deep-linked module): required blocks and points follow."""
    view = dict(course)
    if not module_id:
        return view
    modules = [m for m in course["modules"] if m["id"] == module_id]
    if not modules:
        raise CourseNotInstalled(f"course {course['slug']!r} has no module {module_id!r}: pick the content again (deep linking)")
    ids = {b["id"] for lesson in modules[0]["lessons"] for b in lesson["blocks"]}
    view["modules"] = modules
    view["required"] = [r for r in course.get("required", []) if r in ids]
    view["maxPoints"] = sum(int(b.get("points") or 0) for lesson in modules[0]["lessons"] for b in lesson["blocks"] if b.get("type") == "quiz")
    return view


def index_course(course: Mapping[str, Any]) -> CourseIndex:
    blocks: dict[str, Mapping[str, Any]] = {}
    lessons: set[str] = set()
    for module in course["modules"]:
        for lesson in module["lessons"]:
            lessons.add(lesson["id"])
            for block in lesson["blocks"]:
                blocks[block["id"]] = block
    quizzes = tuple(bid for bid, b in blocks.items() if b.get("type") == "quiz")
    return CourseIndex(course, blocks, frozenset(lessons), quizzes, sum(int(blocks[q].get("points") or 0) for q in quizzes))


def media_paths(course: Mapping[str, Any]) -> frozenset[str]:
    """Every ``media/...`` path the course refers to (fields and ``src`` attributes in sanitized HTML)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if value.startswith("media/"):
                found.add(value)
            found.update(re.findall(r'(?:src|href)="(media/[^"]+)"', value))
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(course)
    return frozenset(found)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    time: datetime
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Answer:
    """A checked answer: which block (and case step), the chosen ids or value, and for quizzes the verdict."""

    block: Mapping[str, Any]
    block_id: str
    step: Mapping[str, Any] | None
    response: tuple[str, ...]
    correct: bool | None


def _fail(path: str, message: str) -> EventInvalid:
    return EventInvalid(f"event {path}: {message}", field=path)


def _strings(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, "must be a list of strings")
    return tuple(value)


def check_answer(index: CourseIndex, data: Mapping[str, Any]) -> Answer:
    """Check an ``answered`` event's data against the course; quiz correctness is decided here."""
    block_id = data.get("blockId")
    if not isinstance(block_id, str) or not block_id:
        raise _fail("data.blockId", "is required")
    step = None
    block = index.blocks.get(block_id)
    if block is None and "." in block_id:
        case_id, step_id = block_id.split(".", 1)
        block = index.blocks.get(case_id)
        if block is None or block.get("type") != "case":
            raise _fail("data.blockId", f"{block_id!r} is not a block of this course")
        step = next((s for s in block["steps"] if s["id"] == step_id), None)
        if step is None:
            raise _fail("data.blockId", f"case {case_id!r} has no step {step_id!r}")
    if block is None:
        raise _fail("data.blockId", f"{block_id!r} is not a block of this course")
    kind = block.get("type")
    if kind == "quiz":
        response = _strings(data.get("response"), "data.response")
        ids = [c["id"] for c in block["choices"]]
        if not response or len(set(response)) != len(response) or any(r not in ids for r in response):
            raise _fail("data.response", f"must name distinct choices of {block_id!r} ({', '.join(ids)})")
        if block.get("kind") in ("single", "true-false") and len(response) != 1:
            raise _fail("data.response", f"{block_id!r} takes exactly one choice")
        correct = {c["id"] for c in block["choices"] if c.get("correct")} == set(response)
        return Answer(block, block_id, None, response, correct)
    if kind == "case":
        if step is None:
            raise _fail("data.blockId", f"a case answer names its step: '{block_id}.<step id>'")
        response = _strings(data.get("response"), "data.response")
        ids = [c["id"] for c in step["choices"]]
        if len(response) != 1 or response[0] not in ids:
            raise _fail("data.response", f"must be one choice of step {block_id!r} ({', '.join(ids)})")
        return Answer(block, block_id, step, response, None)
    if kind == "survey":
        response = _strings(data.get("response"), "data.response")
        survey = block.get("kind")
        if survey in ("scale", "likert"):
            top = 10 if survey == "scale" else 5
            if len(response) != 1 or not response[0].isdigit() or not 1 <= int(response[0]) <= top:
                raise _fail("data.response", f"a {survey} answer is one whole number 1..{top}")
        elif survey == "rank":
            options = [f"o{i + 1}" for i in range(len(block.get("options") or ()))]
            if not response or len(set(response)) != len(response) or any(r not in options for r in response):
                raise _fail("data.response", f"a rank answer orders distinct options of {block_id!r} ({', '.join(options)})")
        elif len(response) != 1 or len(response[0]) > 5000:
            raise _fail("data.response", "a free-text answer is one text of at most 5000 characters")
        return Answer(block, block_id, None, response, None)
    if kind in ("reflection", "action-plan"):
        if "response" in data:
            # Reflections and plans stay in the learner's browser (docs/xapi-profile.md): refuse, never store.
            raise _fail("data.response", f"{kind} content is never sent to the server")
        return Answer(block, block_id, None, (), None)
    raise _fail("data.blockId", f"{block_id!r} is a {kind} block, which takes no answers")


def parse_event(raw: Any, index: CourseIndex, now: datetime) -> Event:
    """Check the envelope and the data shape of one event; raises :class:`EventInvalid` naming the field."""
    if not isinstance(raw, Mapping):
        raise _fail("body", "must be a JSON object")
    event_id = raw.get("id")
    try:
        uuid.UUID(str(event_id))
    except ValueError:
        raise _fail("id", f"must be a UUID, got {event_id!r}") from None
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        raise _fail("type", f"must be one of {', '.join(EVENT_TYPES)}, got {kind!r}")
    if raw.get("courseId") not in (None, index.iri):
        raise _fail("courseId", f"{raw.get('courseId')!r} is not the course of this launch ({index.iri})")
    data = raw.get("data", {})
    if not isinstance(data, Mapping):
        raise _fail("data", "must be an object")
    when = now
    if isinstance(raw.get("time"), str):
        try:
            parsed = datetime.fromisoformat(raw["time"].replace("Z", "+00:00"))
        except ValueError:
            raise _fail("time", f"must be an ISO 8601 date-time, got {raw['time']!r}") from None
        # A device clock may be off; a time from the future is replaced by ours.
        if parsed.tzinfo is not None and parsed <= now + timedelta(minutes=5):
            when = parsed.astimezone(timezone.utc)
    if kind == "state":
        if not isinstance(data.get("state"), str) or len(data["state"]) > MAX_STATE:
            raise _fail("data.state", f"must be a string of at most {MAX_STATE} characters")
        if data.get("location") is not None and not (isinstance(data["location"], str) and len(data["location"]) <= 200):
            raise _fail("data.location", "must be a short string")
    elif kind == "progressed":
        _fraction(data.get("progress"), "data.progress")
        lesson = data.get("lesson")
        if lesson is not None and lesson != "summary" and lesson not in index.lessons:
            raise _fail("data.lesson", f"{lesson!r} is not a lesson of this course")
    elif kind == "answered":
        check_answer(index, data)
    elif kind == "outcome":
        if not isinstance(data.get("completed"), bool):
            raise _fail("data.completed", "must be true or false")
        if data.get("passed") not in (True, False, None):
            raise _fail("data.passed", "must be true, false or null")
        if data.get("progress") is not None:
            _fraction(data["progress"], "data.progress")
    elif kind == "video":
        check_video(index, data)
    elif kind == "terminated":
        if data.get("duration") is not None and not (isinstance(data["duration"], str) and re.fullmatch(r"P[0-9TYMDHS.]*", data["duration"])):
            raise _fail("data.duration", "must be an ISO 8601 duration")
    return Event(str(event_id), str(kind), when, data)


def _seconds(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise _fail(path, f"must be a number of seconds >= 0, got {value!r}")
    return float(value)


def check_video(index: CourseIndex, data: Mapping[str, Any]) -> None:
    """A ``video`` event: which video, which ADL video profile verb, and the numbers that verb's template needs."""
    block = index.blocks.get(str(data.get("blockId")))
    if block is None or block.get("type") != "video":
        raise _fail("data.blockId", f"{data.get('blockId')!r} is not a video block of this course")
    verb = data.get("verb")
    if verb not in VIDEO_VERBS:
        raise _fail("data.verb", f"must be one of {', '.join(VIDEO_VERBS)}, got {verb!r}")
    try:
        uuid.UUID(str(data.get("sessionId")))
    except ValueError:
        raise _fail("data.sessionId", f"must be a UUID, got {data.get('sessionId')!r}") from None
    needed = {"played": ("time",), "paused": ("time", "length", "progress", "segments"), "seeked": ("timeFrom", "timeTo"),
              "completed": ("time", "length", "progress", "segments", "duration")}[verb]
    for key in ("time", "timeFrom", "timeTo", "length"):
        if key in needed or data.get(key) is not None:
            _seconds(data.get(key), f"data.{key}")
    if "progress" in needed or data.get("progress") is not None:
        _fraction(data.get("progress"), "data.progress")
    segments = data.get("segments")
    if ("segments" in needed or segments is not None) and not (isinstance(segments, str) and (segments == "" or PLAYED_SEGMENTS.fullmatch(segments))):
        raise _fail("data.segments", 'must be played segments like "0[.]5.2[,]7[.]9"')
    if "duration" in needed and not (isinstance(data.get("duration"), str) and re.fullmatch(r"P[0-9TYMDHS.]*", data["duration"])):
        raise _fail("data.duration", "must be an ISO 8601 duration")


def _fraction(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= 1:
        raise _fail(path, f"must be a number 0..1, got {value!r}")
    return float(value)


def quiz_points(index: CourseIndex, answers: Mapping[str, list[str]]) -> tuple[int, bool]:
    """Points for the checked answers, and whether every quiz is answered (then the grade is final)."""
    points = 0
    for quiz_id in index.quizzes:
        block = index.blocks[quiz_id]
        chosen = answers.get(quiz_id)
        if chosen is not None and {c["id"] for c in block["choices"] if c.get("correct")} == set(chosen):
            points += int(block.get("points") or 0)
    return points, all(q in answers for q in index.quizzes)


def learner_course(course: Mapping[str, Any]) -> dict[str, Any]:
    """The course as the learner's browser gets it: quizzes without their answer key.

    The tool grades (:func:`check_answer`), so ``choices[].correct`` and the choice feedback (which says
    what is right) stay here; the player asks for the verdict with each answer (:func:`verdict_for`).
    ``"grading": "server"`` tells the player so. Packages that grade offline keep the key (docs/packages.md).
    """
    def strip(block: Mapping[str, Any]) -> Mapping[str, Any]:
        if block.get("type") != "quiz":
            return block
        choices = [{k: v for k, v in choice.items() if k not in ("correct", "feedback")} for choice in block["choices"]]
        return {**block, "choices": choices}

    modules = [
        {**module, "lessons": [{**lesson, "blocks": [strip(b) for b in lesson["blocks"]]} for lesson in module["lessons"]]}
        for module in course["modules"]
    ]
    return {**course, "modules": modules, "grading": "server"}


def verdict_for(block: Mapping[str, Any], response: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """What the learner may see after answering a quiz: right or not, and the feedback of the chosen choices only."""
    chosen = set(response)
    correct = {c["id"] for c in block["choices"] if c.get("correct")} == chosen
    return {"correct": correct, "feedback": {c["id"]: c["feedback"] for c in block["choices"] if c["id"] in chosen and c.get("feedback")}}


def verdicts_for(index: CourseIndex, answers: Mapping[str, list[str]]) -> dict[str, dict[str, Any]]:
    """The verdicts of a learner's stored quiz answers (a resumed player shows them again)."""
    return {bid: verdict_for(index.blocks[bid], chosen) for bid, chosen in answers.items() if bid in index.blocks
            and index.blocks[bid].get("type") == "quiz"}


# -- statements (pure: data in, xAPI dicts out) -------------------------------------------------


def statement_id(progress_attempt: str, event_id: str, n: int) -> str:
    """Derived from the event id, so a replayed event could never make a second statement."""
    return str(uuid.uuid5(uuid.UUID(progress_attempt), f"{event_id}/{n}"))


def statements_for(event: Event, index: CourseIndex, actor: Mapping[str, Any], attempt: str, locale: str, *,
                   newly_completed: bool = False, verdict: bool | None = None, score: xb.Score | None = None,
                   session_id: str | None = None) -> list[dict[str, Any]]:
    """The statements one event makes; ``newly_completed``/``verdict`` (passed or failed) only when that just happened.

    ``session_id``: the player session (:func:`player_session_id`), the profile's ``session-id`` extension.
    """
    title = index.course.get("title")
    course = xb.Activity(index.iri, name=title)
    ctx = xb.StatementContext(registration=attempt, course_id=index.iri, language=locale, session_id=session_id)
    stamp = xb.utc_timestamp(event.time)
    out: list[dict[str, Any]] = []

    def ids() -> dict[str, Any]:
        return {"statement_id": statement_id(attempt, event.id, len(out)), "timestamp": stamp}

    if event.type == "initialized":
        out.append(xb.initialized(actor, "course", course, ctx, **ids()))
    elif event.type == "progressed":
        out.append(xb.progressed(actor, "course", course, int(round(float(event.data["progress"]) * 100)), ctx, **ids()))
    elif event.type == "answered":
        answer = check_answer(index, event.data)
        block = answer.block
        kind = block.get("type")
        if kind == "quiz":
            choices = [xb.Choice(c["id"], c.get("text")) for c in block["choices"]]
            correct = [c["id"] for c in block["choices"] if c.get("correct")]
            question = xb.Activity(index.activity_id(answer.block_id), name=block.get("question"))
            tf = block.get("kind") == "true-false" and {c["id"] for c in block["choices"]} <= {"true", "false"}
            points = int(block.get("points") or 0)
            out.append(xb.quiz_answer(
                actor, question, index.activity_id(answer.block_id),
                interaction_type="true-false" if tf else "choice",
                response=(answer.response[0] == "true") if tf else list(answer.response),
                success=bool(answer.correct),
                correct_responses=(correct[0] == "true") if tf else [correct],
                choices=() if tf else choices,
                score=xb.Score(scaled=1.0 if answer.correct else 0.0, raw=points if answer.correct else 0, min=0, max=points),
                ctx=ctx, **ids(),
            ))
        elif kind == "case":
            assert answer.step is not None
            choices = [xb.Choice(c["id"], c.get("text")) for c in answer.step["choices"]]
            out.append(xb.scenario_decision(
                actor, xb.Activity(index.activity_id(block["id"] + "/" + answer.step["id"]), name=answer.step.get("situation")),
                xb.Activity(index.activity_id(block["id"]), name=block.get("title")),
                choices=choices, chosen=answer.response[0], ctx=ctx, **ids(),
            ))
        elif kind == "survey":
            question = xb.Activity(index.activity_id(block["id"]), name=block.get("prompt"))
            survey = block.get("kind")
            if survey == "likert":
                out.append(xb.survey_answer(actor, question, index.activity_id(block["id"]), kind="likert", response=answer.response[0],
                                            scale=[xb.Choice(str(n)) for n in range(1, 6)], ctx=ctx, **ids()))
            elif survey == "scale":
                out.append(xb.survey_answer(actor, question, index.activity_id(block["id"]), kind="numeric",
                                            response=int(answer.response[0]), ctx=ctx, **ids()))
            # Free text and ranks are not sent to the LRS: free text may name colleagues, and the profile has no rank template.
        elif kind == "reflection":
            out.append(xb.reflection_written(actor, xb.Activity(index.activity_id(block["id"]), name=block.get("prompt")), ctx, **ids()))
        elif kind == "action-plan":
            out.append(xb.assignment_submitted(actor, xb.Activity(index.activity_id(block["id"]), name=block.get("prompt")), ctx, **ids()))
    elif event.type == "video":
        data = event.data
        block = index.blocks[str(data["blockId"])]
        video = xb.Activity(index.activity_id(block["id"]), name=block.get("title"))
        vctx = xb.StatementContext(registration=attempt, course_id=index.iri, language=locale, session_id=str(data["sessionId"]))
        length = float(data["length"]) if data.get("length") is not None else None
        if data["verb"] == "played":
            out.append(xb.video_played(actor, video, time=float(data["time"]), length=length, ctx=vctx, **ids()))
        elif data["verb"] == "paused":
            out.append(xb.video_paused(actor, video, time=float(data["time"]), length=float(data["length"]),
                                       progress=float(data["progress"]), played_segments=data["segments"], ctx=vctx, **ids()))
        elif data["verb"] == "seeked":
            out.append(xb.video_seeked(actor, video, time_from=float(data["timeFrom"]), time_to=float(data["timeTo"]),
                                       length=length, ctx=vctx, **ids()))
        else:
            out.append(xb.video_completed(actor, video, time=float(data["time"]), length=float(data["length"]),
                                          progress=float(data["progress"]), played_segments=data["segments"],
                                          duration=data["duration"], completion_threshold=0.95, ctx=vctx, **ids()))
    elif event.type == "outcome":
        if newly_completed:
            out.append(xb.completed(actor, "course", course, ctx, **ids()))
        if verdict is not None and score is not None:
            builder = xb.passed if verdict else xb.failed
            out.append(builder(actor, "course", course, score, ctx, **ids()))
    return out


# -- the edge ----------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(PlayError, _error)


def _error(error: PlayError) -> Response:
    if request.path.endswith(("/events", ".json")) or request.accept_mimetypes.best == "application/json":
        body = {"error": type(error).__name__, "message": error.message}
        if isinstance(error, EventInvalid):
            body["field"] = error.field
        response = jsonify(body)
    else:
        response = Response(render_template("player/error.html", message=error.message, lang="nb"), mimetype="text/html")
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    return response


def _sessions() -> sessionmaker[Session]:
    return current_app.extensions["smeb.sessions"]  # type: ignore[no-any-return]


def _secret() -> bytes:
    secret = current_app.config.get("SECRET_KEY")
    if not secret:
        raise RuntimeError("SECRET_KEY is not set: smeb_lti.lti.init_app must run before the player host")
    return str(secret).encode("utf-8")


def launch_token(launch_id: str) -> str:
    """The token the player sends with events: only a page rendered for this launch knows it."""
    return hmac.new(_secret(), b"smeb-play-events\x00" + launch_id.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()


def player_session_id(launch_id: str) -> str:
    """The player session of a launch as the profile's ``session-id`` (docs/xapi-profile.md): one per LTI launch.

    Derived under the tool's secret rather than the launch id itself, which opens ``/play/<launch_id>``
    and must not reach LRS readers. Stable for the launch, so a replayed event rebuilds the same bytes.
    """
    digest = hmac.new(_secret(), b"smeb-xapi-session\x00" + launch_id.encode("utf-8"), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def actor_key() -> bytes:
    """The key of the pseudonymous xAPI actors: every statement about a learner uses the same opaque name."""
    configured = current_app.config.get("SMEB_XAPI_ACTOR_KEY") or os.environ.get("SMEB_XAPI_ACTOR_KEY")
    if configured:
        return str(configured).encode("utf-8")
    return hmac.new(_secret(), b"smeb-xapi-actor-key", hashlib.sha256).digest()


@dataclass
class Launched:
    context: LaunchContext
    course: dict[str, Any]
    index: CourseIndex
    course_key: str
    version: str
    slug: str
    extra: dict[str, Any] = field(default_factory=dict)


def _launched(launch_id: str) -> Launched:
    from smeb_lti.catalogue import InstalledCourse

    with _sessions()() as session:
        context = get_launch(session, launch_id)
        slug = context.custom.get("course", "")
        if not slug:
            raise CourseNotInstalled("this LMS link names no course (custom parameter course=<slug>): the instructor adds the course again with 'select content'")
        row = session.get(InstalledCourse, slug)
        if row is None:
            raise CourseNotInstalled(f"course {slug!r} is not installed on this SMEB server: install it with `smeb courses install`")
        course = course_view(json.loads(row.model_json), context.custom.get("module"))
        version = row.version
    module = context.custom.get("module")
    key = f"{slug}/{module}" if module else slug
    return Launched(context, course, index_course(course), key, version, slug)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/play/<launch_id>")
def player_page(launch_id: str) -> Response:
    """The player page: the player's own assets under ``<base href>``, plus staff links for instructors."""
    launched = _launched(launch_id)
    context = launched.context
    sync_grade(launched)  # this activity's line item gets the current grade, also when it was earned under another
    tool_links = tools_for(launch_id, context)
    title = launched.course["title"].get(context.locale) or launched.course["title"]["nb"]
    response = Response(
        render_template("player/host.html", base=f"/play/{launch_id}/", lang=context.locale, title=title, tool_links=tool_links,
                        staff=context.is_instructor, host_style=Markup(HOST_STYLE),
                        assets=player_assets()),
        mimetype="text/html",
    )
    # No 'unsafe-inline': the page's one <style> is allowed by its hash, the player sets styles only through the CSSOM.
    # frame-ancestors (the launch's LMS) is added app-wide (smeb_lti.web.headers).
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self' '{HOST_STYLE_HASH}'; "
        "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"  # the launch id is in the URL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return _no_store(response)


# The staff tool bar's style, inline so the page needs no file of its own; its hash goes into the page's CSP.
HOST_STYLE = (
    ".smeb-staff{background:#20314a;padding:.4rem 1rem}.smeb-staff ul{list-style:none;margin:0;padding:0;display:flex;"
    "flex-wrap:wrap;gap:.25rem 1rem}.smeb-staff a{color:#fff;display:inline-block;min-height:44px;line-height:44px}"
    ".smeb-staff a:focus-visible{outline:3px solid #e8a317}"
)
HOST_STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(HOST_STYLE.encode("utf-8")).digest()).decode("ascii")


# Tools linked from the player page: (link id, URL rule, who sees it, Norwegian, English). A tool is linked
# only when its route is registered in this app, so the page never shows a link to something absent.
TOOLS = (
    ("smeb-journal-link", "/app/<launch_id>/journal", "everyone", "Min dagbok", "My journal"),
    ("smeb-forum-link", "/app/<launch_id>/forum", "everyone", "Forum", "Forum"),
    ("smeb-surveys-link", "/app/<launch_id>/surveys", "everyone", "Spørreundersøkelser", "Surveys"),
    ("smeb-workshops-link", "/app/<launch_id>/workshops", "everyone", "Samlinger", "Workshops"),
    ("smeb-dashboard-link", "/app/<launch_id>/dashboard", "staff", "Oversikt for bedriften", "Company dashboard"),
    ("smeb-roster-link", "/roster/<launch_id>", "staff", "Deltakerliste og framdrift", "Roster and progress"),
)


def tools_for(launch_id: str, context: LaunchContext) -> list[tuple[str, str, str]]:
    """``(id, href, label)`` of the tools this app has that this launch may use."""
    rules = {rule.rule for rule in current_app.url_map.iter_rules()}
    links = []
    for link_id, rule, audience, nb, en in TOOLS:
        if rule not in rules or (audience == "staff" and not context.is_instructor):
            continue
        if link_id == "smeb-roster-link" and not context.nrps:
            continue  # the roster needs the platform's membership service (NRPS claim)
        href = rule.replace("<launch_id>", launch_id)
        if context.is_instructor:
            # A staff launch's pages need the browser that did the launch (smeb_lti.lti.binding): a browser with the
            # launch cookie follows the plain URL; one that sends no cookie (embedded, third-party cookies blocked)
            # came here by a single-use ticket and gets a fresh one per link.
            href = binding.staff_link(launch_id, href)
        links.append((link_id, href, nb if context.locale == "nb" else en))
    return links


def player_assets() -> tuple[list[str], list[str]]:
    """``(stylesheets, scripts)`` of the player's ``index.html``, in order, so the host page loads the same files."""
    text = (resources.files("scorm_export") / "player" / "index.html").read_text(encoding="utf-8")
    styles = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', text)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', text)
    return styles, scripts


@bp.get("/play/<launch_id>/smeb-config.json")
def player_config(launch_id: str) -> Response:
    launched = _launched(launch_id)
    context = launched.context
    with _sessions()() as session:
        row = progress_for(session, context.registration_id, context.subject, launched.course_key)
        current = row is not None and row.course_version == launched.version
        state = row.state if current else None
        verdicts = verdicts_for(launched.index, json.loads(row.answers)) if current else {}
    config = {
        "runtime": "lti",
        "courseId": launched.index.iri,
        "eventsUrl": f"/play/{launch_id}/events",
        "tokenHeader": TOKEN_HEADER,
        "token": launch_token(launch_id),
        "locale": context.locale,
        "learner": {"id": hashlib.sha256(f"{context.issuer}\x00{context.subject}".encode()).hexdigest()[:32],
                    "name": context.name or context.given_name},
        "state": state,
        "verdicts": verdicts,
        "mode": "normal",
        "role": "instructor" if context.is_instructor else "learner",
    }
    if launched.course.get("certificate") and not context.custom.get("module"):
        config["certificateUrl"] = f"/app/{launch_id}/certificate"  # the summary links here (smeb_lti/dashboard, docs/dashboard.md)
    return_url = _return_url(context)
    if return_url:
        config["returnURL"] = return_url
    return _no_store(jsonify(config))


def _return_url(context: LaunchContext) -> str | None:
    with _sessions()() as session:
        from smeb_lti.lti.launches import get_claims

        claims = get_claims(session, context.launch_id)
    presentation = claims.get("https://purl.imsglobal.org/spec/lti/claim/launch_presentation") or {}
    url = presentation.get("return_url") if isinstance(presentation, Mapping) else None
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


@bp.get("/play/<launch_id>/course.json")
def course_json(launch_id: str) -> Response:
    launched = _launched(launch_id)
    response = jsonify(learner_course(launched.course))  # never the answer key: the tool grades
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/play/<launch_id>/<name>")
def player_file(launch_id: str, name: str) -> Response:
    if not PLAYER_FILES.match(name):
        abort(404)
    resource = resources.files("scorm_export") / "player" / name
    if not resource.is_file():
        abort(404)
    with _sessions()() as session:
        get_launch(session, launch_id)  # expired launch: 404 like everything else under it
    with resources.as_file(resource) as path:
        response = send_file(path, max_age=300, conditional=True)
    return response


def course_dirs() -> list[Path]:
    """Folders that hold course sources (``<dir>/<slug>/media/...``): ``SMEB_COURSE_DIRS`` then the shipped ones."""
    configured = current_app.config.get("SMEB_COURSE_DIRS") or os.environ.get("SMEB_COURSE_DIRS") or ""
    if isinstance(configured, str):
        configured = [p for p in configured.split(os.pathsep) if p]
    return [Path(p) for p in configured] + [shipped_courses_dir()]


@bp.get("/play/<launch_id>/media/<path:name>")
def media(launch_id: str, name: str) -> Response:
    launched = _launched(launch_id)
    rel = "media/" + name
    if rel not in media_paths(launched.course):
        abort(404)  # only files this course refers to: the folder may hold drafts
    for folder in course_dirs():
        root = (folder / launched.slug).resolve()
        candidate = (root / rel).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return send_file(candidate, max_age=3600, conditional=True)  # conditional: Range requests for video seeking
    abort(404)


def read_event_body() -> Any:
    """The JSON of one event, within the app's limits (``SMEB_MAX_EVENT_BYTES``, ``SMEB_MAX_JSON_DEPTH``).

    The body size is bounded before this view runs (:func:`smeb_lti.web.limits.limit_body`, also for a chunked
    body); here it is parsed strictly: no NaN/Infinity, no U+0000 (PostgreSQL cannot store it), no nesting past
    the depth limit (50,000 ``[`` would exhaust the parser's recursion), no unpaired surrogates (not encodable).
    """
    from smeb_lti.web.limits import Limits

    if request.mimetype != "application/json":
        raise EventInvalid(f"the body must be JSON (Content-Type: application/json, got {request.mimetype or 'none'!r})")
    limits: Limits = current_app.extensions["smeb.limits"]
    body = request.get_data(cache=True)
    if len(body) > limits.max_event_bytes:  # belt and braces: limit_body refused it already
        raise EventInvalid(f"event body larger than {limits.max_event_bytes} bytes (SMEB_MAX_EVENT_BYTES)")
    try:
        raw = loads_bounded(body, max_depth=limits.max_json_depth)
    except JsonLimitError as error:
        limit = f" (SMEB_MAX_JSON_DEPTH={limits.max_json_depth})" if "nested deeper" in error.reason else ""
        raise EventInvalid(f"event {error.path}: {error.reason}{limit}", field=error.path) from None
    except ValueError as error:
        # xapi.jsonlimits lets the interpreter's integer-size guard through (a number of more than 4300 digits).
        raise EventInvalid(f"event $: not a usable JSON number ({error})", field="$") from None
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise EventInvalid("event $: contains an unpaired UTF-16 surrogate (a \\ud800-\\udfff escape alone); send valid Unicode",
                           field="$") from None
    return raw


@bp.post("/play/<launch_id>/events")
def events(launch_id: str) -> Response:
    token = request.headers.get(TOKEN_HEADER, "")
    # Compared as bytes: compare_digest refuses non-ASCII str (a TypeError, i.e. a 500, for a hostile header).
    if not token or not hmac.compare_digest(token.encode("utf-8", "surrogateescape"), launch_token(launch_id).encode("ascii")):
        raise LaunchTokenInvalid(f"missing or wrong {TOKEN_HEADER}: events are accepted only from the player page of this launch")
    raw = read_event_body()
    launched = _launched(launch_id)
    now = datetime.now(timezone.utc)
    event = parse_event(raw, launched.index, now)
    try:
        with session_scope(_sessions()) as session:
            summary = apply_event(session, launched, event, now)
    except IntegrityError:
        # Two first events of one learner at once, or a replay racing its original: the unique keys decide.
        with _sessions()() as session:
            row = progress_for(session, launched.context.registration_id, launched.context.subject, launched.course_key)
            if row is not None and session.get(AppliedEvent, (row.id, event.id)) is not None:
                raise EventReplayed(f"event {event.id} was already applied") from None
        with session_scope(_sessions()) as session:
            summary = apply_event(session, launched, event, now)
    if event.type == "answered":
        answer = check_answer(launched.index, event.data)
        if answer.block.get("type") == "quiz":
            summary = {**summary, "verdict": verdict_for(answer.block, answer.response)}  # the player has no key
    return _no_store(jsonify(summary))


def _new_progress(launched: Launched, now: datetime) -> Progress:
    return Progress(
        registration_id=launched.context.registration_id, subject=launched.context.subject, course_key=launched.course_key,
        course_version=launched.version, attempt=str(uuid.uuid4()), state=None, location=None, progress=0.0, completed=False,
        passed=None, answers="{}", points=0, max_points=launched.index.max_points, grade_key=None, started_at=now, updated_at=now,
    )


def _locked_progress(session: Session, launched: Launched) -> Progress | None:
    """The learner's progress row, locked for this transaction (None when there is none yet)."""
    context = launched.context
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no SELECT ... FOR UPDATE: a first (no-op) write takes the database's write lock before
        # we read, so two events of one learner arriving at once are applied one after the other.
        session.execute(
            update(Progress)
            .where(Progress.registration_id == context.registration_id, Progress.subject == context.subject,
                   Progress.course_key == launched.course_key)
            .values(id=Progress.id)
            .execution_options(synchronize_session=False)
        )
    return progress_for(session, context.registration_id, context.subject, launched.course_key, lock=True)


def apply_event(session: Session, launched: Launched, event: Event, now: datetime) -> dict[str, Any]:
    """Apply one checked event: progress row, xAPI statements and AGS score, all in ``session``'s transaction."""
    context, index = launched.context, launched.index
    row = _locked_progress(session, launched)
    if row is None:
        row = _new_progress(launched, now)
        session.add(row)
        session.flush()
    if session.get(AppliedEvent, (row.id, event.id)) is not None:
        raise EventReplayed(f"event {event.id} was already applied")
    session.add(AppliedEvent(progress_id=row.id, event_id=event.id, received_at=now))
    if row.course_version != launched.version:
        # A new course version: old answers may point at changed questions; progress starts again, the attempt stays.
        row.course_version, row.state, row.answers, row.max_points = launched.version, None, "{}", index.max_points

    answers: dict[str, list[str]] = json.loads(row.answers)
    data = event.data
    was_completed, was_passed = row.completed, row.passed
    if event.type == "state":
        row.state, row.location = data["state"], data.get("location")
    elif event.type == "progressed":
        row.progress = max(row.progress, float(data["progress"]))  # progress never goes back within an attempt
    elif event.type == "answered":
        answer = check_answer(index, data)
        if answer.block.get("type") == "quiz":
            answers[answer.block_id] = list(answer.response)
    elif event.type == "outcome":
        if data.get("progress") is not None:
            row.progress = max(row.progress, float(data["progress"]))
        if data["completed"] and not row.completed:
            row.completed, row.completed_at, row.progress = True, event.time, 1.0
    points, judged = quiz_points(index, answers)
    row.answers = json.dumps(answers, sort_keys=True)
    row.points, row.max_points = points, index.max_points
    threshold = float(index.course.get("passingScore") or 0)
    if judged and index.max_points:
        row.passed = points / index.max_points >= threshold
    row.updated_at = now
    score = xb.Score(scaled=round(points / index.max_points, 4), raw=points, min=0, max=index.max_points) if judged and index.max_points else None

    # passed/failed once per change of verdict, reported with the outcome that carries it (cmi5-like ordering)
    verdict = row.passed if event.type == "outcome" and row.passed is not None and row.passed != was_passed else None
    if event.type != "outcome" and row.passed != was_passed:
        verdict = None
        row.passed = was_passed  # the verdict is recorded when the player reports the outcome
    statements = statements_for(event, index, actor_for(context), row.attempt, context.locale,
                                newly_completed=row.completed and not was_completed, verdict=verdict, score=score,
                                session_id=player_session_id(context.launch_id))
    from smeb_lti.routing import scope_of

    lrs = lrs_destinations_for(session.connection(), scope_of(context))  # only the LRSs bound to this customer
    if lrs:
        for statement in statements:
            enqueue(session, statement, lrs)
    graded = _queue_grade(session, context, row, judged, now)
    if event.type == "outcome" and row.completed:
        # Completion is judged just above: the certificate (if the course gives one and the rule is met) is issued in
        # this same transaction, once per learner + course + company (smeb_lti/completion.py, docs/dashboard.md).
        from smeb_lti.completion import on_course_completed

        on_course_completed(session, context, index.course, row, actor=actor_for(context))
    session.flush()
    return {"applied": event.id, "progress": row.progress, "completed": row.completed, "points": points,
            "maxPoints": index.max_points, "statements": len(statements) if lrs else 0, "gradeQueued": graded}


def actor_for(context: LaunchContext) -> dict[str, Any]:
    """The learner of a launch as a pseudonymous xAPI actor (the journal, forum and workshops use it too).

    The key is derived per customer (issuer, client, deployment, context): the same person in two
    companies gets two unrelated ids (xapi.actors.customer_key, docs/privacy.md).
    """
    from smeb_lti.routing import scope_of
    from xapi.actors import customer_key

    return pseudonymous_actor(context.issuer, context.subject, key=customer_key(actor_key(), scope_of(context)))


def _queue_grade(session: Session, context: LaunchContext, row: Progress, judged: bool, now: datetime) -> bool:
    """Queue an AGS score when what this line item's gradebook column would show changed (not on every click).

    Staff launches queue nothing: Moodle only grades users with a gradebook role and answers 400 for
    a teacher (``is_user_gradable_in_course``), and a teacher trying the course is not a result.
    Whether the grade changed is decided per line item (:mod:`smeb_lti.ags`), so a second activity
    for the same course gets the grade too.
    """
    from smeb_lti import ags

    lineitem = _score_lineitem(context)
    if lineitem is None:
        return False
    score = ags.grade_for(row.subject, row.points, row.max_points, row.progress, row.completed, judged, now)
    return ags.queue_score(session, context.registration_id, lineitem, score, now) is not None


def _score_lineitem(context: LaunchContext) -> str | None:
    """The line item this launch's learner is graded in, or ``None`` (no AGS score scope, no line item, or staff)."""
    from smeb_lti import ags

    lineitem = (context.ags or {}).get("lineitem")
    scopes = (context.ags or {}).get("scope") or ()
    if context.is_instructor or not isinstance(lineitem, str) or not lineitem or ags.SCOPE_SCORE not in scopes:
        return None
    return lineitem


def sync_grade(launched: Launched, now: datetime | None = None) -> bool:
    """At launch: give this launch's line item the learner's current grade if it has not had it yet.

    A learner who finished the course under one LMS activity and opens a second activity (another line
    item) for it sends no event that changes the grade, so without this the second column stays empty.
    A cheap unlocked check first; only when something is missing, the progress row is locked (as
    :func:`apply_event` does) so that a concurrent event cannot be overtaken by an older grade.
    """
    from smeb_lti import ags

    context = launched.context
    lineitem = _score_lineitem(context)
    if lineitem is None:
        return False
    now = now or datetime.now(timezone.utc)
    with _sessions()() as session:
        row = progress_for(session, context.registration_id, context.subject, launched.course_key)
        if row is None:
            return False
        judged = quiz_points(launched.index, json.loads(row.answers))[1]
        current = ags.grade_for(row.subject, row.points, row.max_points, row.progress, row.completed, judged, now)
        if ags.current_grade_key(session, context.registration_id, context.subject, lineitem) == ags.grade_key(current):
            return False
    with session_scope(_sessions()) as session:
        row = _locked_progress(session, launched)
        if row is None:
            return False
        judged = quiz_points(launched.index, json.loads(row.answers))[1]
        return _queue_grade(session, context, row, judged, now)
