"""Workshop series storage: series, participating companies, sessions, participants, attendance, hand-ins.

A series belongs to the facilitator's company (the BHT's own LMS context). Other companies join it
with the series' join code from a launch in their own LMS course; each joined company is one
:class:`SeriesCompany` row, and only a launch of that exact (registration, deployment, context) acts
for it.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from smeb_lti.db import Base
from smeb_lti.surveys.pages import Tenant

# No 0/O, 1/I/L: the code is read aloud and typed on a phone.
JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_LENGTH = 10


class Series(Base):
    __tablename__ = "workshop_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    course_slug: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    @property
    def tenant(self) -> Tenant:
        return Tenant(self.registration_id, self.deployment_id, self.context_id)


class SeriesCompany(Base):
    __tablename__ = "workshop_companies"
    __table_args__ = (UniqueConstraint("series_id", "registration_id", "deployment_id", "context_id", name="uq_workshop_companies_series_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("workshop_series.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(200))
    joined_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class WorkshopSession(Base):
    __tablename__ = "workshop_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("workshop_series.id", ondelete="CASCADE"), index=True)
    block_id: Mapped[str] = mapped_column(String(100))  # the course's workshop block
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str] = mapped_column(String(200), default="")
    assignment_block_id: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the course's action-plan block
    survey_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the evaluation (smeb_lti.surveys)


class Participant(Base):
    __tablename__ = "workshop_participants"
    __table_args__ = (UniqueConstraint("company_id", "subject", name="uq_workshop_participants_company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("workshop_series.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("workshop_companies.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    course_key: Mapped[str] = mapped_column(String(200))


class Attendance(Base):
    __tablename__ = "workshop_attendance"

    session_id: Mapped[int] = mapped_column(ForeignKey("workshop_sessions.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("workshop_participants.id", ondelete="CASCADE"), primary_key=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Submission(Base):
    __tablename__ = "workshop_submissions"

    session_id: Mapped[int] = mapped_column(ForeignKey("workshop_sessions.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("workshop_participants.id", ondelete="CASCADE"), primary_key=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_LENGTH))


def normalize_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def company_key(company: SeriesCompany) -> str:
    """The survey group key of a company in a series (no LMS ids in survey rows)."""
    return f"c{company.id}"


def company_labels(session: Session, series_id: int) -> dict[str, str]:
    rows = session.scalars(select(SeriesCompany).where(SeriesCompany.series_id == series_id))
    return {company_key(c): c.title for c in rows}


def company_of(session: Session, series_id: int, tenant: Tenant) -> SeriesCompany | None:
    return session.scalars(select(SeriesCompany).where(
        SeriesCompany.series_id == series_id, SeriesCompany.registration_id == tenant.registration_id,
        SeriesCompany.deployment_id == tenant.deployment_id, SeriesCompany.context_id == tenant.context_id)).first()


def companies_of_tenant(session: Session, tenant: Tenant) -> list[SeriesCompany]:
    return list(session.scalars(select(SeriesCompany).where(
        SeriesCompany.registration_id == tenant.registration_id, SeriesCompany.deployment_id == tenant.deployment_id,
        SeriesCompany.context_id == tenant.context_id).order_by(SeriesCompany.id)))


def series_owned_by(session: Session, tenant: Tenant) -> list[Series]:
    return list(session.scalars(select(Series).where(
        Series.registration_id == tenant.registration_id, Series.deployment_id == tenant.deployment_id,
        Series.context_id == tenant.context_id).order_by(Series.id)))


def find_by_code(session: Session, code: str) -> Series | None:
    return session.scalars(select(Series).where(Series.join_code == normalize_code(code))).first()


def sessions_of(session: Session, series_id: int) -> list[WorkshopSession]:
    return list(session.scalars(select(WorkshopSession).where(WorkshopSession.series_id == series_id)
                                .order_by(WorkshopSession.starts_at, WorkshopSession.id)))


class SurveySeries:
    """The series' companies as the survey pages see them (:class:`smeb_lti.surveys.series.SeriesDirectory`)."""

    def group_labels(self, session: Session, series_id: int) -> dict[str, str]:
        return company_labels(session, series_id)

    def group_key(self, session: Session, series_id: int, tenant: Tenant) -> str | None:
        company = company_of(session, series_id, tenant)
        return None if company is None else company_key(company)

    def joined_series(self, session: Session, tenant: Tenant) -> list[int]:
        return [c.series_id for c in companies_of_tenant(session, tenant)]

    def owned_series(self, session: Session, tenant: Tenant) -> list[int]:
        return [s.id for s in series_owned_by(session, tenant)]
