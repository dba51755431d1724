"""Statements about the course structure: launched, initialized, progressed, completed, passed, failed."""

from __future__ import annotations

from typing import Any

from xapi.constants import (
    AdlVerbs,
    Cmi5,
)
from xapi.statements.base import (
    Activity,
    Actor,
    Level,
    Score,
    StatementContext,
    _activity,
    _check,
    _context,
    _level_type,
    _result,
    _statement,
)


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
