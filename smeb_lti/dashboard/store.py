"""Dashboard tables (created only by the ``dashboard`` Alembic branch): company members and teams.

Why a table of its own: the player host keeps progress per (platform registration, learner, course),
which does not say *which company* (LMS course context) the learner came from. A company's dashboard
must show only the people who launched a course in that company's context, so every learner launch of
a course is recorded here with its tenant = registration + deployment + context (see
:func:`record_launch`). The registration is part of the tenant because platforms that share one issuer
(Canvas cloud) are different registrations and must never see each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from smeb_lti.dashboard.errors import MemberNotFound, NoCompany, TeamInvalid
from smeb_lti.db import Base
from smeb_lti.lti.context import LaunchContext

LIS_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/lis"
MAX_TEAM = 100


class Member(Base):
    __tablename__ = "dashboard_members"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id", "context_id", "subject", "course_key",
                                       name="uq_dashboard_members_registration_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    course_key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    lms_team: Mapped[str | None] = mapped_column(String(100), nullable=True)
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class TeamAssignment(Base):
    __tablename__ = "dashboard_teams"

    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    context_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    team: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class DashboardTenant:
    """A company as the dashboard sees it: one registration, one deployment, one LMS course context."""

    registration_id: int
    deployment_id: str
    context_id: str

    @classmethod
    def of(cls, context: LaunchContext) -> DashboardTenant:
        if not context.context_id:
            raise NoCompany("this LMS link has no course context: add the SMEB tool inside the company's course in your LMS")
        return cls(context.registration_id, context.deployment_id, context.context_id)



def course_key_of(context: LaunchContext) -> str | None:
    """The player host's key for the launch's course: ``slug`` or ``slug/module``; ``None`` without a course."""
    slug = context.custom.get("course")
    if not slug:
        return None
    module = context.custom.get("module")
    return f"{slug}/{module}" if module else slug


def team_of_claims(claims: Mapping[str, Any], custom: Mapping[str, str]) -> str | None:
    """The team the LMS sent: custom ``team`` (e.g. ``team=$Canvas.group.name``-style substitution), else the LIS course section."""
    raw = custom.get("team")
    if not raw:
        lis = claims.get(LIS_CLAIM)
        raw = lis.get("course_section_sourcedid") if isinstance(lis, Mapping) else None
    if not isinstance(raw, str):
        return None
    cleaned = " ".join(raw.split())[:MAX_TEAM]
    return cleaned or None


def record_launch(session: Session, context: LaunchContext, claims: Mapping[str, Any], now: dt.datetime) -> Member | None:
    """Remember that this learner launched this course in this company (idempotent; staff launches are not members)."""
    key = course_key_of(context)
    if context.is_instructor or key is None or not context.context_id or context.is_deep_linking:
        return None
    tenant = DashboardTenant.of(context)
    name = context.name or " ".join(p for p in (context.given_name, context.family_name) if p) or None
    team = team_of_claims(claims, context.custom)
    for _attempt in range(2):
        row = _member(session, tenant, context.subject, key)
        if row is None:
            row = Member(registration_id=tenant.registration_id, deployment_id=tenant.deployment_id, context_id=tenant.context_id,
                         subject=context.subject, course_key=key, name=name and name[:300], lms_team=team, first_seen=now, last_seen=now)
            try:
                with session.begin_nested():
                    session.add(row)
                    session.flush()
            except IntegrityError:
                continue  # a second tab recorded the same launch at the same moment: update that row instead
            return row
        row.last_seen = now
        if name:
            row.name = name[:300]  # the newest name the LMS sent (people change names)
        row.lms_team = team
        return row
    return None


def _member(session: Session, tenant: DashboardTenant, subject: str, course_key: str) -> Member | None:
    return session.scalars(select(Member).where(
        Member.registration_id == tenant.registration_id, Member.deployment_id == tenant.deployment_id,
        Member.context_id == tenant.context_id, Member.subject == subject, Member.course_key == course_key)).first()


def members(session: Session, tenant: DashboardTenant) -> list[Member]:
    """Every (learner, course) of the company, oldest first."""
    query = select(Member).where(Member.registration_id == tenant.registration_id, Member.deployment_id == tenant.deployment_id,
                                 Member.context_id == tenant.context_id)
    return list(session.scalars(query.order_by(Member.first_seen, Member.id)))


def assigned_teams(session: Session, tenant: DashboardTenant) -> dict[str, str]:
    """``{subject: team}`` as assigned by an administrator of the company."""
    rows = session.scalars(select(TeamAssignment).where(
        TeamAssignment.registration_id == tenant.registration_id, TeamAssignment.deployment_id == tenant.deployment_id,
        TeamAssignment.context_id == tenant.context_id))
    return {row.subject: row.team for row in rows}


def clean_team(raw: str) -> str:
    """A team name as stored: single spaces, 1..100 characters (it is shown as text, never as HTML or a formula)."""
    cleaned = " ".join((raw or "").split())
    if not cleaned:
        raise TeamInvalid("the team name is empty: type a name such as 'Montasje Nord', or clear the team with 'remove'")
    if len(cleaned) > MAX_TEAM:
        raise TeamInvalid(f"the team name is longer than {MAX_TEAM} characters")
    if any(ord(ch) < 32 for ch in cleaned):
        raise TeamInvalid("the team name contains control characters")
    return cleaned


def assign_team(session: Session, tenant: DashboardTenant, subject: str, team: str | None, now: dt.datetime) -> None:
    """Put a learner of this company in ``team`` (``None`` removes the assignment; the LMS's team shows again).

    Raises :class:`MemberNotFound` when ``subject`` never launched a course in this company: an
    administrator cannot create entries about people of another company by guessing their ids.
    """
    known = session.scalars(select(Member.id).where(
        Member.registration_id == tenant.registration_id, Member.deployment_id == tenant.deployment_id,
        Member.context_id == tenant.context_id, Member.subject == subject)).first()
    if known is None:
        raise MemberNotFound("no such learner in this company: pick a person from the dashboard's list")
    row = session.get(TeamAssignment, (tenant.registration_id, tenant.deployment_id, tenant.context_id, subject))
    if team is None:
        if row is not None:
            session.delete(row)
        return
    name = clean_team(team)
    if row is None:
        session.add(TeamAssignment(registration_id=tenant.registration_id, deployment_id=tenant.deployment_id,
                                   context_id=tenant.context_id, subject=subject, team=name, assigned_at=now))
    else:
        row.team, row.assigned_at = name, now
