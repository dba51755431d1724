"""What a workshop records: attendance and hand-ins in the learner's progress row, and their xAPI statements."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.model import Course, Text
from content.view import course_view
from smeb_lti.courses.launched import Installed
from smeb_lti.identity import actor_key
from smeb_lti.play.store import new_progress, progress_for
from smeb_lti.routing import configured_lrs, queue_statement, scope_of_company
from smeb_lti.surveys.errors import NotFound
from smeb_lti.workshops import store
from smeb_lti.workshops.access import installed_course
from smeb_lti.workshops.runsheet import workshop_blocks
from xapi import statements as xb
from xapi.actors import customer_key, pseudonymous_actor
from xapi.customers import CustomerScope


def customer_scope(session: Session, participant: store.Participant, company: store.SeriesCompany) -> CustomerScope:
    """The customer of a participant's statements: their own company's platform, deployment and LMS context."""
    return scope_of_company(session, participant.issuer, company.deployment_id, company.context_id, company.registration_id)


def mark_workshop_done(session: Session, participant: store.Participant, company: store.SeriesCompany, installed: Installed,
                       block_id: str, now: dt.datetime) -> str:
    """Mark the workshop block attended in the learner's progress row of the player host; returns the xAPI registration.

    the player host has no function for this yet, so the row is written through its model: the block id is
    recorded in ``answers`` under ``workshop:<block id>`` (quiz points only read quiz ids, so the grade
    is unchanged), and a row is created when the learner has not opened the course yet.
    """
    row = progress_for(session, company.registration_id, participant.subject, participant.course_key, lock=True)
    if row is None:
        module = participant.course_key.split("/", 1)[1] if "/" in participant.course_key else None
        shown = course_view(installed.course, module).course
        row = new_progress(company.registration_id, participant.subject, participant.course_key, installed.version,
                           shown.max_points, str(uuid.uuid4()), now)
        session.add(row)
        session.flush()
    answers = json.loads(row.answers)
    answers[f"workshop:{block_id}"] = ["attended"]
    row.answers = json.dumps(answers, sort_keys=True)
    row.updated_at = now
    return row.attempt


def block_activity(course: Course, block_id: str, name: Text) -> xb.Activity:
    return xb.Activity(course.activity_id(block_id), name=name.to_dict())


def record_attendance(session: Session, series: store.Series, ws: store.WorkshopSession, participant_ids: list[int], locale: str,
                      now: dt.datetime) -> int:
    """Record the ticked participants as present (once each): progress, attendance row and statement in one transaction."""
    installed = installed_course(session, series.course_slug)
    course = installed.course
    block = next(b for b in workshop_blocks(course) if b.id == ws.block_id)
    rows = {p.id: p for p in session.scalars(select(store.Participant).where(store.Participant.id.in_(participant_ids or [-1]),
                                                                               store.Participant.series_id == series.id))}
    unknown = [pid for pid in participant_ids if pid not in rows]
    if unknown:
        raise NotFound(f"participant {unknown[0]} is not in this series: reload the attendance list")
    lrs = configured_lrs(session)
    added = 0
    for pid in participant_ids:
        if session.get(store.Attendance, (ws.id, pid)) is not None:
            continue
        participant = rows[pid]
        company = session.get(store.SeriesCompany, participant.company_id)
        assert company is not None
        attempt = mark_workshop_done(session, participant, company, installed, ws.block_id, now)
        session.add(store.Attendance(session_id=ws.id, participant_id=pid, recorded_at=now))
        added += 1
        if lrs:
            scope = customer_scope(session, participant, company)
            actor = pseudonymous_actor(participant.issuer, participant.subject, key=customer_key(actor_key(), scope))
            statement = xb.workshop_attended(
                actor, block_activity(course, block.id, block.title),
                xb.StatementContext(registration=attempt, course_id=course.id, language=locale),
                statement_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"smeb-workshop/{ws.id}/{pid}")), timestamp=xb.utc_timestamp(now))
            queue_statement(session, statement, scope)
    session.flush()
    return added
