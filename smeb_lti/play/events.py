"""Learner events as the player sends them: the envelope and each type's data checked against the course (pure)."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from content.model import Course, VideoBlock
from smeb_lti.play.answers import check_answer, fail

EVENT_TYPES = ("initialized", "state", "progressed", "answered", "outcome", "terminated", "video")
VIDEO_VERBS = ("played", "paused", "seeked", "completed")  # ADL video profile verbs the player reports
PLAYED_SEGMENTS = re.compile(r"^(\d+(\.\d+)?\[\.\]\d+(\.\d+)?)(\[,\]\d+(\.\d+)?\[\.\]\d+(\.\d+)?)*$")
MAX_STATE = 65536  # the encoded player state is ~4 KB (SCORM budget); anything far larger is not ours


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    time: datetime
    data: Mapping[str, Any]



def parse_event(raw: Any, course: Course, now: datetime) -> Event:
    """Check the envelope and the data shape of one event; raises :class:`EventInvalid` naming the field."""
    if not isinstance(raw, Mapping):
        raise fail("body", "must be a JSON object")
    event_id = raw.get("id")
    try:
        uuid.UUID(str(event_id))
    except ValueError:
        raise fail("id", f"must be a UUID, got {event_id!r}") from None
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        raise fail("type", f"must be one of {', '.join(EVENT_TYPES)}, got {kind!r}")
    if raw.get("courseId") not in (None, course.id):
        raise fail("courseId", f"{raw.get('courseId')!r} is not the course of this launch ({course.id})")
    data = raw.get("data", {})
    if not isinstance(data, Mapping):
        raise fail("data", "must be an object")
    when = now
    if isinstance(raw.get("time"), str):
        try:
            parsed = datetime.fromisoformat(raw["time"].replace("Z", "+00:00"))
        except ValueError:
            raise fail("time", f"must be an ISO 8601 date-time, got {raw['time']!r}") from None
        # A device clock may be off; a time from the future is replaced by ours.
        if parsed.tzinfo is not None and parsed <= now + timedelta(minutes=5):
            when = parsed.astimezone(UTC)
    if kind == "state":
        if not isinstance(data.get("state"), str) or len(data["state"]) > MAX_STATE:
            raise fail("data.state", f"must be a string of at most {MAX_STATE} characters")
        if data.get("location") is not None and not (isinstance(data["location"], str) and len(data["location"]) <= 200):
            raise fail("data.location", "must be a short string")
    elif kind == "progressed":
        _fraction(data.get("progress"), "data.progress")
        lesson = data.get("lesson")
        if lesson is not None and lesson != "summary" and lesson not in course.lesson_ids:
            raise fail("data.lesson", f"{lesson!r} is not a lesson of this course")
    elif kind == "answered":
        check_answer(course, data)
    elif kind == "outcome":
        if not isinstance(data.get("completed"), bool):
            raise fail("data.completed", "must be true or false")
        if data.get("passed") not in (True, False, None):
            raise fail("data.passed", "must be true, false or null")
        if data.get("progress") is not None:
            _fraction(data["progress"], "data.progress")
    elif kind == "video":
        check_video(course, data)
    elif kind == "terminated":
        if data.get("duration") is not None and not (isinstance(data["duration"], str) and re.fullmatch(r"P[0-9TYMDHS.]*", data["duration"])):
            raise fail("data.duration", "must be an ISO 8601 duration")
    return Event(str(event_id), str(kind), when, data)


def _seconds(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise fail(path, f"must be a number of seconds >= 0, got {value!r}")
    return float(value)


def check_video(course: Course, data: Mapping[str, Any]) -> None:
    """A ``video`` event: which video, which ADL video profile verb, and the numbers that verb's template needs."""
    block = course.blocks_by_id.get(str(data.get("blockId")))
    if not isinstance(block, VideoBlock):
        raise fail("data.blockId", f"{data.get('blockId')!r} is not a video block of this course")
    verb = data.get("verb")
    if verb not in VIDEO_VERBS:
        raise fail("data.verb", f"must be one of {', '.join(VIDEO_VERBS)}, got {verb!r}")
    try:
        uuid.UUID(str(data.get("sessionId")))
    except ValueError:
        raise fail("data.sessionId", f"must be a UUID, got {data.get('sessionId')!r}") from None
    needed = {"played": ("time",), "paused": ("time", "length", "progress", "segments"), "seeked": ("timeFrom", "timeTo"),
              "completed": ("time", "length", "progress", "segments", "duration")}[verb]
    for key in ("time", "timeFrom", "timeTo", "length"):
        if key in needed or data.get(key) is not None:
            _seconds(data.get(key), f"data.{key}")
    if "progress" in needed or data.get("progress") is not None:
        _fraction(data.get("progress"), "data.progress")
    segments = data.get("segments")
    if ("segments" in needed or segments is not None) and not (isinstance(segments, str) and (segments == "" or PLAYED_SEGMENTS.fullmatch(segments))):
        raise fail("data.segments", 'must be played segments like "0[.]5.2[,]7[.]9"')
    if "duration" in needed and not (isinstance(data.get("duration"), str) and re.fullmatch(r"P[0-9TYMDHS.]*", data["duration"])):
        raise fail("data.duration", "must be an ISO 8601 duration")


def _fraction(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= 1:
        raise fail(path, f"must be a number 0..1, got {value!r}")
    return float(value)

