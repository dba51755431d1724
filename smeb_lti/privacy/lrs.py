"""A learner's statements, documents and cmi5 sessions in the embedded LRS.

Kept in the privacy package, not in ``smeb_lti/lrs/``: the LRS imports no part of the tool (an import-linter
contract), while finding a learner there takes the tool's attempt rows (``play_progress``) and this package's
rows helpers. The privacy package adds it to its own stores (:func:`smeb_lti.privacy.erasure.stores`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.lrs import document_store, tables
from smeb_lti.lrs import statements as st
from smeb_lti.privacy.registry import Store
from smeb_lti.privacy.rows import as_dicts, in_chunks, learner_rows, rowcount
from smeb_lti.privacy.subject import SubjectRef


@dataclass
class _LrsFinding:
    seqs: dict[int, list[int]] = field(default_factory=dict)  # tenant -> statement seqs
    registrations: dict[int, set[str]] = field(default_factory=dict)
    sessions: dict[int, list[str]] = field(default_factory=dict)  # cmi5 sessions of the learner
    documents: dict[int, list[int]] = field(default_factory=dict)


def _lrs_find(session: Session, ref: SubjectRef) -> _LrsFinding:
    found = _LrsFinding()
    s, links, docs = tables.statements, tables.statement_links, tables.documents
    progress, mine = learner_rows(session, ref, "play_progress")
    attempts = {a.lower() for a in session.scalars(sa.select(progress.c.attempt).where(mine))}
    for tenant_id in session.scalars(sa.select(tables.tenants.c.id)):
        ifis = sorted(ref.actor_ifis)
        seqs = set(session.scalars(sa.select(links.c.seq).where(
            links.c.tenant_id == tenant_id, links.c.kind == "agent", links.c.value.in_(ifis))))
        seqs |= set(session.scalars(sa.select(s.c.seq).where(s.c.tenant_id == tenant_id, s.c.actor_ifi.in_(ifis))))
        ids = set(session.scalars(sa.select(s.c.statement_id).where(s.c.seq.in_(sorted(seqs))))) if seqs else set()
        while ids:  # statements that refer to these (voiding, StatementRefs), and so on
            more = session.execute(sa.select(s.c.seq, s.c.statement_id).where(
                s.c.tenant_id == tenant_id, s.c.ref_id.in_(ids), s.c.seq.not_in(sorted(seqs)))).all()
            seqs |= {row.seq for row in more}
            ids = {row.statement_id for row in more}
        registrations = set(attempts)
        registrations |= {r for r in session.scalars(sa.select(s.c.registration).where(s.c.seq.in_(sorted(seqs)))) if r} if seqs else set()
        cmi5 = []
        for session_id, registration, actor_json in session.execute(sa.select(
                tables.cmi5_sessions.c.session_id, tables.cmi5_sessions.c.registration, tables.cmi5_sessions.c.actor_json
        ).where(tables.cmi5_sessions.c.tenant_id == tenant_id)):
            if st.agent_ifi(json.loads(actor_json)) in ref.actor_ifis:
                cmi5.append(session_id)
                registrations.add(registration.lower())
        # Documents are stored under a hash of (kind, activity, agent, registration): try every activity the tenant knows.
        activities = set(session.scalars(sa.select(s.c.activity_id).where(s.c.tenant_id == tenant_id, s.c.activity_id.is_not(None)).distinct()))
        activities |= set(session.scalars(sa.select(tables.activities.c.activity_id).where(tables.activities.c.tenant_id == tenant_id)))
        activities |= set(session.scalars(sa.select(tables.cmi5_sessions.c.activity_id).where(tables.cmi5_sessions.c.tenant_id == tenant_id)))
        # One name per customer the learner was seen in, plus the legacy one: a handful, so every combination is tried.
        scopes = {document_store.DocumentScope("agent", agent_ifi=ifi).hash for ifi in ref.actor_ifis}
        for ifi in ref.actor_ifis:
            for activity in activities:
                for registration in (None, *registrations):
                    scopes.add(document_store.DocumentScope("state", activity, ifi, registration).hash)
        doc_ids: list[int] = []
        scope_list = sorted(scopes)
        for chunk in in_chunks(scope_list):
            doc_ids += session.scalars(sa.select(docs.c.id).where(docs.c.tenant_id == tenant_id, docs.c.scope_hash.in_(chunk)))
        if seqs:
            found.seqs[tenant_id] = sorted(seqs)
        if cmi5:
            found.sessions[tenant_id] = cmi5
        if doc_ids:
            found.documents[tenant_id] = doc_ids
        found.registrations[tenant_id] = registrations
    return found


def export_lrs(session: Session, ref: SubjectRef) -> dict[str, Any]:
    found = _lrs_find(session, ref)
    out: dict[str, Any] = {}
    slugs = dict(session.execute(sa.select(tables.tenants.c.id, tables.tenants.c.slug)).all())
    for tenant_id, slug in slugs.items():
        seqs = found.seqs.get(tenant_id, [])
        statements = [json.loads(text) for chunk in in_chunks(seqs) for text in session.scalars(
            sa.select(tables.statements.c.full_json).where(tables.statements.c.seq.in_(chunk)).order_by(tables.statements.c.seq))]
        docs = found.documents.get(tenant_id, [])
        documents = as_dicts(session.execute(sa.select(tables.documents).where(tables.documents.c.id.in_(docs)))) if docs else []
        sessions = found.sessions.get(tenant_id, [])
        cmi5 = as_dicts(session.execute(sa.select(tables.cmi5_sessions).where(tables.cmi5_sessions.c.session_id.in_(sessions))),
                      parse=("actor_json",), drop=("fetch_hash",)) if sessions else []
        if statements or documents or cmi5:
            out[slug] = {"statements": statements, "documents": documents, "cmi5_sessions": cmi5}
    return {"tenants": out}


def erase_lrs(session: Session, ref: SubjectRef) -> int:
    """Statements about the learner (and those referring to them), their attachments, documents and cmi5 sessions."""
    found = _lrs_find(session, ref)
    s, links, attachments = tables.statements, tables.statement_links, tables.attachments
    changed = 0
    for tenant_id, seqs in found.seqs.items():
        hashes: set[str] = set()
        for chunk in in_chunks(seqs):
            for text in session.scalars(sa.select(s.c.full_json).where(s.c.seq.in_(chunk), s.c.has_attachments.is_(True))):
                hashes |= {str(a["sha2"]) for a in json.loads(text).get("attachments") or [] if isinstance(a, dict) and a.get("sha2")}
            session.execute(sa.delete(links).where(links.c.seq.in_(chunk)))
            changed += rowcount(session.execute(sa.delete(s).where(s.c.seq.in_(chunk))))
        for sha2 in hashes:
            still_used = session.scalar(sa.select(s.c.seq).where(
                s.c.tenant_id == tenant_id, s.c.has_attachments.is_(True), s.c.full_json.contains(sha2, autoescape=True)).limit(1))
            if still_used is None:
                changed += rowcount(session.execute(sa.delete(attachments).where(attachments.c.tenant_id == tenant_id, attachments.c.sha2 == sha2)))
    for ids in found.documents.values():
        changed += rowcount(session.execute(sa.delete(tables.documents).where(tables.documents.c.id.in_(ids))))
    for tenant_id, sessions in found.sessions.items():
        registrations = set(session.scalars(sa.select(tables.cmi5_sessions.c.registration).where(tables.cmi5_sessions.c.session_id.in_(sessions))))
        changed += rowcount(session.execute(sa.delete(tables.cmi5_sessions).where(tables.cmi5_sessions.c.session_id.in_(sessions))))
        for registration in registrations:
            others = session.scalar(sa.select(sa.func.count()).select_from(tables.cmi5_sessions).where(
                tables.cmi5_sessions.c.tenant_id == tenant_id, tables.cmi5_sessions.c.registration == registration))
            if not others:
                changed += rowcount(session.execute(sa.delete(tables.cmi5_registrations).where(
                    tables.cmi5_registrations.c.tenant_id == tenant_id, tables.cmi5_registrations.c.registration == registration)))
    return changed


STORE = Store("lrs", export_lrs, erase_lrs)
