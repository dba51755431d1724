"""Pure statement builders: plain data in, a validated xAPI 1.0.3 statement dict out.

Every builder

* takes ``statement_id`` and ``timestamp`` (keyword-only) or generates them (uuid4; UTC now
  with milliseconds and ``Z``). Given values are copied byte-for-byte, never reformatted: the
  outbox retries a statement with the same id, and the LRS compares the retried statement with
  the stored one (xAPI Communication 2.1.1), so the bytes must not drift.
* copies ``duration`` strings as given; :func:`format_duration` makes one from seconds.
* validates the result with :func:`xapi.validation.validate_statement` and adds SMEB/cmi5 rules
  of its own; a problem raises :class:`StatementValidationError` naming the rule and path.
* adds the SMEB profile version as a ``category`` context activity, which is how an xAPI Profile
  is announced (xAPI Data 2.4.6.2), and which ``xapi.profile.match_templates`` keys on.

Inputs are ids, language maps and UUIDs; the course model lives elsewhere on purpose.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from xapi.constants import (
    SMEB_PROFILE_VERSION,
    VERB_DISPLAY,
    ActivityStreamsVerbs,
    AdlActivityTypes,
    AdlVerbs,
    Cmi5,
    SmebActivityTypes,
    SmebExtensions,
    SmebVerbs,
    TinCanVerbs,
    Video,
)
from xapi.errors import StatementValidationError
from xapi.validation import ValidationIssue, validate_statement

Actor = Mapping[str, Any]
LanguageMap = Mapping[str, str]
Level = Literal["course", "module", "lesson", "block"]

LEVEL_TYPES: dict[str, str] = {
    "course": AdlActivityTypes.COURSE,
    "module": AdlActivityTypes.MODULE,
    "lesson": AdlActivityTypes.LESSON,
    "block": SmebActivityTypes.BLOCK,
}
PLATFORM = "SMEB"


# --------------------------------------------------------------------------- plain input data
@dataclass(frozen=True)
class Activity:
    """An activity as plain data: its IRI and optional language maps ({"nb": .., "en": ..})."""

    id: str
    name: LanguageMap | None = None
    description: LanguageMap | None = None


@dataclass(frozen=True)
class Choice:
    """One option of a choice/likert interaction: a short id (no whitespace) and its text."""

    id: str
    description: LanguageMap | None = None


@dataclass(frozen=True)
class Score:
    """xAPI score (Data 2.4.5.1); give ``scaled`` whenever a percentage is known."""

    scaled: float | None = None
    raw: float | None = None
    min: float | None = None
    max: float | None = None

    def as_dict(self) -> dict[str, float]:
        return {
            key: value
            for key, value in (("scaled", self.scaled), ("raw", self.raw), ("min", self.min), ("max", self.max))
            if value is not None
        }


@dataclass(frozen=True)
class StatementContext:
    """Where a statement happened: registration (attempt UUID), course and parent activity ids.

    ``course_id`` becomes ``contextActivities.grouping``; ``parent_id`` becomes ``parent``
    (builders with an explicit parent, such as the quiz answer, replace it).
    """

    registration: str | None = None
    course_id: str | None = None
    parent_id: str | None = None
    parent_type: str | None = None
    session_id: str | None = None
    language: str | None = None
    revision: str | None = None
    platform: str | None = PLATFORM


@dataclass(frozen=True)
class Cmi5Session:
    """One cmi5 AU session as handed to the LMS: ids from the launch and the course structure."""

    registration: str
    session_id: str
    au_id: str  # the launch URL's activityId: the object of cmi5 defined statements (cmi5 9.4)
    publisher_id: str  # the AU's id in the course structure: a grouping activity (cmi5 9.6.2.3)
    au_name: LanguageMap | None = None


# --------------------------------------------------------------------------- ids and time
def new_statement_id() -> str:
    """A fresh statement id (UUID version 4, lowercase standard form)."""
    return str(uuid.uuid4())


def utc_timestamp(moment: _dt.datetime | None = None) -> str:
    """``moment`` (default now) as UTC ISO 8601 with milliseconds and ``Z``: 2026-11-21T10:15:30.123Z."""
    moment = (moment or _dt.datetime.now(_dt.UTC)).astimezone(_dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_duration(seconds: float | Decimal) -> str:
    """Seconds as an ISO 8601 duration with at most 0.01 s precision (Data 4.6): 3725.5 -> PT1H2M5.5S."""
    total = Decimal(str(seconds)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    if total < 0:
        raise ValueError("a duration cannot be negative")
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT"
    if hours:
        out += f"{int(hours)}H"
    if minutes:
        out += f"{int(minutes)}M"
    if secs or out == "PT":
        text = format(secs.normalize(), "f")
        out += f"{text}S"
    return out


# --------------------------------------------------------------------------- internals
def _verb(verb_id: str) -> dict[str, Any]:
    return {"id": verb_id, "display": dict(VERB_DISPLAY[verb_id])}


def _activity(activity: Activity | str, type_iri: str | None = None, **definition: Any) -> dict[str, Any]:
    if isinstance(activity, str):
        activity = Activity(activity)
    body: dict[str, Any] = {}
    if activity.name:
        body["name"] = dict(activity.name)
    if activity.description:
        body["description"] = dict(activity.description)
    if type_iri:
        body["type"] = type_iri
    body.update({key: value for key, value in definition.items() if value is not None})
    obj: dict[str, Any] = {"objectType": "Activity", "id": activity.id}
    if body:
        obj["definition"] = body
    return obj


def _category(activity_id: str, type_iri: str | None = AdlActivityTypes.PROFILE) -> dict[str, Any]:
    return _activity(activity_id, type_iri)


SMEB_CATEGORY = SMEB_PROFILE_VERSION


def _context(
    ctx: StatementContext | None,
    *,
    parent: dict[str, Any] | None = None,
    categories: Sequence[dict[str, Any]] = (),
    extensions: Mapping[str, Any] | None = None,
    grouping: Sequence[dict[str, Any]] = (),
    statement_ref: str | None = None,
    instructor: Actor | None = None,
) -> dict[str, Any]:
    ctx = ctx or StatementContext()
    context: dict[str, Any] = {}
    if ctx.registration:
        context["registration"] = ctx.registration
    if instructor:
        context["instructor"] = dict(instructor)
    activities: dict[str, list[dict[str, Any]]] = {}
    if parent is None and ctx.parent_id:
        parent = _activity(ctx.parent_id, ctx.parent_type)
    if parent:
        activities["parent"] = [parent]
    groups = list(grouping)
    if ctx.course_id and ctx.course_id != (parent or {}).get("id"):
        groups.insert(0, _activity(ctx.course_id, AdlActivityTypes.COURSE))
    if groups:
        activities["grouping"] = groups
    activities["category"] = [_category(SMEB_CATEGORY), *categories]
    context["contextActivities"] = activities
    if ctx.revision:
        context["revision"] = ctx.revision
    if ctx.platform:
        context["platform"] = ctx.platform
    if ctx.language:
        context["language"] = ctx.language
    if statement_ref:
        context["statement"] = {"objectType": "StatementRef", "id": statement_ref}
    merged = dict(extensions or {})
    if ctx.session_id and not any(key in merged for key in (Cmi5.EXT_SESSION_ID, Video.SESSION_ID)):
        merged[SmebExtensions.SESSION_ID] = ctx.session_id
    if merged:
        context["extensions"] = merged
    return context


def _statement(
    actor: Actor,
    verb_id: str,
    obj: dict[str, Any],
    context: dict[str, Any] | None,
    *,
    result: dict[str, Any] | None = None,
    statement_id: str | None,
    timestamp: str | None,
    issues: Iterable[ValidationIssue] = (),
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "id": statement_id if statement_id is not None else new_statement_id(),
        "timestamp": timestamp if timestamp is not None else utc_timestamp(),
        "actor": dict(actor),
        "verb": _verb(verb_id),
        "object": obj,
    }
    if result:
        statement["result"] = result
    if context:
        _drop_self_grouping(context, obj.get("id"))
        statement["context"] = context
    problems = list(issues)
    try:
        validate_statement(statement)
    except StatementValidationError as error:
        problems.extend(error.issues)
    if problems:
        raise StatementValidationError(problems)
    return statement


def _drop_self_grouping(context: dict[str, Any], object_id: Any) -> None:
    """A course-level statement names the course as object; listing it again as grouping adds nothing."""
    activities = context.get("contextActivities", {})
    grouping = [item for item in activities.get("grouping", []) if item.get("id") != object_id]
    if grouping:
        activities["grouping"] = grouping
    else:
        activities.pop("grouping", None)


def _check(condition: bool, path: str, rule: str, message: str) -> list[ValidationIssue]:
    return [] if condition else [ValidationIssue(path, rule, message)]


def _result(
    *,
    score: Score | None = None,
    success: bool | None = None,
    completion: bool | None = None,
    response: str | None = None,
    duration: str | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    if score is not None:
        result["score"] = score.as_dict()
    if success is not None:
        result["success"] = success
    if completion is not None:
        result["completion"] = completion
    if response is not None:
        result["response"] = response
    if duration is not None:
        result["duration"] = duration
    if extensions:
        result["extensions"] = dict(extensions)
    return result or None


def _level_type(level: Level) -> str:
    try:
        return LEVEL_TYPES[level]
    except KeyError:
        raise ValueError(f"level must be one of {', '.join(LEVEL_TYPES)}, not {level!r}") from None


# --------------------------------------------------------------------------- course structure
def launched(
    actor: Actor,
    level: Level,
    activity: Activity,
    ctx: StatementContext | None = None,
    *,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The platform opened a course/module/lesson/block for the learner."""
    return _statement(
        actor,
        AdlVerbs.LAUNCHED,
        _activity(activity, _level_type(level)),
        _context(ctx),
        statement_id=statement_id,
        timestamp=timestamp,
    )


