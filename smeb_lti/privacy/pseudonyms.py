"""Pseudonym links (legacy one-per-LMS name -> per-customer name): their store, the migration and the CSV rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.privacy.learners import customer_scopes
from smeb_lti.privacy.registry import Store
from smeb_lti.privacy.rows import as_dicts, reflected, rowcount
from smeb_lti.privacy.subject import ERASED_SUBJECT, PrivacyKeys, SubjectRef
from xapi.actors import customer_key, legacy_account_name, opaque_account_name


def export_pseudonym_links(session: Session, ref: SubjectRef) -> dict[str, Any]:
    table = reflected(session, "privacy_pseudonym_links")
    rows = session.execute(sa.select(table).where(table.c.platform_issuer == ref.issuer, sa.or_(
        table.c.legacy_name.in_(ref.actor_names), table.c.actor_name.in_(ref.actor_names))).order_by(table.c.actor_name))
    return {"links": as_dicts(rows)}


def erase_pseudonym_links(session: Session, ref: SubjectRef) -> int:
    table = reflected(session, "privacy_pseudonym_links")
    return rowcount(session.execute(sa.delete(table).where(table.c.platform_issuer == ref.issuer, sa.or_(
        table.c.legacy_name.in_(ref.actor_names), table.c.actor_name.in_(ref.actor_names)))))


@dataclass(frozen=True)
class PseudonymMigration:
    """What ``smeb learner migrate-pseudonyms`` did (counts only)."""

    learners: int  # (issuer, sub) pairs the tool knows
    links: int  # legacy -> per-customer links known after the run
    added: int  # of which new in this run
    split: int  # legacy names that became more than one per-customer name (a person in several companies)


def known_learners(session: Session) -> list[tuple[str, str]]:
    """Every (issuer, sub) the tool holds data of: progress, dashboard, certificates, workshops."""
    regs = reflected(session, "lti_registrations")
    found: set[tuple[str, str]] = set()
    for name in ("play_progress", "dashboard_members"):
        table = reflected(session, name)
        found |= {(r.issuer, r.subject) for r in session.execute(
            sa.select(regs.c.issuer, table.c.subject).join(regs, regs.c.id == table.c.registration_id).distinct())}
    certs, participants = reflected(session, "cert_certificates"), reflected(session, "workshop_participants")
    found |= {(r.platform_issuer, r.learner_subject) for r in session.execute(
        sa.select(certs.c.platform_issuer, certs.c.learner_subject).distinct())}
    found |= {(r.issuer, r.subject) for r in session.execute(sa.select(participants.c.issuer, participants.c.subject).distinct())}
    return sorted((i, s) for i, s in found if s != ERASED_SUBJECT)


def migrate_pseudonyms(session: Session, keys: PrivacyKeys, *, now: dt.datetime | None = None) -> PseudonymMigration:
    """Link every known learner's legacy pseudonym to their per-customer ones (idempotent; the caller commits)."""
    table = reflected(session, "privacy_pseudonym_links")
    moment = now or dt.datetime.now(dt.UTC)
    existing = {(r.legacy_name, r.actor_name) for r in session.execute(sa.select(table.c.legacy_name, table.c.actor_name))}
    learners = known_learners(session)
    added = 0
    for issuer, subject in learners:
        legacy = legacy_account_name(keys.actor_key, issuer, subject)
        for scope in customer_scopes(session, issuer, subject, bare_deployments=False):
            name = opaque_account_name(customer_key(keys.actor_key, scope), issuer, subject)
            if (legacy, name) in existing:
                continue
            session.execute(sa.insert(table).values(legacy_name=legacy, actor_name=name, platform_issuer=issuer, client_id=scope.client_id,
                                                    deployment_id=scope.deployment_id, context_id=scope.context_id, created_at=moment))
            existing.add((legacy, name))
            added += 1
    per_legacy: dict[str, int] = {}
    for legacy, _name in existing:
        per_legacy[legacy] = per_legacy.get(legacy, 0) + 1
    return PseudonymMigration(len(learners), len(existing), added, sum(1 for n in per_legacy.values() if n > 1))


def pseudonym_links(session: Session, issuer: str | None = None, context_id: str | None = None) -> list[dict[str, Any]]:
    """The links (optionally of one LMS and one course context), for a customer who joins old and new records."""
    table = reflected(session, "privacy_pseudonym_links")
    query = sa.select(table).order_by(table.c.platform_issuer, table.c.context_id, table.c.actor_name)
    if issuer is not None:
        query = query.where(table.c.platform_issuer == issuer)
    if context_id is not None:
        query = query.where(table.c.context_id == context_id)
    return as_dicts(session.execute(query), drop=("created_at",))


STORE = Store("pseudonym_links", export_pseudonym_links, erase_pseudonym_links)
