"""The xAPI outbox's part: the learner's queued and sent rows, and voiding what reached an LRS."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.certificates.privacy import certificate_ids
from smeb_lti.lrs import statements as st
from smeb_lti.privacy.registry import Store
from smeb_lti.privacy.rows import as_dicts, in_chunks, rowcount
from smeb_lti.privacy.subject import SubjectRef
from xapi import statements as builders
from xapi.constants import AdlVerbs
from xapi.delivery.outbox import PENDING, enqueue, outbox_table, utcnow

# The agent of the voiding statements an erasure queues: the tool, never the learner.
ERASURE_AGENT: dict[str, Any] = {"objectType": "Agent", "name": "SMEB personvern", "account": {"homePage": "https://smeb.no", "name": "erasure"}}
_VOID_NAMESPACE = uuid.UUID("0b6f3c1e-6a43-5f4e-9d0e-2f6a8e1c7d11")


def _outbox_rows(session: Session, ref: SubjectRef) -> list[Any]:
    """Outbox rows about the learner: their statements (any agent position), their certificates' statements, their AGS scores."""
    certificates = certificate_ids(session, ref)
    needles = [*ref.actor_names, *certificates]
    candidates = session.execute(sa.select(outbox_table).where(outbox_table.c.kind == "lrs", sa.or_(*(outbox_table.c.payload.contains(n, autoescape=True) for n in needles)))).all()
    found = []
    for row in candidates:
        statement = json.loads(row.payload)
        agents = {value for kind, value, _ in st.links(statement) if kind == "agent"}
        object_id = str((statement.get("object") or {}).get("id") or "")
        if agents & ref.actor_ifis or any(object_id.endswith("/verify/" + c) for c in certificates):
            found.append(row)
    ags = session.execute(sa.select(outbox_table).where(outbox_table.c.kind == "ags", outbox_table.c.destination.in_([f"ags:{r}" for r in ref.registration_ids]))).all()
    found += [row for row in ags if (json.loads(row.payload).get("score") or {}).get("userId") == ref.subject]
    return found


def export_outbox(session: Session, ref: SubjectRef) -> dict[str, Any]:
    rows = _outbox_rows(session, ref)
    return {"queued_and_sent": as_dicts(sorted(rows, key=lambda r: r.id), parse=("payload",), drop=("lease_token", "last_error"))}


def void_statement_id(target_statement_id: str) -> str:
    """The id of the voiding statement for ``target``: the same on every run, so it is queued at most once."""
    return str(uuid.uuid5(_VOID_NAMESPACE, target_statement_id.lower()))


def planned_voids(session: Session, ref: SubjectRef, rows: Sequence[Any] | None = None) -> list[tuple[str, str]]:
    """(destination, statement id) of the learner's statements that may have reached that destination's LRS."""
    found: set[tuple[str, str]] = set()
    for row in _outbox_rows(session, ref) if rows is None else rows:
        forwarded = row.status != PENDING or row.attempts > 0 or row.lease_token is not None  # sent, or maybe sent
        if row.kind == "lrs" and forwarded and json.loads(row.payload).get("verb", {}).get("id") != AdlVerbs.VOIDED:
            found.add((row.destination, row.item_id))
    return sorted(found)


def erase_outbox(session: Session, ref: SubjectRef) -> int:
    """Delete the learner's rows; queue a ``voided`` statement for every statement that may have reached its LRS."""
    rows = _outbox_rows(session, ref)
    voids = planned_voids(session, ref, rows)
    now = utcnow()
    changed = sum(rowcount(session.execute(sa.delete(outbox_table).where(outbox_table.c.id.in_(chunk))))
                  for chunk in in_chunks([r.id for r in rows]))
    for destination, target in voids:
        statement = builders.voided(ERASURE_AGENT, target, statement_id=void_statement_id(target), timestamp=builders.utc_timestamp(now))
        enqueue(session, statement, [destination], now=now)
    return changed


STORE = Store("outbox", export_outbox, erase_outbox)
