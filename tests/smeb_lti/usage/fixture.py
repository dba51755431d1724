"""3 companies × 2 months of learner activity, made by the tool's own code with a chosen clock.

Each learner session goes the way the player host handles it: the launch is stored (what the LTI layer
does), the player page records the learner as a member of the company (``record_launch``), then events
are parsed and applied by ``smeb_lti.play.events.parse_event``/``smeb_lti.play.apply.apply_event`` — the functions the events
endpoint calls — with ``now`` set inside the fixture month instead of the wall clock. Certificates are
issued by ``completion.on_course_completed`` with the same clock (the learner launches here carry no
name, so the events themselves issue none, and the month of each certificate is the fixture's).

The hand count this fixture is built for is written out in tests/smeb_lti/usage/test_usage_report.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import Flask

from smeb_lti.courses.launched import launched_course
from smeb_lti.db import session_scope
from smeb_lti.identity import actor_for
from smeb_lti.play.apply import apply_event
from smeb_lti.play.events import parse_event
from smeb_lti.play.store import progress_for
from tests.smeb_lti.dashboard.helpers import COMPANY_A, COMPANY_B, COMPANY_C, INSTRUCTOR, RIGHT, WRONG, Company, launch

SEP = dt.datetime(2026, 9, 10, 9, 0, tzinfo=dt.UTC)
OCT = dt.datetime(2026, 10, 12, 9, 0, tzinfo=dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def session_events(app: Flask, launch_id: str, when: dt.datetime, *, complete: bool = False, wrong: tuple[str, ...] = ()) -> None:
    """One learner session at ``when``: the player page, ``initialized``, and (``complete``) answers + outcome.

    Answers are right except the quizzes named in ``wrong`` (the all-blocks course has 5 points: 2 + 2 + 1).
    """
    from smeb_lti.dashboard.store import record_launch
    from smeb_lti.lti.launches import get_claims, get_launch

    sessions = app.extensions["smeb.sessions"]
    with app.test_request_context(f"/play/{launch_id}"):
        with session_scope(sessions) as session:
            record_launch(session, get_launch(session, launch_id), get_claims(session, launch_id), when)
        with sessions() as session:
            launched = launched_course(session, launch_id)
        bodies: list[dict[str, Any]] = [{"type": "initialized", "data": {}}]
        if complete:
            bodies += [{"type": "answered", "data": {"blockId": q, "response": WRONG[q] if q in wrong else r}} for q, r in RIGHT.items()]
            bodies.append({"type": "outcome", "data": {"completed": True, "passed": not wrong, "progress": 1}})
        for n, body in enumerate(bodies):
            moment = when + dt.timedelta(minutes=n)
            raw = {"id": str(uuid.uuid4()), "time": _stamp(moment), "courseId": launched.course.id, **body}
            event = parse_event(raw, launched.course, moment)
            with session_scope(sessions) as session:
                apply_event(session, launched, event, moment)


def certify(app: Flask, company: Company, sub: str, when: dt.datetime) -> None:
    """Issue the learner's certificate at ``when`` (the learner's next launch carries the name the certificate needs)."""
    from smeb_lti.lti.launches import get_launch
    from smeb_lti.play.completion import on_course_completed

    launch_id = launch(app, company, sub, name=f"Deltaker {sub}")
    with app.test_request_context(f"/play/{launch_id}"):
        with app.extensions["smeb.sessions"]() as session:
            launched = launched_course(session, launch_id)
        with session_scope(app.extensions["smeb.sessions"]) as session:
            context = get_launch(session, launch_id)
            row = progress_for(session, context.registration_id, context.subject, launched.course_key)
            assert row is not None and row.completed
            issued = on_course_completed(session, context, launched.course, row, actor=actor_for(context), now=when)
            assert issued is not None


def learner(app: Flask, company: Company, sub: str) -> str:
    return launch(app, company, sub, name=None)


# (company, learner, [(when, complete?)], certificate at) — the story the hand count follows.
STORY: list[tuple[Company, str, list[tuple[dt.datetime, bool]], dt.datetime | None]] = [
    (COMPANY_A, "a1", [(SEP, True)], SEP + dt.timedelta(hours=1)),
    (COMPANY_A, "a2", [(SEP, False), (OCT, True)], OCT + dt.timedelta(hours=1)),
    (COMPANY_A, "a3", [(OCT, False)], None),
    (COMPANY_A, "a4", [(SEP, False), (SEP + dt.timedelta(days=5), False)], None),
    (COMPANY_B, "b1", [(SEP, True)], None),
    (COMPANY_B, "b2", [(OCT, False)], None),
    (COMPANY_C, "a1", [(SEP, False), (OCT, False)], None),  # same user id as A's a1, another LMS: another person
    (COMPANY_C, "c2", [(OCT, True)], OCT + dt.timedelta(days=2)),
]


def build(app: Flask) -> dict[tuple[str, str], str]:
    """Play the story; returns ``{(context title, sub): launch id}`` of the learners' launches."""
    launched: dict[tuple[str, str], str] = {}
    for company, sub, sessions, certificate in STORY:
        launch_id = learner(app, company, sub)
        launched[(company.title, sub)] = launch_id
        for when, complete in sessions:
            session_events(app, launch_id, when, complete=complete)
        if certificate is not None:
            certify(app, company, sub, certificate)
    # An instructor of B tries the course in October: staff are not users of the company.
    staff = launch(app, COMPANY_B, "teacher-b", name="Lærer", roles=(INSTRUCTOR,))
    session_events(app, staff, OCT, complete=True)
    return launched
