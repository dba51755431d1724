"""A learner's player progress and the events it was built from."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.privacy.registry import Store
from smeb_lti.privacy.rows import as_dicts, learner_rows, reflected, rowcount
from smeb_lti.privacy.subject import SubjectRef


def export_play(session: Session, ref: SubjectRef) -> dict[str, Any]:
    progress, mine = learner_rows(session, ref, "play_progress")
    rows = as_dicts(session.execute(sa.select(progress).where(mine).order_by(progress.c.id)), parse=("answers",))
    events = reflected(session, "play_events")
    for row in rows:
        row["events"] = as_dicts(session.execute(sa.select(events.c.event_id, events.c.received_at).where(events.c.progress_id == row["id"])))
    return {"progress": rows}


def erase_play(session: Session, ref: SubjectRef) -> int:
    progress, mine = learner_rows(session, ref, "play_progress")
    events = reflected(session, "play_events")
    ids = list(session.scalars(sa.select(progress.c.id).where(mine)))
    if not ids:
        return 0
    removed = rowcount(session.execute(sa.delete(events).where(events.c.progress_id.in_(ids))))
    return removed + rowcount(session.execute(sa.delete(progress).where(progress.c.id.in_(ids))))


STORES = (Store("play", export_play, erase_play),)