def initialized(
    actor: Actor,
    level: Level,
    activity: Activity,
    ctx: StatementContext | None = None,
    *,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The player finished loading the course/module/lesson/block and tracking has begun."""
    return _statement(
        actor,
        AdlVerbs.INITIALIZED,
        _activity(activity, _level_type(level)),
        _context(ctx),
        statement_id=statement_id,
        timestamp=timestamp,
    )


def progressed(
    actor: Actor,
    level: Level,
    activity: Activity,
    progress: int,
    ctx: StatementContext | None = None,
    *,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner's completion percentage changed; ``progress`` is an integer 0..100 (the cmi5 progress extension's value space)."""
    issues = _check(
        isinstance(progress, int) and not isinstance(progress, bool) and 0 <= progress <= 100,
        f"$.result.extensions['{Cmi5.RESULT_PROGRESS}']",
        "smeb-progress-percent",
        f"progress must be an integer 0..100 (cmi5 9.5.5.1), got {progress!r}",
    )
    result = _result(extensions={Cmi5.RESULT_PROGRESS: progress})
    return _statement(
        actor,
        AdlVerbs.PROGRESSED,
        _activity(activity, _level_type(level)),
        _context(ctx),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
        issues=issues,
    )


def completed(
    actor: Actor,
    level: Level,
    activity: Activity,
    ctx: StatementContext | None = None,
    *,
    duration: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner experienced all required content of the course/module/lesson/block."""
    result = _result(completion=True, duration=duration)
    return _statement(
        actor,
        AdlVerbs.COMPLETED,
        _activity(activity, _level_type(level)),
        _context(ctx),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def passed(
    actor: Actor,
    level: Level,
    activity: Activity,
    score: Score,
    ctx: StatementContext | None = None,
    *,
    duration: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner met the mastery criterion of a judged course/module/lesson/block."""
    result = _result(score=score, success=True, duration=duration)
    return _statement(
        actor,
        AdlVerbs.PASSED,
        _activity(activity, _level_type(level)),
        _context(ctx),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def failed(
    actor: Actor,
    level: Level,
    activity: Activity,
    score: Score,
    ctx: StatementContext | None = None,
    *,
    duration: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner attempted a judged course/module/lesson/block and did not meet the criterion."""
    result = _result(score=score, success=False, duration=duration)
    return _statement(
        actor,
        AdlVerbs.FAILED,
        _activity(activity, _level_type(level)),
        _context(ctx),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


# --------------------------------------------------------------------------- interactions
def _components(choices: Sequence[Choice]) -> list[dict[str, Any]]:
    return [
        {"id": choice.id, **({"description": dict(choice.description)} if choice.description else {})}
        for choice in choices
    ]


def _choice_issues(chosen: Sequence[str], choices: Sequence[Choice], path: str) -> list[ValidationIssue]:
    known = {choice.id for choice in choices}
    issues = [
        ValidationIssue(
            path, "smeb-response-unknown-choice", f"response id {item!r} is not among the choices {sorted(known)}"
        )
        for item in chosen
        if item not in known
    ]
    issues += [
        ValidationIssue(
            path, "smeb-choice-id-whitespace", f"choice id {c.id!r} contains whitespace (xAPI 1.0.3 Data 2.4.4.1)"
        )
        for c in choices
        if any(ch.isspace() for ch in c.id)
    ]
    return issues


def quiz_answer(
    actor: Actor,
    question: Activity,
    quiz_id: str,
    *,
    interaction_type: Literal["choice", "true-false"],
    response: bool | Sequence[str],
    success: bool,
    correct_responses: Sequence[Sequence[str]] | bool | None = None,
    choices: Sequence[Choice] = (),
    score: Score | None = None,
    duration: str | None = None,
    ctx: StatementContext | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A learner answered a quiz question (cmi.interaction, Data 2.4.4.1), with the quiz as parent.

    For ``true-false`` pass ``response``/``correct_responses`` as booleans; for ``choice`` pass the
    chosen choice ids and a list of correct id combinations (each becomes one ``[,]`` pattern).
    """
    issues: list[ValidationIssue] = []
    if interaction_type == "true-false":
        issues += _check(
            isinstance(response, bool),
            "$.result.response",
            "smeb-true-false-response",
            "true-false responses are booleans",
        )
        response_text = "true" if response is True else "false"
        pattern = None if correct_responses is None else ["true" if correct_responses is True else "false"]
        definition: dict[str, Any] = {"interactionType": "true-false", "correctResponsesPattern": pattern}
    elif interaction_type == "choice":
        chosen = [] if isinstance(response, bool) else list(response)
        issues += _check(
            bool(chosen),
            "$.result.response",
            "smeb-choice-response-empty",
            "a choice response names at least one choice id",
        )
        issues += _choice_issues(chosen, choices, "$.result.response")
        response_text = "[,]".join(chosen)
        combos = (
            []
            if correct_responses is None or isinstance(correct_responses, bool)
            else [list(c) for c in correct_responses]
        )
        for combo in combos:
            issues += _choice_issues(combo, choices, "$.object.definition.correctResponsesPattern")
        pattern = None if correct_responses is None else ["[,]".join(combo) for combo in combos]
        definition = {"interactionType": "choice", "correctResponsesPattern": pattern, "choices": _components(choices)}
    else:
        raise ValueError(f"quiz interaction_type must be 'choice' or 'true-false', not {interaction_type!r}")
    obj = _activity(question, AdlActivityTypes.CMI_INTERACTION, **definition)
    parent = _activity(quiz_id, AdlActivityTypes.ASSESSMENT)
    result = _result(score=score, success=success, response=response_text, duration=duration)
    return _statement(
        actor,
        AdlVerbs.ANSWERED,
        obj,
        _context(ctx, parent=parent),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
        issues=issues,
    )


def scenario_decision(
    actor: Actor,
    decision: Activity,
    scenario: Activity,
    *,
    choices: Sequence[Choice],
    chosen: str,
    recommended: Sequence[str] | None = None,
    ctx: StatementContext | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A learner chose an option at a decision point of a case scenario.

    Uses ADL ``answered`` with a ``choice`` cmi.interaction (so dashboards counting answered
    interactions include it) and the scenario (SMEB type case-scenario) as parent. Case decisions
    are often judgement calls: ``recommended`` (the facilitator's preferred options) is optional,
    and ``success`` is only set when it is given.
    """
    issues = _choice_issues([chosen], choices, "$.result.response")
    pattern = None if recommended is None else list(recommended)
    if recommended is not None:
        issues += _choice_issues(list(recommended), choices, "$.object.definition.correctResponsesPattern")
    obj = _activity(
        decision,
        AdlActivityTypes.CMI_INTERACTION,
        interactionType="choice",
        correctResponsesPattern=pattern,
        choices=_components(choices),
    )
    parent = _activity(scenario, SmebActivityTypes.CASE_SCENARIO)
    success = None if recommended is None else chosen in recommended
    result = _result(response=chosen, success=success)
    return _statement(
        actor,
        AdlVerbs.ANSWERED,
        obj,
        _context(ctx, parent=parent),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
        issues=issues,
    )


def survey_answer(
    actor: Actor,
    question: Activity,
    survey_id: str,
    *,
    kind: Literal["likert", "numeric", "fill-in", "long-fill-in"],
    response: str | int,
    scale: Sequence[Choice] = (),
    numeric_range: tuple[int, int] = (1, 10),
    ctx: StatementContext | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A learner answered a survey question; surveys have no correct answer, so no
    correctResponsesPattern, success or score (Data 2.4.4.1: omit the pattern when any answer is correct).

    ``likert`` takes a scale id, ``numeric`` an integer within ``numeric_range`` (default 1..10,
    published as the SMEB survey-scale definition extension), the fill-ins a text.
    """
    issues: list[ValidationIssue] = []
    definition: dict[str, Any] = {"interactionType": kind}
    if kind == "likert":
        issues += _check(
            isinstance(response, str), "$.result.response", "smeb-likert-response", "a likert response is one scale id"
        )
        issues += _check(
            bool(scale), "$.object.definition.scale", "smeb-likert-scale", "a likert question needs its scale"
        )
        issues += _choice_issues([str(response)], scale, "$.result.response")
        definition["scale"] = _components(scale)
        text = str(response)
    elif kind == "numeric":
        low, high = numeric_range
        ok = isinstance(response, int) and not isinstance(response, bool) and low <= response <= high
        issues += _check(
            ok,
            "$.result.response",
            "smeb-numeric-range",
            f"numeric survey answers are integers {low}..{high}, got {response!r}",
        )
        definition["extensions"] = {SmebExtensions.SURVEY_SCALE: {"min": low, "max": high}}
        text = str(response)
    elif kind in ("fill-in", "long-fill-in"):
        issues += _check(
            isinstance(response, str), "$.result.response", "smeb-fill-in-response", "fill-in responses are text"
        )
        text = str(response)
    else:
        raise ValueError(f"survey kind must be likert, numeric, fill-in or long-fill-in, not {kind!r}")
    obj = _activity(question, AdlActivityTypes.CMI_INTERACTION, **definition)
    parent = _activity(survey_id, SmebActivityTypes.SURVEY)
    return _statement(
        actor,
        AdlVerbs.ANSWERED,
        obj,
        _context(ctx, parent=parent),
        result=_result(response=text),
        statement_id=statement_id,
        timestamp=timestamp,
        issues=issues,
    )


def reflection_written(
    actor: Actor,
    reflection: Activity,
    ctx: StatementContext | None = None,
    *,
    duration: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A learner wrote a reflection. There is deliberately no parameter for its text: reflections
    are personal and stay in SMEB; the LRS only learns that (and when) one was written."""
    result = _result(completion=True, duration=duration)
    return _statement(
        actor,
        SmebVerbs.REFLECTED,
        _activity(reflection, SmebActivityTypes.REFLECTION),
        _context(ctx),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


# --------------------------------------------------------------------------- video (ADL video profile v1.0.3)
VIDEO_CATEGORY = _category(Video.PROFILE)


def _video_context(
    ctx: StatementContext | None, length: float | None, completion_threshold: float | None = None
) -> dict[str, Any]:
    extensions: dict[str, Any] = {}
    if length is not None:
        extensions[Video.LENGTH] = length
    if ctx and ctx.session_id:
        extensions[Video.SESSION_ID] = ctx.session_id  # the profile's own session id, not SMEB's
    if completion_threshold is not None:
        extensions[Video.COMPLETION_THRESHOLD] = completion_threshold
    return _context(ctx, categories=[VIDEO_CATEGORY], extensions=extensions)


def _video_issues(progress: float | None, segments: str | None) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    if progress is not None:
        issues += _check(
            0 <= progress <= 1,
            f"$.result.extensions['{Video.PROGRESS}']",
            "video-progress-range",
            "video progress is a fraction 0..1 (ADL video profile)",
        )
    if segments is not None:
        issues += _check(
            all(len(seg.split("[.]")) == 2 for seg in segments.split("[,]")) if segments else True,
            f"$.result.extensions['{Video.PLAYED_SEGMENTS}']",
            "video-played-segments",
            'played segments look like "0[.]5.2[,]7[.]9" (start[.]end pairs joined by [,])',
        )
    return issues


def video_played(
    actor: Actor,
    video: Activity,
    *,
    time: float,
    length: float | None = None,
    ctx: StatementContext | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """Playback started or resumed at ``time`` seconds (video profile template ``played``)."""
    result = _result(extensions={Video.TIME: time})
    return _statement(
        actor,
        Video.PLAYED,
        _activity(video, Video.ACTIVITY_TYPE),
        _video_context(ctx, length),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def video_paused(
    actor: Actor,
    video: Activity,
    *,
    time: float,
    length: float,
    progress: float,
    played_segments: str,
    ctx: StatementContext | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """Playback paused at ``time``; ``progress`` (0..1) and ``played_segments`` as the profile requires."""
    result = _result(extensions={Video.TIME: time, Video.PROGRESS: progress, Video.PLAYED_SEGMENTS: played_segments})
    return _statement(
        actor,
        Video.PAUSED,
        _activity(video, Video.ACTIVITY_TYPE),
        _video_context(ctx, length),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
        issues=_video_issues(progress, played_segments),
    )


def video_seeked(
    actor: Actor,
    video: Activity,
    *,
    time_from: float,
    time_to: float,
    length: float | None = None,
    ctx: StatementContext | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner moved the seek bar from ``time_from`` to ``time_to`` seconds."""
    result = _result(extensions={Video.TIME_FROM: time_from, Video.TIME_TO: time_to})
    return _statement(
        actor,
        Video.SEEKED,
        _activity(video, Video.ACTIVITY_TYPE),
        _video_context(ctx, length),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def video_completed(
    actor: Actor,
    video: Activity,
    *,
    time: float,
    length: float,
    progress: float,
    played_segments: str,
    duration: str,
    completion_threshold: float | None = None,
    ctx: StatementContext | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner watched enough of the video (profile template ``completed``: duration, completion, progress)."""
    result = _result(
        completion=True,
        duration=duration,
        extensions={Video.TIME: time, Video.PROGRESS: progress, Video.PLAYED_SEGMENTS: played_segments},
    )
    return _statement(
        actor,
        Video.COMPLETED,
        _activity(video, Video.ACTIVITY_TYPE),
        _video_context(ctx, length, completion_threshold),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
        issues=_video_issues(progress, played_segments),
    )


# --------------------------------------------------------------------------- workshop, assignment, certificate, forum
def workshop_attended(
    actor: Actor,
    workshop: Activity,
    ctx: StatementContext | None = None,
    *,
    duration: str | None = None,
    instructor: Actor | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner attended a (physical or online) workshop: ADL ``attended`` a ``meeting``."""
    result = _result(duration=duration)
    return _statement(
        actor,
        AdlVerbs.ATTENDED,
        _activity(workshop, AdlActivityTypes.MEETING),
        _context(ctx, instructor=instructor),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def assignment_submitted(
    actor: Actor,
    assignment: Activity,
    ctx: StatementContext | None = None,
    *,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner submitted an action plan (its content stays in SMEB)."""
    result = _result(completion=True)
    return _statement(
        actor,
        ActivityStreamsVerbs.SUBMIT,
        _activity(assignment, SmebActivityTypes.ACTION_PLAN),
        _context(ctx),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def certificate_earned(
    actor: Actor,
    certificate: Activity,
    ctx: StatementContext | None = None,
    *,
    certificate_number: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner earned a certificate; ``certificate`` is the issued certificate (one id per issue)."""
    result = _result(
        completion=True,
        extensions={SmebExtensions.CERTIFICATE_NUMBER: certificate_number} if certificate_number else None,
    )
    return _statement(
        actor,
        TinCanVerbs.EARNED,
        _activity(certificate, SmebActivityTypes.CERTIFICATE),
        _context(ctx),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def certificate_revoked(
    issuer: Actor,
    certificate: Activity,
    reason: str,
    ctx: StatementContext | None = None,
    *,
    earned_statement_id: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """An administrator/system (``issuer``) revoked an issued certificate.

    Not a voiding: the certificate was valid until now, so the "earned" statement stays true.
    ``earned_statement_id`` links it (context.statement); ``reason`` is a short code, not free text.
    """
    result = _result(extensions={SmebExtensions.REVOCATION_REASON: reason})
    return _statement(
        issuer,
        SmebVerbs.REVOKED,
        _activity(certificate, SmebActivityTypes.CERTIFICATE),
        _context(ctx, statement_ref=earned_statement_id),
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def forum_commented(
    actor: Actor,
    thread: Activity,
    ctx: StatementContext | None = None,
    *,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner posted in a forum thread (the post's text stays in SMEB)."""
    return _statement(
        actor,
        AdlVerbs.COMMENTED,
        _activity(thread, SmebActivityTypes.FORUM_THREAD),
        _context(ctx),
        statement_id=statement_id,
        timestamp=timestamp,
    )


def forum_responded(
    actor: Actor,
    post: Activity,
    ctx: StatementContext | None = None,
    *,
    thread_id: str | None = None,
    in_reply_to: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """The learner replied to a forum post; ``in_reply_to`` is the statement id of the post's "commented"."""
    parent = _activity(thread_id, SmebActivityTypes.FORUM_THREAD) if thread_id else None
    return _statement(
        actor,
        AdlVerbs.RESPONDED,
        _activity(post, SmebActivityTypes.FORUM_POST),
        _context(ctx, parent=parent, statement_ref=in_reply_to),
        statement_id=statement_id,
        timestamp=timestamp,
    )


def voided(
    actor: Actor, target_statement_id: str, *, statement_id: str | None = None, timestamp: str | None = None
) -> dict[str, Any]:
    """Void a statement we sent by mistake (Data 2.3.2); to "unvoid", resend it under a new id."""
    obj = {"objectType": "StatementRef", "id": target_statement_id}
    return _statement(actor, AdlVerbs.VOIDED, obj, None, statement_id=statement_id, timestamp=timestamp)


# --------------------------------------------------------------------------- cmi5 (spec "Quartz", section 9)
CMI5_CATEGORY = _category(Cmi5.CATEGORY_CMI5, None)
MOVEON_CATEGORY = _category(Cmi5.CATEGORY_MOVEON, None)
LaunchMode = Literal["Normal", "Browse", "Review"]
MoveOn = Literal["Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable"]


def _cmi5_issues(actor: Actor, timestamp: str | None, score: Score | None = None) -> list[ValidationIssue]:
    issues = _check(
        isinstance(actor.get("account"), Mapping),
        "$.actor",
        "cmi5-9.2-actor-account",
        "cmi5 actors MUST be Agents identified by account (cmi5 9.2)",
    )
    if timestamp is not None:
        issues += _check(
            timestamp.endswith(("Z", "z", "+00:00")),
            "$.timestamp",
            "cmi5-9.7-timestamp-utc",
            f"cmi5 timestamps MUST be UTC (cmi5 9.7), got {timestamp!r}",
        )
    if score is not None:
        if score.scaled is not None:
            issues += _check(
                0 <= score.scaled <= 1,
                "$.result.score.scaled",
                "cmi5-9.5.1-scaled",
                "cmi5 scaled scores are 0..1 (cmi5 9.5.1)",
            )
        if score.raw is not None:
            issues += _check(
                score.min is not None and score.max is not None,
                "$.result.score",
                "cmi5-9.5.1-raw-min-max",
                "cmi5 raw scores need min and max (cmi5 9.5.1)",
            )
    return issues


def _cmi5(
    actor: Actor,
    verb_id: str,
    session: Cmi5Session,
    *,
    result: dict[str, Any] | None = None,
    obj: dict[str, Any] | None = None,
    extensions: Mapping[str, Any] | None = None,
    score: Score | None = None,
    issues: Sequence[ValidationIssue] = (),
    statement_id: str | None,
    timestamp: str | None,
) -> dict[str, Any]:
    moveon = result is not None and ("success" in result or "completion" in result)  # cmi5 9.6.2.2
    categories = [CMI5_CATEGORY, MOVEON_CATEGORY] if moveon else [CMI5_CATEGORY]
    ctx = StatementContext(registration=session.registration, platform=None)
    context = _context(
        ctx,
        categories=categories,
        grouping=[_activity(session.publisher_id)],
        extensions={Cmi5.EXT_SESSION_ID: session.session_id, **(extensions or {})},
    )
    obj = obj or _activity(Activity(session.au_id, session.au_name))
    return _statement(
        actor,
        verb_id,
        obj,
        context,
        result=result,
        statement_id=statement_id,
        timestamp=timestamp,
        issues=[*_cmi5_issues(actor, timestamp, score), *issues],
    )


def cmi5_launched(
    actor: Actor,
    session: Cmi5Session,
    *,
    launch_mode: LaunchMode,
    launch_url: str,
    move_on: MoveOn,
    mastery_score: float | None = None,
    launch_parameters: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """LMS: the AU is being launched (cmi5 9.3.1) with launchMode/launchURL/moveOn (9.6.3)."""
    extensions: dict[str, Any] = {
        Cmi5.EXT_LAUNCH_MODE: launch_mode,
        Cmi5.EXT_LAUNCH_URL: launch_url,
        Cmi5.EXT_MOVE_ON: move_on,
    }
    if mastery_score is not None:
        extensions[Cmi5.EXT_MASTERY_SCORE] = mastery_score
    if launch_parameters is not None:
        extensions[Cmi5.EXT_LAUNCH_PARAMETERS] = launch_parameters
    return _cmi5(
        actor, AdlVerbs.LAUNCHED, session, extensions=extensions, statement_id=statement_id, timestamp=timestamp
    )


def cmi5_initialized(
    actor: Actor, session: Cmi5Session, *, statement_id: str | None = None, timestamp: str | None = None
) -> dict[str, Any]:
    """AU: first statement of the session (cmi5 9.3.2)."""
    return _cmi5(actor, AdlVerbs.INITIALIZED, session, statement_id=statement_id, timestamp=timestamp)


def cmi5_completed(
    actor: Actor,
    session: Cmi5Session,
    *,
    duration: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """AU: the learner experienced all relevant material (cmi5 9.3.3); completion true, moveOn category."""
    return _cmi5(
        actor,
        AdlVerbs.COMPLETED,
        session,
        result=_result(completion=True, duration=duration),
        statement_id=statement_id,
        timestamp=timestamp,
    )


def cmi5_passed(
    actor: Actor,
    session: Cmi5Session,
    *,
    score: Score | None = None,
    mastery_score: float | None = None,
    duration: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """AU: the learner passed (cmi5 9.3.4); a scaled score must reach ``mastery_score``."""
    extensions = {Cmi5.EXT_MASTERY_SCORE: mastery_score} if mastery_score is not None else None
    below = (
        score is not None and score.scaled is not None and mastery_score is not None and score.scaled < mastery_score
    )
    issues = _check(
        not below,
        "$.result.score.scaled",
        "cmi5-9.3.4-passed-mastery",
        f"passed needs scaled >= masteryScore {mastery_score}",
    )
    result = _result(score=score, success=True, duration=duration)
    return _cmi5(
        actor,
        AdlVerbs.PASSED,
        session,
        result=result,
        extensions=extensions,
        score=score,
        issues=issues,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def cmi5_failed(
    actor: Actor,
    session: Cmi5Session,
    *,
    score: Score | None = None,
    mastery_score: float | None = None,
    duration: str | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """AU: the learner failed (cmi5 9.3.5); a scaled score must be below ``mastery_score``."""
    extensions = {Cmi5.EXT_MASTERY_SCORE: mastery_score} if mastery_score is not None else None
    reached = (
        score is not None and score.scaled is not None and mastery_score is not None and score.scaled >= mastery_score
    )
    issues = _check(
        not reached,
        "$.result.score.scaled",
        "cmi5-9.3.5-failed-mastery",
        f"failed needs scaled < masteryScore {mastery_score}",
    )
    result = _result(score=score, success=False, duration=duration)
    return _cmi5(
        actor,
        AdlVerbs.FAILED,
        session,
        result=result,
        extensions=extensions,
        score=score,
        issues=issues,
        statement_id=statement_id,
        timestamp=timestamp,
    )


def cmi5_terminated(
    actor: Actor, session: Cmi5Session, *, duration: str, statement_id: str | None = None, timestamp: str | None = None
) -> dict[str, Any]:
    """AU: last statement of the session; duration is required (cmi5 9.3.8, 9.5.4.1)."""
    return _cmi5(
        actor,
        AdlVerbs.TERMINATED,
        session,
        result=_result(duration=duration),
        statement_id=statement_id,
        timestamp=timestamp,
    )


def cmi5_abandoned(
    actor: Actor, session: Cmi5Session, *, duration: str, statement_id: str | None = None, timestamp: str | None = None
) -> dict[str, Any]:
    """LMS: the session ended abnormally (cmi5 9.3.6); duration is required (9.5.4.2)."""
    return _cmi5(
        actor,
        AdlVerbs.ABANDONED,
        session,
        result=_result(duration=duration),
        statement_id=statement_id,
        timestamp=timestamp,
    )


def cmi5_waived(
    actor: Actor, session: Cmi5Session, *, reason: str, statement_id: str | None = None, timestamp: str | None = None
) -> dict[str, Any]:
    """LMS: the AU's requirements were met by other means (cmi5 9.3.7); ``reason`` e.g. "Tested Out"."""
    result = _result(success=True, completion=True, extensions={Cmi5.RESULT_REASON: reason})
    return _cmi5(actor, AdlVerbs.WAIVED, session, result=result, statement_id=statement_id, timestamp=timestamp)


def cmi5_satisfied(
    actor: Actor,
    session: Cmi5Session,
    *,
    kind: Literal["block", "course"],
    object_id: str,
    name: LanguageMap | None = None,
    statement_id: str | None = None,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """LMS: the learner met moveOn for all AUs of a block or the course (cmi5 9.3.9); LMS-generated object id (9.4)."""
    type_iri = Cmi5.ACTIVITY_TYPE_BLOCK if kind == "block" else Cmi5.ACTIVITY_TYPE_COURSE
    return _cmi5(
        actor,
        AdlVerbs.SATISFIED,
        session,
        obj=_activity(Activity(object_id, name), type_iri),
        statement_id=statement_id,
        timestamp=timestamp,
    )
