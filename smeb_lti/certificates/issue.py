"""Issuing a certificate: one transaction writes the row, signs claims and credential, and queues ``earned``.

The xAPI statement goes through :func:`xapi.delivery.outbox.enqueue` on the *same* session, so a
certificate exists exactly when its statement is queued for the customer's LRSs (rolled back
together otherwise; routed per customer by :mod:`smeb_lti.routing`).

The certificate number stays out of the LRS by default: ``smeb cert list``, the PDF and its QR code
tie the number to the learner's name, so a number in the ``earned`` statement (as an extension or in
the object id ``…/verify/<number>``) would let anyone holding one certificate and the LRS data name
the pseudonym. Without ``SMEB_CERT_NUMBER_IN_STATEMENTS`` the statement says "earned the certificate of course X"
(object ``<course IRI>/certificate``). An operator who wants the number in the LRS (to reconcile
certificates with LRS records) sets ``SMEB_CERT_NUMBER_IN_STATEMENTS=true``, a deliberate choice
that docs/privacy.md describes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti import routing
from smeb_lti.certificates import claims as signed
from smeb_lti.certificates.claims import CertificateClaims
from smeb_lti.certificates.errors import CertificateNotFound, InvalidCertificateInput
from smeb_lti.certificates.model import Tenant, certificates, utcnow
from smeb_lti.certificates.openbadges import build_credential, sign_credential
from smeb_lti.certificates.signing import active_key
from smeb_lti.certificates.status import allocate_index
from smeb_lti.db import as_utc as utc
from smeb_lti.routing import scope_of_company
from smeb_lti.settings import current_settings
from xapi import statements as builders
from xapi.customers import CustomerScope
from xapi.delivery.outbox import enqueue

ISSUER_NAME = "SMEB AS"


def number_in_statements() -> bool:
    """Whether ``earned``/``revoked`` statements name the certificate number (``SMEB_CERT_NUMBER_IN_STATEMENTS``,
    default no, see the module doc): the running tool's setting, or the environment's for a command."""
    return current_settings().cert_number_in_statements


def certificate_activity(base_url: str, course_id: str, cert_id: str, *, with_number: bool) -> str:
    """The object id of the certificate statements: per certificate when the number may go to the LRS, else per course."""
    return f"{base_url.rstrip('/')}/verify/{cert_id}" if with_number else f"{course_id.rstrip('/')}/certificate"


def new_certificate_id() -> str:
    """16 base32 characters (80 random bits): unguessable, short enough to read out."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


def minutes_of(duration: str | None) -> int | None:
    """Whole minutes of an ISO 8601 ``PT#H#M#S`` duration (the course model's format)."""
    if not duration:
        return None
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?", duration)
    if not match or duration == "PT":
        raise InvalidCertificateInput(f"duration {duration!r} is not an ISO 8601 duration like PT1H30M")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return round(hours * 60 + minutes + seconds / 60)


