"""Revoking a certificate: the row says so, and ``revoked`` goes to the outbox in the same transaction.

A revoked certificate still verifies *offline* (its signature stays correct; nothing can
recall a PDF), which is why the verification page always asks ``/verify/<id>/status.json``
when it is online and says "trukket tilbake" in red when the issuer revoked it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.certificates.errors import (
    AlreadyRevoked,
    CertificateNotFound,
    InvalidCertificateInput,
)
from smeb_lti.certificates.issue import (
    IssuedCertificate,
    certificate_activity,
    customer_of,
    get_certificate,
    number_in_statements,
    public_status,
    queue_statement,
)
from smeb_lti.certificates.model import Tenant, certificates, utcnow
from xapi import statements as builders

REASON = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def revoke_certificate(
    session: Session,
    tenant: Tenant,
    cert_id: str,
    reason: str,
    *,
    revoked_by: Mapping[str, Any],
    base_url: str,
    note: str | None = None,
    destinations: Iterable[str] | None = None,
    now: dt.datetime | None = None,
) -> IssuedCertificate:
    """Revoke ``cert_id`` of ``tenant``; ``reason`` is a short code (``issued-in-error``, ``fraud``...)."""
    if not REASON.match(reason or ""):
        raise InvalidCertificateInput(f"reason must be a short code like 'issued-in-error' (a-z, 0-9, '-'), got {reason!r}")
    current = get_certificate(session, tenant, cert_id)
    if current.revoked:
        raise AlreadyRevoked(f"certificate {cert_id} was revoked on {current.revoked_at:%Y-%m-%d} ({current.revocation_reason})")
    moment = now or utcnow()
    statement = builders.certificate_revoked(
        revoked_by,
        builders.Activity(certificate_activity(base_url, current.claims.course_id, cert_id, with_number=number_in_statements())),
        reason,
        builders.StatementContext(course_id=current.claims.course_id),
        earned_statement_id=current.earned_statement_id,
        timestamp=builders.utc_timestamp(moment),
    )
    text = reason if not note else f"{reason}: {note.strip()[:400]}"
    updated = session.execute(
        sa.update(certificates)
        .where(certificates.c.id == cert_id, tenant.where(), certificates.c.revoked_at.is_(None))
        .values(revoked_at=moment, revocation_reason=text, revoked_statement_id=statement["id"])
    )
    if updated.rowcount != 1:  # type: ignore[attr-defined]  # a concurrent revoke won the race
        raise AlreadyRevoked(f"certificate {cert_id} was revoked meanwhile")
    queue_statement(session, statement, destinations, moment, customer_of(session, tenant))
    return get_certificate(session, tenant, cert_id, base_url)


def revocation_reason(session: Session, cert_id: str) -> str | None:
    """The reason if ``cert_id`` is revoked, None if it is valid; :class:`CertificateNotFound` if unknown."""
    found = public_status(session, cert_id)
    if found is None:
        raise CertificateNotFound(f"the issuer has no certificate {cert_id!r}")
    return found.revocation_reason if found.revoked else None
