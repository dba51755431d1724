"""A learner's survey answers (anonymous; the token ties one to the learner while its period is open)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.privacy.registry import Store
from smeb_lti.privacy.rows import as_dicts, in_chunks, reflected, rowcount
from smeb_lti.privacy.subject import SubjectRef


def _survey_answer_ids(session: Session, ref: SubjectRef) -> list[str]:
    answers = reflected(session, "survey_answers")
    pairs = session.execute(sa.select(answers.c.survey_id, answers.c.period).where(answers.c.token.is_not(None)).distinct()).all()
    tokens = [ref.survey_token(survey_id, period) for survey_id, period in pairs]
    found: list[str] = []
    for chunk in in_chunks(tokens):
        found += session.scalars(sa.select(answers.c.id).where(answers.c.token.in_(chunk)))
    return found


def export_surveys(session: Session, ref: SubjectRef) -> dict[str, Any]:
    answers = reflected(session, "survey_answers")
    ids = _survey_answer_ids(session, ref)
    rows: Iterable[Any] = session.execute(sa.select(answers).where(answers.c.id.in_(ids))) if ids else []
    return {
        "note": "answers of closed periods are anonymous (no link to anyone is kept) and cannot be found or exported",
        "open_answers": as_dicts(rows, parse=("answers",), drop=("token",)),
    }


def erase_surveys(session: Session, ref: SubjectRef) -> int:
    answers = reflected(session, "survey_answers")
    ids = _survey_answer_ids(session, ref)
    return sum(rowcount(session.execute(sa.delete(answers).where(answers.c.id.in_(chunk)))) for chunk in in_chunks(ids))


STORES = (Store("surveys", export_surveys, erase_surveys),)
