"""Report test data: statements made with our own builders, as the player sends them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xapi import statements as builders
from xapi.statements import Activity, Score, StatementContext

COURSES = {
    "https://smeb.no/courses/fra-stille-feil-til-smart-kvalitet": "Fra stille feil til smart kvalitet",
    "https://smeb.no/courses/guttastemning-2-0": "Guttastemning 2.0",
    "https://smeb.no/courses/systematisk-hms-arbeid-kundeverksted": "Systematisk HMS-arbeid",
}
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def actor(n: int, name: str | None = None) -> dict[str, Any]:
    agent: dict[str, Any] = {"objectType": "Agent", "account": {"homePage": "https://canvas.example.org", "name": f"learner-{n}"}}
    if name:
        agent["name"] = name
    return agent


def ts(minutes: int) -> str:
    return builders.utc_timestamp(START + dt.timedelta(minutes=minutes))


def course_statements() -> list[dict[str, Any]]:
    """A small company: 5 learners, 3 courses, every status, a voided completion, a lesson-only completion."""
    out: list[dict[str, Any]] = []
    ids = list(COURSES)

    def course(i: int) -> Activity:
        return Activity(ids[i], name={"nb": COURSES[ids[i]]})

    def ctx(i: int) -> StatementContext:
        return StatementContext(course_id=ids[i])

    lesson = Activity(ids[0] + "/lessons/1", name={"nb": "Leksjon 1"})
    names = ["Kari Nordmann", "Đorđe Šćepanović", "=HYPERLINK(\"http://x\",\"y\")", "Dương Văn", None]
    for n in range(5):
        who = actor(n, names[n])
        out.append(builders.launched(who, "course", course(0), timestamp=ts(n)))
        out.append(builders.completed(who, "lesson", lesson, ctx(0), timestamp=ts(10 + n)))
    # learner 0: completed and passed course 0 with two scores (best counts)
    out.append(builders.failed(actor(0), "course", course(0), Score(scaled=0.4), timestamp=ts(20)))
    out.append(builders.passed(actor(0), "course", course(0), Score(scaled=0.9), timestamp=ts(30)))
    out.append(builders.completed(actor(0), "course", course(0), timestamp=ts(31)))
    # learner 1: completed course 0, then course 1 as well
    out.append(builders.completed(actor(1), "course", course(0), timestamp=ts(40)))
    out.append(builders.launched(actor(1), "course", course(1), timestamp=ts(41)))
    out.append(builders.completed(actor(1), "course", course(1), timestamp=ts(60)))
    # learner 2: failed course 0 only
    out.append(builders.failed(actor(2), "course", course(0), Score(scaled=0.2), timestamp=ts(50)))
    # learner 3: a completion that gets voided (sent by mistake): stays in progress
    mistaken = builders.completed(actor(3), "course", course(0), timestamp=ts(70))
    out.append(mistaken)
    out.append(builders.voided({"objectType": "Agent", "mbox": "mailto:admin@smeb.no"}, mistaken["id"], timestamp=ts(71)))
    # learner 4: course 2, in progress only (a lesson inside it completed: not the course)
    out.append(builders.completed(actor(4), "lesson", Activity(ids[2] + "/lessons/1"), ctx(2), timestamp=ts(80)))
    return out
