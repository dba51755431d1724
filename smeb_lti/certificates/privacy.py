"""A learner's certificates: exported; erased by revoking them and stripping the name."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.certificates import claims as signed
from smeb_lti.privacy.registry import Store
from smeb_lti.privacy.rows import as_dicts, reflected, rowcount
from smeb_lti.privacy.subject import ERASED_SUBJECT, SubjectRef


def certificate_ids(session: Session, ref: SubjectRef) -> list[str]:
    table = reflected(session, "cert_certificates")
    return list(session.scalars(
        sa.select(table.c.id).where(table.c.platform_issuer == ref.issuer, table.c.learner_subject == ref.subject).order_by(table.c.id)))


def export_certificates(session: Session, ref: SubjectRef) -> dict[str, Any]:
    table = reflected(session, "cert_certificates")
    rows = session.execute(sa.select(table).where(table.c.platform_issuer == ref.issuer, table.c.learner_subject == ref.subject))
    return {"certificates": as_dicts(rows, parse=("competences",))}


def _redacted_token(token: str) -> str:
    """The claims with the name replaced and no valid signature: status stays answerable, nothing names the learner."""

    payload, _signature = signed.split_token(token)
    claims = replace(signed.decode(payload), learner_name="(slettet)")
    return f"{signed.b64url(signed.encode(claims))}.{signed.b64url(bytes(64))}"


def erase_certificates(session: Session, ref: SubjectRef) -> int:
    """Revoke (reason ``erased-on-request``) and strip the name, subject, signed claims and credential."""
    table = reflected(session, "cert_certificates")
    now = dt.datetime.now(dt.UTC)
    changed = 0
    for cert_id, token, revoked_at, reason in session.execute(
        sa.select(table.c.id, table.c.token, table.c.revoked_at, table.c.revocation_reason)
        .where(table.c.platform_issuer == ref.issuer, table.c.learner_subject == ref.subject)
    ).all():
        changed += rowcount(session.execute(sa.update(table).where(table.c.id == cert_id).values(
            learner_subject=ERASED_SUBJECT, learner_name="(slettet)", token=_redacted_token(token), credential_jwt="",
            revoked_at=revoked_at or now, revocation_reason="erased-on-request" if revoked_at is None else reason,
        )))
    return changed


STORES = (Store("certificates", export_certificates, erase_certificates),)
