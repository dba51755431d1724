"""The learner's grade for the platform's gradebook: an AGS score queued when what its column shows changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from smeb_lti.courses.launched import LaunchedCourse
from smeb_lti.lti import ags
from smeb_lti.lti.context import LaunchContext
from smeb_lti.play.answers import quiz_points
from smeb_lti.play.store import Progress, locked_progress, progress_for
from smeb_lti.web.sessions import sessions, transaction


def score_lineitem(context: LaunchContext) -> str | None:
    """The line item this launch's learner is graded in, or ``None`` (no AGS score scope, no line item, or staff)."""
    lineitem = (context.ags or {}).get("lineitem")
    scopes = (context.ags or {}).get("scope") or ()
    if context.is_instructor or not isinstance(lineitem, str) or not lineitem or ags.SCOPE_SCORE not in scopes:
        return None
    return lineitem


def queue_grade(session: Session, context: LaunchContext, row: Progress, judged: bool, now: datetime) -> bool:
    """Queue an AGS score when what this line item's gradebook column would show changed (not on every click).

    Staff launches queue nothing: Moodle only grades users with a gradebook role and answers 400 for
    a teacher (``is_user_gradable_in_course``), and a teacher trying the course is not a result.
    Whether the grade changed is decided per line item (:mod:`smeb_lti.lti.ags`), so a second activity
    for the same course gets the grade too.
    """
    lineitem = score_lineitem(context)
    if lineitem is None:
        return False
    score = ags.grade_for(row.subject, row.points, row.max_points, row.progress, row.completed, judged, now)
    return ags.queue_score(session, context.registration_id, lineitem, score, now) is not None


def sync_grade(launched: LaunchedCourse, now: datetime | None = None) -> bool:
    """At launch: give this launch's line item the learner's current grade if it has not had it yet.

    A learner who finished the course under one LMS activity and opens a second activity (another line
    item) for it sends no event that changes the grade, so without this the second column stays empty.
    A cheap unlocked check first; only when something is missing, the progress row is locked (as
    :func:`smeb_lti.play.apply.apply_event` does) so that a concurrent event cannot be overtaken by an older grade.
    """
    context = launched.context
    lineitem = score_lineitem(context)
    if lineitem is None:
        return False
    now = now or datetime.now(UTC)
    with sessions()() as session:
        row = progress_for(session, context.registration_id, context.subject, launched.course_key)
        if row is None:
            return False
        judged = quiz_points(launched.course, json.loads(row.answers))[1]
        current = ags.grade_for(row.subject, row.points, row.max_points, row.progress, row.completed, judged, now)
        if ags.current_grade_key(session, context.registration_id, context.subject, lineitem) == ags.grade_key(current):
            return False
    with transaction() as session:
        row = locked_progress(session, context.registration_id, context.subject, launched.course_key)
        if row is None:
            return False
        judged = quiz_points(launched.course, json.loads(row.answers))[1]
        return queue_grade(session, context, row, judged, now)
