"""A learner's LTI launches, short-lived LTI entries and the grades sent to the LMS (AGS scores)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.privacy.registry import Store
from smeb_lti.privacy.rows import as_dicts, in_chunks, learner_rows, reflected, rowcount
from smeb_lti.privacy.subject import SubjectRef


def _launch_ids(session: Session, ref: SubjectRef) -> list[str]:
    table = reflected(session, "lti_launches")
    found = []
    rows = session.execute(sa.select(table.c.launch_id, table.c.claims).where(
        table.c.registration_id.in_(ref.registration_ids), table.c.claims.contains(json.dumps(ref.subject), autoescape=True)))
    for launch_id, claims in rows:
        data = json.loads(claims)
        if data.get("sub") == ref.subject and data.get("iss") == ref.issuer:
            found.append(launch_id)
    return found


def export_launches(session: Session, ref: SubjectRef) -> dict[str, Any]:
    table = reflected(session, "lti_launches")
    ids = _launch_ids(session, ref)
    rows: Iterable[Any] = session.execute(sa.select(table).where(table.c.launch_id.in_(ids)).order_by(table.c.created_at)) if ids else []
    return {"launches": as_dicts(rows, parse=("claims",), drop=("launch_id",))}  # the launch id is a bearer secret


def erase_launches(session: Session, ref: SubjectRef) -> int:
    table = reflected(session, "lti_launches")
    ids = _launch_ids(session, ref)
    return sum(rowcount(session.execute(sa.delete(table).where(table.c.launch_id.in_(chunk)))) for chunk in in_chunks(ids))


def _names_subject(value: Any, ref: SubjectRef) -> bool:
    """Whether any string in the JSON value is the learner's ``sub`` (login states keep ``login_hint``, often the same id)."""
    if isinstance(value, Mapping):
        return any(_names_subject(v, ref) for v in value.values())
    if isinstance(value, list):
        return any(_names_subject(v, ref) for v in value)
    return value == ref.subject


def _kv_keys(session: Session, ref: SubjectRef) -> list[str]:
    table = reflected(session, "lti_kv")
    found = []
    for key, value in session.execute(sa.select(table.c.key, table.c.value).where(table.c.value.contains(ref.subject, autoescape=True))):
        try:
            if _names_subject(json.loads(value), ref):
                found.append(key)
        except ValueError:
            continue
    return found


def export_lti_kv(session: Session, ref: SubjectRef) -> dict[str, Any]:
    # OIDC login states live ten minutes and hold the login parameters only: counted, not exported.
    return {"short_lived_entries": len(_kv_keys(session, ref))}


def erase_lti_kv(session: Session, ref: SubjectRef) -> int:
    table = reflected(session, "lti_kv")
    keys = _kv_keys(session, ref)
    return sum(rowcount(session.execute(sa.delete(table).where(table.c.key.in_(chunk)))) for chunk in in_chunks(keys))


def export_ags_scores(session: Session, ref: SubjectRef) -> dict[str, Any]:
    scores, mine = learner_rows(session, ref, "ags_line_item_scores")
    return {"line_item_scores": as_dicts(session.execute(sa.select(scores).where(mine).order_by(scores.c.id)))}


def erase_ags_scores(session: Session, ref: SubjectRef) -> int:
    scores, mine = learner_rows(session, ref, "ags_line_item_scores")
    return rowcount(session.execute(sa.delete(scores).where(mine)))


STORES = (
    Store("lti_launches", export_launches, erase_launches),
    Store("lti_kv", export_lti_kv, erase_lti_kv),
    Store("ags_scores", export_ags_scores, erase_ags_scores),
)
