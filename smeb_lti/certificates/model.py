"""Certificate tables (created only by the ``cert`` Alembic branch) and the tenant that scopes them.

A tenant is a company as the tool sees it: one LTI platform (issuer), one deployment on it
and one course context (``context_id``) in that company's LMS. Every query that lists or
changes certificates takes a :class:`Tenant`; only the public verification endpoints look a
certificate up by its unguessable id alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from smeb_lti.db import Base

metadata = Base.metadata

signing_keys = sa.Table(
    "cert_signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("public_key", sa.String(64), nullable=False),  # raw 32 bytes, base64url
    sa.Column("private_key", sa.Text(), nullable=False),  # PKCS#8 PEM, encrypted when `encrypted`
    sa.Column("encrypted", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),  # no longer signs; still verifies
)

certificates = sa.Table(
    "cert_certificates",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("platform_issuer", sa.String(500), nullable=False),
    sa.Column("deployment_id", sa.String(255), nullable=False),
    sa.Column("context_id", sa.String(255), nullable=False),
    sa.Column("learner_subject", sa.String(255), nullable=False),
    sa.Column("learner_name", sa.String(300), nullable=False),
    sa.Column("course_id", sa.String(2048), nullable=False),
    sa.Column("course_title", sa.String(500), nullable=False),
    sa.Column("duration_minutes", sa.Integer(), nullable=True),
    sa.Column("issued_on", sa.Date(), nullable=False),
    sa.Column("issuer_name", sa.String(200), nullable=False),
    sa.Column("organization_name", sa.String(300), nullable=True),
    sa.Column("competences", sa.Text(), nullable=False),  # JSON list of tags
    sa.Column("kid", sa.String(64), sa.ForeignKey("cert_signing_keys.kid"), nullable=False),
    sa.Column("token", sa.Text(), nullable=False),  # signed claims: <b64url claims>.<b64url signature>
    sa.Column("credential_jwt", sa.Text(), nullable=False),  # OpenBadgeCredential as VC-JWT
    sa.Column("earned_statement_id", sa.String(36), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revocation_reason", sa.String(500), nullable=True),
    sa.Column("revoked_statement_id", sa.String(36), nullable=True),
    # Position in the Bitstring Status List (cert_0002); NULL for certificates issued before it.
    sa.Column("status_list_index", sa.Integer(), nullable=True),
    sa.Index("ux_cert_certificates_status_list_index", "status_list_index", unique=True),
    sa.Index("ix_cert_certificates_tenant", "platform_issuer", "deployment_id", "context_id", "issued_on"),
    sa.Index("ix_cert_certificates_learner", "platform_issuer", "learner_subject"),
)


@dataclass(frozen=True)
class Tenant:
    """A company: LTI platform issuer + deployment + the company's LMS context."""

    platform_issuer: str
    deployment_id: str
    context_id: str

    def __post_init__(self) -> None:
        for name in ("platform_issuer", "deployment_id", "context_id"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"Tenant.{name} must be a non-empty string")

    @classmethod
    def from_launch(cls, launch: Any) -> Tenant:
        """The tenant of an LTI launch (:class:`smeb_lti.lti.context.LaunchContext`)."""
        if not launch.context_id:
            raise ValueError("the launch has no context (LTI context claim): certificates need the company's course context")
        return cls(launch.issuer, launch.deployment_id, launch.context_id)

    def where(self, table: sa.Table = certificates) -> sa.ColumnElement[bool]:
        """The SQL condition that keeps a query inside this tenant."""
        return sa.and_(
            table.c.platform_issuer == self.platform_issuer,
            table.c.deployment_id == self.deployment_id,
            table.c.context_id == self.context_id,
        )



def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
