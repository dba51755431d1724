"""Applying one checked learner event: progress row, xAPI statements, AGS score and certificate in one transaction."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from content.model import QuizBlock
from smeb_lti.courses.launched import LaunchedCourse
from smeb_lti.identity import actor_for
from smeb_lti.play.answers import check_answer, quiz_points
from smeb_lti.play.completion import on_course_completed
from smeb_lti.play.errors import EventReplayed
from smeb_lti.play.events import Event
from smeb_lti.play.grades import queue_grade
from smeb_lti.play.statements import statements_for
from smeb_lti.play.store import AppliedEvent, locked_progress, new_progress
from smeb_lti.play.tokens import player_session_id
from smeb_lti.routing import queue_statements, scope_of
from xapi import statements as xb


def apply_event(session: Session, launched: LaunchedCourse, event: Event, now: datetime) -> dict[str, Any]:
    """Apply one checked event: progress row, xAPI statements and AGS score, all in ``session``'s transaction."""
    context, course = launched.context, launched.course
    row = locked_progress(session, context.registration_id, context.subject, launched.course_key)
    if row is None:
        row = new_progress(context.registration_id, context.subject, launched.course_key, launched.version, course.max_points,
                           str(uuid.uuid4()), now)
        session.add(row)
        session.flush()
    if session.get(AppliedEvent, (row.id, event.id)) is not None:
        raise EventReplayed(f"event {event.id} was already applied")
    session.add(AppliedEvent(progress_id=row.id, event_id=event.id, received_at=now))
    if row.course_version != launched.version:
        # A new course version: old answers may point at changed questions; progress starts again, the attempt stays.
        row.course_version, row.state, row.answers, row.max_points = launched.version, None, "{}", course.max_points

    answers: dict[str, list[str]] = json.loads(row.answers)
    data = event.data
    was_completed, was_passed = row.completed, row.passed
    if event.type == "state":
        row.state, row.location = data["state"], data.get("location")
    elif event.type == "progressed":
        row.progress = max(row.progress, float(data["progress"]))  # progress never goes back within an attempt
    elif event.type == "answered":
        answer = check_answer(course, data)
        if isinstance(answer.block, QuizBlock):
            answers[answer.block_id] = list(answer.response)
    elif event.type == "outcome":
        if data.get("progress") is not None:
            row.progress = max(row.progress, float(data["progress"]))
        if data["completed"] and not row.completed:
            row.completed, row.completed_at, row.progress = True, event.time, 1.0
    points, judged = quiz_points(course, answers)
    row.answers = json.dumps(answers, sort_keys=True)
    row.points, row.max_points = points, course.max_points
    if judged and course.max_points:
        row.passed = points / course.max_points >= course.passing_score
    row.updated_at = now
    score = xb.Score(scaled=round(points / course.max_points, 4), raw=points, min=0, max=course.max_points) if judged and course.max_points else None

    # passed/failed once per change of verdict, reported with the outcome that carries it (cmi5-like ordering)
    verdict = row.passed if event.type == "outcome" and row.passed is not None and row.passed != was_passed else None
    if event.type != "outcome" and row.passed != was_passed:
        verdict = None
        row.passed = was_passed  # the verdict is recorded when the player reports the outcome
    statements = statements_for(event, course, actor_for(context), row.attempt, context.locale,
                                newly_completed=row.completed and not was_completed, verdict=verdict, score=score,
                                session_id=player_session_id(context.launch_id))
    lrs = queue_statements(session, statements, scope_of(context))  # only the LRSs bound to this customer
    graded = queue_grade(session, context, row, judged, now)
    if event.type == "outcome" and row.completed:
        # Completion is judged just above: the certificate (if the course gives one and the rule is met) is issued in
        # this same transaction, once per learner + course + company (smeb_lti/play/completion.py, docs/dashboard.md).
        on_course_completed(session, context, course, row, actor=actor_for(context))
    session.flush()
    return {"applied": event.id, "progress": row.progress, "completed": row.completed, "points": points,
            "maxPoints": course.max_points, "statements": len(statements) if lrs else 0, "gradeQueued": graded}
