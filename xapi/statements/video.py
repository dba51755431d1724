"""Video statements (ADL video profile v1.0.3): played, paused, seeked, completed."""

from __future__ import annotations

from typing import Any

from xapi.constants import Video
from xapi.statements.base import (
    Activity,
    Actor,
    StatementContext,
    _activity,
    _category,
    _check,
    _context,
    _result,
    _statement,
)
from xapi.validation import ValidationIssue

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
