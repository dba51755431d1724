"""A learner's workshop participations, attendance and submissions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.privacy.registry import Store
from smeb_lti.privacy.rows import as_dicts, reflected, rowcount
from smeb_lti.privacy.subject import SubjectRef


def export_workshops(session: Session, ref: SubjectRef) -> dict[str, Any]:
    participants = reflected(session, "workshop_participants")
    attendance, submissions = reflected(session, "workshop_attendance"), reflected(session, "workshop_submissions")
    rows = as_dicts(session.execute(
        sa.select(participants).where(participants.c.issuer == ref.issuer, participants.c.subject == ref.subject).order_by(participants.c.id)))
    for row in rows:
        row["attendance"] = as_dicts(session.execute(sa.select(attendance).where(attendance.c.participant_id == row["id"])))
        row["submissions"] = as_dicts(session.execute(sa.select(submissions).where(submissions.c.participant_id == row["id"])))
    return {"participations": rows}


def erase_workshops(session: Session, ref: SubjectRef) -> int:
    participants = reflected(session, "workshop_participants")
    attendance, submissions = reflected(session, "workshop_attendance"), reflected(session, "workshop_submissions")
    ids = list(session.scalars(sa.select(participants.c.id).where(participants.c.issuer == ref.issuer, participants.c.subject == ref.subject)))
    if not ids:
        return 0
    changed = rowcount(session.execute(sa.delete(attendance).where(attendance.c.participant_id.in_(ids))))
    changed += rowcount(session.execute(sa.delete(submissions).where(submissions.c.participant_id.in_(ids))))
    return changed + rowcount(session.execute(sa.delete(participants).where(participants.c.id.in_(ids))))


STORES = (Store("workshops", export_workshops, erase_workshops),)
