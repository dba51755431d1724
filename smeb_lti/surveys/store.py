"""Survey storage: surveys (who scheduled what for which company or series) and anonymous answers.

An answer row has no learner id, no name and no timestamp, and a random primary key (so row order
cannot be matched against access logs). ``token`` is ``HMAC(key, survey, period, issuer, sub)``: it
lets the same learner find and edit their answer while the period is open and refuses a second
answer; when the period closes the token is set to NULL (:func:`unlink_closed`), after which no one,
not even with the key, can tell whose answer it was.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from smeb_lti.db import Base
from smeb_lti.surveys.periods import Period, periods


class Survey(Base):
    __tablename__ = "survey_surveys"
    __table_args__ = (
        Index("ix_survey_surveys_tenant", "registration_id", "deployment_id", "context_id"),
        Index("ix_survey_surveys_series_id", "series_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    series_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    session_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    template: Mapped[str] = mapped_column(String(64))
    frequency: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    def periods(self) -> list[Period]:
        return periods(self.frequency, self.starts_on, self.ends_on)


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    survey_id: Mapped[str] = mapped_column(ForeignKey("survey_surveys.id", ondelete="CASCADE"), index=True)
    period: Mapped[int] = mapped_column(Integer)
    group_key: Mapped[str] = mapped_column(String(64))
    token: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    answers: Mapped[str] = mapped_column(Text)


def new_survey_id() -> str:
    return secrets.token_hex(12)


def add_survey(session: Session, *, registration_id: int, deployment_id: str, context_id: str, template: str, frequency: str,
               starts_on: dt.date, ends_on: dt.date, series_id: int | None = None, session_id: int | None = None) -> Survey:
    periods(frequency, starts_on, ends_on)  # raises ScheduleInvalid before anything is stored
    row = Survey(id=new_survey_id(), registration_id=registration_id, deployment_id=deployment_id, context_id=context_id,
                 series_id=series_id, session_id=session_id, template=template, frequency=frequency, starts_on=starts_on,
                 ends_on=ends_on, created_at=dt.datetime.now(dt.UTC))
    session.add(row)
    session.flush()
    return row


def tenant_surveys(session: Session, registration_id: int, deployment_id: str, context_id: str) -> list[Survey]:
    query = select(Survey).where(Survey.registration_id == registration_id, Survey.deployment_id == deployment_id,
                                 Survey.context_id == context_id, Survey.series_id.is_(None))
    return list(session.scalars(query.order_by(Survey.created_at, Survey.id)))


def series_surveys(session: Session, series_ids: list[int]) -> list[Survey]:
    if not series_ids:
        return []
    return list(session.scalars(select(Survey).where(Survey.series_id.in_(series_ids)).order_by(Survey.created_at, Survey.id)))


def find_answer(session: Session, token: str) -> SurveyAnswer | None:
    return session.scalars(select(SurveyAnswer).where(SurveyAnswer.token == token)).first()


def save_answer(session: Session, survey: Survey, period: int, group_key: str, token: str, answers: dict[str, Any]) -> bool:
    """Store or replace the learner's answer of ``period``; True when it was a first answer."""
    row = session.scalars(select(SurveyAnswer).where(SurveyAnswer.token == token).with_for_update()).first()
    if row is None:
        session.add(SurveyAnswer(id=str(uuid.uuid4()), survey_id=survey.id, period=period, group_key=group_key, token=token,
                                 answers=json.dumps(answers, sort_keys=True, ensure_ascii=False)))
        session.flush()
        return True
    row.answers = json.dumps(answers, sort_keys=True, ensure_ascii=False)
    return False


def unlink_closed(session: Session, survey: Survey, today: dt.date) -> int:
    """Drop the double-answer tokens of closed periods: their answers can no longer be tied to anyone."""
    closed = [p.index for p in survey.periods() if p.is_closed(today)]
    if not closed:
        return 0
    result = session.execute(update(SurveyAnswer).where(SurveyAnswer.survey_id == survey.id, SurveyAnswer.period.in_(closed),
                                                        SurveyAnswer.token.is_not(None)).values(token=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult, typed as Result


def answers_of(session: Session, survey_id: str, period_indexes: list[int]) -> list[tuple[int, str, dict[str, Any]]]:
    """``(period, group key, answers)`` of the given periods (closed ones: the caller decides)."""
    if not period_indexes:
        return []
    rows = session.execute(select(SurveyAnswer.period, SurveyAnswer.group_key, SurveyAnswer.answers)
                           .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.period.in_(period_indexes)))
    return [(int(p), str(g), json.loads(a)) for p, g, a in rows]
