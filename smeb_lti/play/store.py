"""The learner's progress in a course (one row per platform registration + LTI ``sub`` + course key) and applied event ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from smeb_lti.db import Base


class Progress(Base):
    __tablename__ = "play_progress"
    __table_args__ = (UniqueConstraint("registration_id", "subject", "course_key", name="uq_play_progress_registration_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    course_key: Mapped[str] = mapped_column(String(200))
    course_version: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[str] = mapped_column(String(36))
    state: Mapped[str | None] = mapped_column(Text, nullable=True)
    location: Mapped[str | None] = mapped_column(String(200), nullable=True)
    progress: Mapped[float] = mapped_column(Float)
    completed: Mapped[bool] = mapped_column(Boolean)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    answers: Mapped[str] = mapped_column(Text)
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    grade_key: Mapped[str | None] = mapped_column(String(100), nullable=True)  # unused since ags_0001: kept per line item (smeb_lti.lti.ags)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AppliedEvent(Base):
    __tablename__ = "play_events"

    progress_id: Mapped[int] = mapped_column(ForeignKey("play_progress.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def progress_for(session: Session, registration_id: int, subject: str, course_key: str, *, lock: bool = False) -> Progress | None:
    """The learner's row; ``lock`` holds it until commit (PostgreSQL), so two tabs cannot lose each other's answers."""
    query = select(Progress).where(Progress.registration_id == registration_id, Progress.subject == subject, Progress.course_key == course_key)
    return session.scalars(query.with_for_update() if lock else query).first()


def locked_progress(session: Session, registration_id: int, subject: str, course_key: str) -> Progress | None:
    """The learner's progress row, locked for this transaction (None when there is none yet)."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no SELECT ... FOR UPDATE: a first (no-op) write takes the database's write lock before
        # we read, so two events of one learner arriving at once are applied one after the other.
        session.execute(
            update(Progress)
            .where(Progress.registration_id == registration_id, Progress.subject == subject, Progress.course_key == course_key)
            .values(id=Progress.id)
            .execution_options(synchronize_session=False)
        )
    return progress_for(session, registration_id, subject, course_key, lock=True)


def new_progress(registration_id: int, subject: str, course_key: str, version: str, max_points: int, attempt: str,
                 now: datetime) -> Progress:
    """A learner's first row in a course: nothing done yet, a fresh attempt (the xAPI registration)."""
    return Progress(
        registration_id=registration_id, subject=subject, course_key=course_key, course_version=version, attempt=attempt,
        state=None, location=None, progress=0.0, completed=False, passed=None, answers="{}", points=0, max_points=max_points,
        grade_key=None, started_at=now, updated_at=now,
    )


def progress_of_context(session: Session, registration_id: int, course_key: str) -> dict[str, Progress]:
    """Every learner's progress in one course of one platform registration, by LTI ``sub`` (for the roster)."""
    rows = session.scalars(select(Progress).where(Progress.registration_id == registration_id, Progress.course_key == course_key))
    return {row.subject: row for row in rows}
