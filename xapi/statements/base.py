"""What every statement builder shares: the plain input data, ids and time, and the assembly.

:func:`_statement` assembles and validates (xAPI rules from :mod:`xapi.validation`, plus the
builder's own); :func:`_context` adds the SMEB profile category every SMEB statement carries.
The underscore helpers are internal to :mod:`xapi.statements`: the builder modules beside this one
use them, nothing outside the package does.
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
    AdlActivityTypes,
    Cmi5,
    SmebActivityTypes,
    SmebExtensions,
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
