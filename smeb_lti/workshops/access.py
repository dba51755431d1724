"""Which series, session and participant a launch reaches, the series' course, and the clock of the workshop pages."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from smeb_lti.courses import launched
from smeb_lti.courses.launched import Installed
from smeb_lti.lti.context import LaunchContext
from smeb_lti.settings import settings
from smeb_lti.surveys.errors import NotAllowed, NotFound
from smeb_lti.surveys.pages import OSLO, tenant_of, today
from smeb_lti.workshops import store
from smeb_lti.workshops.errors import WorkshopInputInvalid


def installed_course(session: Session, slug: str) -> Installed:
    """The series' course (the whole course, as installed now), or :class:`WorkshopInputInvalid`."""
    found = launched.installed_course(session, slug)
    if found is None:
        raise WorkshopInputInvalid(f"course {slug!r} is not installed on this SMEB server: install it with `smeb courses install`")
    return found


def workshop_now() -> dt.datetime:
    """Now; with ``SMEB_TODAY`` pinned (tests, rehearsals) it is noon of that day in Norway."""
    if settings().today is not None:
        return dt.datetime.combine(today(), dt.time(12, 0), OSLO).astimezone(dt.UTC)
    return dt.datetime.now(dt.UTC)


def local_time(moment: dt.datetime) -> dt.datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(OSLO)


def series_for(session: Session, context: LaunchContext, series_id: int) -> tuple[store.Series, store.SeriesCompany | None]:
    """The series and the launch's company in it; the facilitator's own launch gets ``None`` as company.

    Anything else (another facilitator's series, a company that has not joined, a learner of the
    facilitator's own course) is a 404, exactly like a series that does not exist.
    """
    series = session.get(store.Series, series_id)
    tenant = tenant_of(context)
    if series is not None:
        if series.tenant == tenant and context.is_instructor:
            return series, None
        company = store.company_of(session, series.id, tenant)
        if company is not None:
            return series, company
    raise NotFound("there is no such workshop series for your company: join it with the code from your facilitator")


def participant_of(session: Session, context: LaunchContext, series: store.Series, company: store.SeriesCompany) -> store.Participant | None:
    """The learner's participant row, created on first visit (staff of the company are not participants)."""
    if context.is_instructor:
        return None
    row = session.scalars(select(store.Participant).where(store.Participant.company_id == company.id,
                                                          store.Participant.subject == context.subject)).first()
    if row is None:
        slug = context.custom.get("course", "")
        module = context.custom.get("module")
        key = f"{slug}/{module}" if slug == series.course_slug and module else series.course_slug
        row = store.Participant(series_id=series.id, company_id=company.id, issuer=context.issuer, subject=context.subject,
                                name=(context.name or context.given_name or "")[:200], course_key=key)
        session.add(row)
        session.flush()
    return row


def session_of(session: Session, series: store.Series, session_id: int) -> store.WorkshopSession:
    row = session.get(store.WorkshopSession, session_id)
    if row is None or row.series_id != series.id:
        raise NotFound("this series has no such session")
    return row


def facilitator_only(company: store.SeriesCompany | None) -> None:
    if company is not None:
        raise NotAllowed("only the facilitator of this series can do this")