@dataclass(frozen=True)
class IssueRequest:
    tenant: Tenant
    learner_subject: str  # the platform's stable user id (LTI sub)
    learner_name: str  # as printed
    course_id: str  # the course IRI
    course_title: str
    actor: Mapping[str, Any]  # the xAPI actor of the learner (pseudonymous account)
    competences: tuple[str, ...] = ()
    duration_minutes: int | None = None
    organization: str | None = None  # the BHT/company shown beside SMEB AS
    issued_on: dt.date | None = None
    # Outbox destinations of the "earned" statement; None: the LRSs bound to the customer (smeb_lti.routing).
    destinations: tuple[str, ...] | None = None
    # The customer of the launch (with its client id); None: derived from the tenant and the registrations.
    customer: CustomerScope | None = None

    def problems(self) -> list[str]:
        found = []
        for name in ("learner_subject", "learner_name", "course_id", "course_title"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                found.append(f"{name} must be a non-empty string")
            elif len(value) > 300 and name != "course_id":
                found.append(f"{name} is longer than 300 characters")
        if not re.match(r"^https?://", self.course_id or ""):
            found.append(f"course_id must be the course IRI (https://...), got {self.course_id!r}")
        if any(not isinstance(t, str) or not t.strip() for t in self.competences):
            found.append("competences must be non-empty strings")
        if self.duration_minutes is not None and (not isinstance(self.duration_minutes, int) or self.duration_minutes < 0):
            found.append("duration_minutes must be a whole number of minutes")
        if not isinstance(self.actor, Mapping) or not self.actor:
            found.append("actor must be the learner's xAPI agent")
        return found


@dataclass(frozen=True)
class IssuedCertificate:
    id: str
    tenant: Tenant
    claims: CertificateClaims
    token: str
    verification_url: str
    credential_jwt: str
    earned_statement_id: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    revocation_reason: str | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def request_from_course(course: Any, tenant: Tenant, learner_subject: str, learner_name: str, actor: Mapping[str, Any], **extra: Any) -> IssueRequest:
    """An :class:`IssueRequest` for a :class:`content.Course` (Norwegian titles, duration, competence tags)."""
    return IssueRequest(
        tenant=tenant,
        learner_subject=learner_subject,
        learner_name=learner_name,
        course_id=course.id,
        course_title=course.title.nb,
        actor=actor,
        competences=tuple(tag.title.nb for tag in course.competence_tags),
        duration_minutes=minutes_of(course.duration),
        **extra,
    )


def issue_certificate(
    session: Session,
    request: IssueRequest,
    *,
    base_url: str,
    encryption_key: str | None = None,
    now: dt.datetime | None = None,
    number_in_statement: bool | None = None,
) -> IssuedCertificate:
    """Issue a certificate in the caller's transaction (the caller commits).

    ``number_in_statement``: put the certificate number in the ``earned`` statement; ``None`` reads
    ``SMEB_CERT_NUMBER_IN_STATEMENTS`` (default no).
    """
    problems = request.problems()
    if problems:
        raise InvalidCertificateInput("cannot issue the certificate: " + "; ".join(problems))
    if not re.match(r"^https?://[^/\s]+", base_url):
        raise InvalidCertificateInput(f"base_url must be the tool's public https URL, got {base_url!r}")
    moment = now or utcnow()
    key = active_key(session, encryption_key)
    cert_id = new_certificate_id()
    claims = CertificateClaims(
        certificate_id=cert_id,
        course_id=request.course_id,
        course_title=request.course_title.strip(),
        learner_name=request.learner_name.strip(),
        issued_on=request.issued_on or moment.date(),
        issuer=ISSUER_NAME,
        organization=(request.organization or "").strip() or None,
        competences=tuple(t.strip() for t in request.competences),
        duration_minutes=request.duration_minutes,
        kid=key.kid,
    )
    token = signed.sign(claims, key)
    url = signed.verification_url(base_url, token, cert_id)
    # The certificate's bit in the revocation status list: what `smeb cert revoke` flips for every copy of the badge.
    status_index = allocate_index(session)
    credential_jwt = sign_credential(build_credential(claims, base_url=base_url, valid_from=moment, status_index=status_index), key)
    with_number = number_in_statements() if number_in_statement is None else number_in_statement
    statement = builders.certificate_earned(
        request.actor,
        builders.Activity(certificate_activity(base_url, request.course_id, cert_id, with_number=with_number),
                          name={"nb": f"Kursbevis: {claims.course_title}"}),
        builders.StatementContext(course_id=request.course_id),
        certificate_number=cert_id if with_number else None,
        timestamp=builders.utc_timestamp(moment),
    )
    session.execute(
        sa.insert(certificates).values(
            id=cert_id,
            platform_issuer=request.tenant.platform_issuer,
            deployment_id=request.tenant.deployment_id,
            context_id=request.tenant.context_id,
            learner_subject=request.learner_subject,
            learner_name=claims.learner_name,
            course_id=claims.course_id,
            course_title=claims.course_title,
            duration_minutes=claims.duration_minutes,
            issued_on=claims.issued_on,
            issuer_name=claims.issuer,
            organization_name=claims.organization,
            competences=json.dumps(list(claims.competences), ensure_ascii=False),
            kid=key.kid,
            token=token,
            credential_jwt=credential_jwt,
            earned_statement_id=statement["id"],
            created_at=moment,
            status_list_index=status_index,
        )
    )
    queue_statement(session, statement, request.destinations, moment, request.customer or customer_of(session, request.tenant))
    return IssuedCertificate(cert_id, request.tenant, claims, token, url, credential_jwt, statement["id"], moment)


def customer_of(session: Session, tenant: Tenant) -> CustomerScope:
    """The customer scope of a certificate's company (the client id looked up from the registrations)."""
    return scope_of_company(session, tenant.platform_issuer, tenant.deployment_id, tenant.context_id)


def queue_statement(session: Session, statement: dict[str, Any], destinations: Iterable[str] | None, now: dt.datetime,
                    customer: CustomerScope | None = None) -> None:
    """Put ``statement`` in the outbox for ``destinations`` (None: the LRSs bound to ``customer``), same transaction."""
    if destinations is None:
        routing.queue_statement(session, statement, customer, now=now)
        return
    names = list(destinations)
    if names:
        enqueue(session, statement, names, now=now)


def _from_row(row: Any, base_url: str | None) -> IssuedCertificate:
    payload, _sig = signed.split_token(row.token)
    claims = signed.decode(payload)
    url = signed.verification_url(base_url, row.token, row.id) if base_url else f"/verify/{row.id}#{row.token}"
    return IssuedCertificate(
        id=row.id,
        tenant=Tenant(row.platform_issuer, row.deployment_id, row.context_id),
        claims=claims,
        token=row.token,
        verification_url=url,
        credential_jwt=row.credential_jwt,
        earned_statement_id=row.earned_statement_id,
        created_at=utc(row.created_at),
        revoked_at=utc(row.revoked_at),
        revocation_reason=row.revocation_reason,
    )


def get_certificate(session: Session, tenant: Tenant, cert_id: str, base_url: str | None = None) -> IssuedCertificate:
    """A certificate of ``tenant``; :class:`CertificateNotFound` for another tenant's id too."""
    row = session.execute(sa.select(certificates).where(certificates.c.id == cert_id, tenant.where())).first()
    if row is None:
        raise CertificateNotFound(f"no certificate {cert_id!r} for this company")
    return _from_row(row, base_url)


def list_certificates(
    session: Session,
    tenant: Tenant,
    *,
    learner_subject: str | None = None,
    course_id: str | None = None,
    base_url: str | None = None,
) -> list[IssuedCertificate]:
    """The tenant's certificates, newest first (optionally one learner's or one course's)."""
    query = sa.select(certificates).where(tenant.where())
    if learner_subject is not None:
        query = query.where(certificates.c.learner_subject == learner_subject)
    if course_id is not None:
        query = query.where(certificates.c.course_id == course_id)
    rows = session.execute(query.order_by(certificates.c.created_at.desc(), certificates.c.id))
    return [_from_row(row, base_url) for row in rows]


def all_tenants(session: Session) -> list[Tenant]:
    """Every tenant that has certificates (for operators' ``smeb cert list --all``)."""
    rows = session.execute(
        sa.select(certificates.c.platform_issuer, certificates.c.deployment_id, certificates.c.context_id).distinct()
    )
    return [Tenant(*row) for row in rows]


def public_status(session: Session, cert_id: str) -> IssuedCertificate | None:
    """A certificate by its unguessable id alone, for the public verification endpoints."""
    if not signed.CERT_ID.match(cert_id or ""):
        return None
    row = session.execute(sa.select(certificates).where(certificates.c.id == cert_id)).first()
    return _from_row(row, None) if row else None


def owned_by(session: Session, cert_id: str, platform_issuer: str, learner_subject: str) -> IssuedCertificate | None:
    """The certificate if it belongs to this learner (for the owner's PDF download)."""
    row = session.execute(
        sa.select(certificates).where(
            certificates.c.id == cert_id,
            certificates.c.platform_issuer == platform_issuer,
            certificates.c.learner_subject == learner_subject,
        )
    ).first()
    return _from_row(row, None) if row else None


