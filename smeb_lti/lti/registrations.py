"""Platform registrations (issuer + client id + endpoints) and their deployment ids.

Several registrations may share an issuer with different client ids (Canvas cloud:
``https://canvas.instructure.com`` for every customer), so the key is (issuer, client_id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from smeb_lti.db import Base
from smeb_lti.lti.errors import RegistrationError, UnknownDeployment, UnknownPlatform


class PlatformRegistration(Base):
    __tablename__ = "lti_registrations"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lti_registrations_issuer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(512))
    client_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    auth_login_url: Mapped[str] = mapped_column(String(2048))
    auth_token_url: Mapped[str] = mapped_column(String(2048))
    auth_audience: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    key_set_url: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deployments: Mapped[list[PlatformDeployment]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )

    @property
    def deployment_ids(self) -> tuple[str, ...]:
        return tuple(sorted(d.deployment_id for d in self.deployments))


class PlatformDeployment(Base):
    __tablename__ = "lti_deployments"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id", name="uq_lti_deployments_registration_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    registration: Mapped[PlatformRegistration] = relationship(back_populates="deployments")


@dataclass(frozen=True)
class RegistrationInput:
    """What an administrator (or dynamic registration) gives us about a platform."""

    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: tuple[str, ...] = ()
    name: str = ""
    auth_audience: str | None = None


def _check_url(field: str, value: str, *, allow_http: bool = True) -> None:
    parts = urlsplit(value)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.netloc:
        raise RegistrationError(f"{field} must be an absolute {' or '.join(schemes)} URL, got {value!r}")


def validate_input(data: RegistrationInput) -> None:
    """Reject what would fail later at launch time, with the field name in the message."""
    if not data.issuer.strip():
        raise RegistrationError("issuer must not be empty (the platform's 'iss', e.g. https://moodle.example.no)")
    if not data.client_id.strip():
        raise RegistrationError("client_id must not be empty (the platform generates it when the tool is added)")
    _check_url("issuer", data.issuer)
    _check_url("auth login URL", data.auth_login_url)
    _check_url("token URL", data.auth_token_url)
    _check_url("JWKS URL", data.key_set_url)
    for dep in data.deployment_ids:
        if not dep.strip():
            raise RegistrationError("deployment ids must not be empty")


def add(session: Session, data: RegistrationInput) -> PlatformRegistration:
    """Add a registration, or add deployment ids and update endpoints of an existing (issuer, client_id)."""
    validate_input(data)
    row = find(session, data.issuer, data.client_id)
    if row is None:
        row = PlatformRegistration(issuer=data.issuer, client_id=data.client_id, created_at=datetime.now(UTC))
        session.add(row)
    row.name = data.name or row.name or urlsplit(data.issuer).netloc
    row.auth_login_url = data.auth_login_url
    row.auth_token_url = data.auth_token_url
    row.auth_audience = data.auth_audience
    row.key_set_url = data.key_set_url
    known = {d.deployment_id for d in row.deployments}
    for dep in data.deployment_ids:
        if dep not in known:
            row.deployments.append(PlatformDeployment(deployment_id=dep))
            known.add(dep)
    session.flush()
    return row


def add_deployment(session: Session, registration: PlatformRegistration, deployment_id: str) -> None:
    if deployment_id and deployment_id not in registration.deployment_ids:
        registration.deployments.append(PlatformDeployment(deployment_id=deployment_id))
        session.flush()


def find(session: Session, issuer: str, client_id: str) -> PlatformRegistration | None:
    return session.scalars(
        select(PlatformRegistration).where(PlatformRegistration.issuer == issuer, PlatformRegistration.client_id == client_id)
    ).first()


def for_issuer(session: Session, issuer: str) -> list[PlatformRegistration]:
    return list(session.scalars(select(PlatformRegistration).where(PlatformRegistration.issuer == issuer).order_by(PlatformRegistration.id)))


def get(session: Session, registration_id: int) -> PlatformRegistration:
    row = session.get(PlatformRegistration, registration_id)
    if row is None:
        raise UnknownPlatform(f"no platform registration with id {registration_id}")
    return row


def resolve(session: Session, issuer: str, client_id: str | None) -> PlatformRegistration:
    """The registration for a login or launch; ``client_id`` may be absent only if the issuer has one registration."""
    if client_id:
        row = find(session, issuer, client_id)
        if row is None:
            if not for_issuer(session, issuer):
                raise UnknownPlatform(f"platform issuer {issuer!r} is not registered with this tool: register it with `smeb platform add`")
            raise UnknownPlatform(f"client id {client_id!r} is not registered for platform {issuer!r}")
        return row
    rows = for_issuer(session, issuer)
    if not rows:
        raise UnknownPlatform(f"platform issuer {issuer!r} is not registered with this tool: register it with `smeb platform add`")
    if len(rows) > 1:
        raise UnknownPlatform(
            f"platform {issuer!r} has {len(rows)} registrations; the login request must carry client_id to pick one"
        )
    return rows[0]


def require_deployment(registration: PlatformRegistration, deployment_id: str) -> None:
    require_deployment_id(registration.issuer, registration.client_id, registration.deployment_ids, deployment_id)


def require_deployment_id(issuer: str, client_id: str, known: tuple[str, ...], deployment_id: str) -> None:
    """:class:`UnknownDeployment` unless ``deployment_id`` is one of ``known`` (the registration's deployments)."""
    if deployment_id not in known:
        raise UnknownDeployment(
            f"deployment id {deployment_id!r} is not registered for {issuer} (client {client_id}): "
            f"add it with `smeb platform add --issuer {issuer} --client-id {client_id} --deployment {deployment_id} ...`"
        )


def all_registrations(session: Session) -> list[PlatformRegistration]:
    return list(session.scalars(select(PlatformRegistration).order_by(PlatformRegistration.issuer, PlatformRegistration.client_id)))


def remove(session: Session, issuer: str, client_id: str) -> bool:
    row = find(session, issuer, client_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
