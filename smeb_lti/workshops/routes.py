"""The pages of workshop series ("kundeverksted") under ``/app/<launch_id>/workshops``.

A facilitator (instructor launch in the BHT's own LMS course) creates a series for the course of the
launch and gets a join code. Companies join from a launch in their own LMS course by entering the
code; their learners become participants when they open the series. The facilitator

* plans sessions from the course's workshop blocks and sees a run-sheet with clock times and a
  "now / next" view that follows the clock (``static/runsheet.js``, usable on a tablet);
* records attendance: an ``attended`` statement (:func:`xapi.statements.workshop_attended`) goes to
  the outbox in the same transaction, and the block is marked done in the learner's progress row of
  :mod:`smeb_lti.play` (see :func:`mark_workshop_done`);
* hands out the between-session assignment (the course's action-plan block) and sees which
  companies have handed it in (participants press "handed in": ``assignment_submitted``);
* collects the course evaluation after a session (a series survey of :mod:`smeb_lti.surveys`) and
  reads its aggregated results per company under the small-group rules;
* curates the shared experiences of the group (Markdown notes, shown to every participant).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import Blueprint, Response, redirect, request
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from content.markdown import render_markdown
from smeb_lti.identity import actor_key
from smeb_lti.lti.context import LaunchContext
from smeb_lti.play.store import progress_for
from smeb_lti.routing import configured_lrs, queue_statement
from smeb_lti.surveys import forms
from smeb_lti.surveys import store as survey_store
from smeb_lti.surveys.errors import NotAllowed
from smeb_lti.surveys.pages import OSLO, check_csrf, link, page_launch, render_page, tenant_of, today
from smeb_lti.surveys.periods import ScheduleInvalid
from smeb_lti.web.sessions import sessions, transaction
from smeb_lti.workshops import store
from smeb_lti.workshops.access import (
    facilitator_only,
    installed_course,
    local_time,
    participant_of,
    series_for,
    session_of,
    workshop_now,
)
from smeb_lti.workshops.errors import WorkshopInputInvalid
from smeb_lti.workshops.records import block_activity, customer_scope, record_attendance
from smeb_lti.workshops.runsheet import action_plans, now_and_next, run_sheet, workshop_blocks
from xapi import statements as xb
from xapi.actors import customer_key, pseudonymous_actor

bp = Blueprint("workshops", __name__, static_folder="static", static_url_path="/app/static/workshops")

NOTES_MAX = 20000
EVALUATION_DAYS = 7


@bp.route("/app/<launch_id>/workshops", methods=["GET", "POST"])
def index(launch_id: str) -> Response:
    context = page_launch(launch_id)
    tenant = tenant_of(context)
    error = None
    if request.method == "POST":
        check_csrf(launch_id)
        action = request.form.get("action")
        try:
            with transaction() as session:
                if action == "create":
                    series_id = _create_series(session, context)
                elif action == "join":
                    series_id = _join(session, context)
                else:
                    raise WorkshopInputInvalid("action must be create or join")
            return redirect(link(launch_id, f"/app/{launch_id}/workshops/{series_id}"), code=303)  # type: ignore[return-value]  # werkzeug's redirect() returns its own Response class
        except WorkshopInputInvalid as problem:
            error = problem.message
    with sessions()() as session:
        owned = store.series_owned_by(session, tenant) if context.is_instructor else []
        joined = [(c, session.get(store.Series, c.series_id)) for c in store.companies_of_tenant(session, tenant)]
    return render_page("workshops/index.html", context, status=400 if error else 200, owned=owned, joined=joined, error=error,
                       form=request.form)


def _create_series(session: Session, context: LaunchContext) -> int:
    if not context.is_instructor:
        raise NotAllowed("only instructors (facilitators) can create a workshop series")
    title = (request.form.get("title") or "").strip()
    if not 1 <= len(title) <= 200:
        raise WorkshopInputInvalid("title: give the series a name of 1 to 200 characters")
    slug = context.custom.get("course", "")
    if not slug:
        raise WorkshopInputInvalid("this LMS link names no course (custom parameter course=<slug>): add the course link again")
    course = installed_course(session, slug).course
    if not workshop_blocks(course):
        raise WorkshopInputInvalid(f"course {slug!r} has no workshop sessions: choose a course with workshop blocks")
    tenant = tenant_of(context)
    for _ in range(5):
        code = store.new_join_code()
        if store.find_by_code(session, code) is None:
            break
    row = store.Series(registration_id=tenant.registration_id, deployment_id=tenant.deployment_id, context_id=tenant.context_id,
                       course_slug=slug, title=title, join_code=code, notes="", created_at=workshop_now())
    session.add(row)
    session.flush()
    return row.id


def _join(session: Session, context: LaunchContext) -> int:
    series = store.find_by_code(session, request.form.get("code") or "")
    if series is None:
        raise WorkshopInputInvalid("code: no series has this join code; check it with your facilitator (letters and digits, no O, I or L)")
    tenant = tenant_of(context)
    if series.tenant == tenant:
        raise WorkshopInputInvalid("code: this is the facilitator's own course; participants join from their company's LMS course")
    company = store.company_of(session, series.id, tenant)
    if company is None:
        company = store.SeriesCompany(series_id=series.id, registration_id=tenant.registration_id, deployment_id=tenant.deployment_id,
                                      context_id=tenant.context_id, title=(context.context_title or tenant.context_id)[:200],
                                      joined_at=workshop_now())
        session.add(company)
        session.flush()
    participant_of(session, context, series, company)
    return series.id


@bp.get("/app/<launch_id>/workshops/<int:series_id>")
def series_page(launch_id: str, series_id: int) -> Response:
    context = page_launch(launch_id)
    now = workshop_now()
    day = today()
    with transaction() as session:
        series, company = series_for(session, context, series_id)
        course = installed_course(session, series.course_slug).course
        blocks = {b.id: b for b in workshop_blocks(course)}
        plans = {b.id: b for b in action_plans(course)}
        planned = store.sessions_of(session, series.id)
        surveys = {s.id: s for s in survey_store.series_surveys(session, [series.id])}
        open_surveys = {sid for sid, s in surveys.items() if any(p.is_open(day) for p in s.periods())}
        series_surveys = [sv for sv in surveys.values() if sv.session_id is None]
        values: dict[str, Any] = {
            "series_surveys": series_surveys, "today": day,
            "series": series, "course": course, "blocks": blocks, "plans": plans, "planned": planned, "local": local_time,
            "notes_html": Markup(render_markdown(series.notes)) if series.notes.strip() else None,  # the one sanitizer
            "open_surveys": open_surveys, "company": company,
        }
        if company is None:
            companies = list(session.scalars(select(store.SeriesCompany).where(store.SeriesCompany.series_id == series.id)
                                             .order_by(store.SeriesCompany.title, store.SeriesCompany.id)))
            participants = list(session.scalars(select(store.Participant).where(store.Participant.series_id == series.id)))
            attended = {(a.session_id, a.participant_id) for a in session.scalars(
                select(store.Attendance).join(store.WorkshopSession).where(store.WorkshopSession.series_id == series.id))}
            submitted = {(s.session_id, s.participant_id) for s in session.scalars(
                select(store.Submission).join(store.WorkshopSession).where(store.WorkshopSession.series_id == series.id))}
            status = {}
            for ws in planned:
                for c in companies:
                    members = [p for p in participants if p.company_id == c.id]
                    status[(ws.id, c.id)] = (len(members), sum((ws.id, p.id) in attended for p in members),
                                             sum((ws.id, p.id) in submitted for p in members))
            values.update(companies=companies, company_status=status)
            return render_page("workshops/facilitator.html", context, now=now, **values)
        participant = participant_of(session, context, series, company)
        upcoming = [ws for ws in planned if local_time(ws.starts_at).date() >= day]
        started = [ws for ws in planned if local_time(ws.starts_at) <= now and ws.assignment_block_id]
        assignment = started[-1] if started else None
        handed_in = participant is not None and assignment is not None and session.get(
            store.Submission, (assignment.id, participant.id)) is not None
        return render_page("workshops/participant.html", context, next_session=upcoming[0] if upcoming else None,
                           assignment=assignment, handed_in=handed_in, participant=participant,
                           saved=request.args.get("saved"), **values)


@bp.post("/app/<launch_id>/workshops/<int:series_id>/sessions")
def add_session(launch_id: str, series_id: int) -> Response:
    context = page_launch(launch_id)
    check_csrf(launch_id)
    with transaction() as session:
        series, company = series_for(session, context, series_id)
        facilitator_only(company)
        course = installed_course(session, series.course_slug).course
        block_id = request.form.get("block", "")
        if block_id not in {b.id for b in workshop_blocks(course)}:
            raise WorkshopInputInvalid(f"block: {block_id!r} is not a workshop session of the course")
        assignment = request.form.get("assignment") or None
        if assignment is not None and assignment not in {b.id for b in action_plans(course)}:
            raise WorkshopInputInvalid(f"assignment: {assignment!r} is not an action plan of the course")
        try:
            starts = dt.datetime.fromisoformat((request.form.get("starts_at") or "").strip())
        except ValueError:
            raise WorkshopInputInvalid("starts_at: give the date and time as YYYY-MM-DDTHH:MM") from None
        starts = (starts if starts.tzinfo else starts.replace(tzinfo=OSLO)).astimezone(dt.UTC)
        place = (request.form.get("place") or "").strip()[:200]
        session.add(store.WorkshopSession(series_id=series.id, block_id=block_id, starts_at=starts, place=place,
                                          assignment_block_id=assignment))
    return redirect(link(launch_id, f"/app/{launch_id}/workshops/{series_id}#sessions"), code=303)  # type: ignore[return-value]  # werkzeug's redirect() returns its own Response class


@bp.post("/app/<launch_id>/workshops/<int:series_id>/notes")
def save_notes(launch_id: str, series_id: int) -> Response:
    context = page_launch(launch_id)
    check_csrf(launch_id)
    notes = (request.form.get("notes") or "").replace("\r\n", "\n")
    if len(notes) > NOTES_MAX:
        raise WorkshopInputInvalid(f"notes: at most {NOTES_MAX} characters")
    with transaction() as session:
        series, company = series_for(session, context, series_id)
        facilitator_only(company)
        series.notes = notes
    return redirect(link(launch_id, f"/app/{launch_id}/workshops/{series_id}#notes"), code=303)  # type: ignore[return-value]  # werkzeug's redirect() returns its own Response class


@bp.get("/app/<launch_id>/workshops/<int:series_id>/sessions/<int:session_id>/runsheet")
def runsheet(launch_id: str, series_id: int, session_id: int) -> Response:
    context = page_launch(launch_id)
    with sessions()() as session:
        series, company = series_for(session, context, series_id)
        facilitator_only(company)
        ws = session_of(session, series, session_id)
        course = installed_course(session, series.course_slug).course
    block = next(b for b in workshop_blocks(course) if b.id == ws.block_id)
    items = run_sheet(block, local_time(ws.starts_at), context.locale)
    current, following = now_and_next(items, local_time(workshop_now()))
    return render_page("workshops/runsheet.html", context, series=series, ws=ws, block=block, items=items, current=current,
                       following=following)


@bp.route("/app/<launch_id>/workshops/<int:series_id>/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
def attendance(launch_id: str, series_id: int, session_id: int) -> Response:
    context = page_launch(launch_id)
    if request.method == "POST":
        check_csrf(launch_id)
        try:
            chosen = sorted({int(v) for v in request.form.getlist("present")})
        except ValueError:
            raise WorkshopInputInvalid("present: participant ids are numbers") from None
        with transaction() as session:
            series, company = series_for(session, context, series_id)
            facilitator_only(company)
            ws = session_of(session, series, session_id)
            record_attendance(session, series, ws, chosen, context.locale, workshop_now())
        return redirect(link(launch_id, f"/app/{launch_id}/workshops/{series_id}/sessions/{session_id}/attendance?saved=1"), code=303)  # type: ignore[return-value]  # werkzeug's redirect() returns its own Response class
    with sessions()() as session:
        series, company = series_for(session, context, series_id)
        facilitator_only(company)
        ws = session_of(session, series, session_id)
        companies = list(session.scalars(select(store.SeriesCompany).where(store.SeriesCompany.series_id == series.id)
                                         .order_by(store.SeriesCompany.title, store.SeriesCompany.id)))
        participants = list(session.scalars(select(store.Participant).where(store.Participant.series_id == series.id)
                                            .order_by(store.Participant.name, store.Participant.id)))
        present = {a.participant_id for a in session.scalars(select(store.Attendance).where(store.Attendance.session_id == ws.id))}
        course = installed_course(session, series.course_slug).course
    block = next(b for b in workshop_blocks(course) if b.id == ws.block_id)
    return render_page("workshops/attendance.html", context, series=series, ws=ws, block=block, companies=companies,
                       participants=participants, present=present, saved=request.args.get("saved") == "1", local=local_time)


@bp.post("/app/<launch_id>/workshops/<int:series_id>/sessions/<int:session_id>/handed-in")
def handed_in(launch_id: str, series_id: int, session_id: int) -> Response:
    context = page_launch(launch_id)
    check_csrf(launch_id)
    now = workshop_now()
    try:
        with transaction() as session:
            series, company = series_for(session, context, series_id)
            if company is None:
                raise NotAllowed("participants hand in the assignment from their own company's LMS course")
            ws = session_of(session, series, session_id)
            if not ws.assignment_block_id:
                raise WorkshopInputInvalid("this session has no assignment to hand in")
            participant = participant_of(session, context, series, company)
            if participant is None:
                raise NotAllowed("participants (learners) hand in the assignment; administrators see the status")
            if session.get(store.Submission, (ws.id, participant.id)) is None:
                session.add(store.Submission(session_id=ws.id, participant_id=participant.id, submitted_at=now))
                course = installed_course(session, series.course_slug).course
                plan = next(b for b in action_plans(course) if b.id == ws.assignment_block_id)
                lrs = configured_lrs(session)
                if lrs:
                    progress = progress_for(session, company.registration_id, participant.subject, participant.course_key)
                    scope = customer_scope(session, participant, company)
                    statement = xb.assignment_submitted(
                        pseudonymous_actor(participant.issuer, participant.subject, key=customer_key(actor_key(), scope)),
                        block_activity(course, plan.id, plan.prompt),
                        xb.StatementContext(registration=progress.attempt if progress else None, course_id=course.id,
                                            language=context.locale),
                        statement_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"smeb-assignment/{ws.id}/{participant.id}")),
                        timestamp=xb.utc_timestamp(now))
                    queue_statement(session, statement, scope)
    except IntegrityError:
        pass  # the same hand-in twice at once: the first one counts
    return redirect(link(launch_id, f"/app/{launch_id}/workshops/{series_id}?saved=handed-in#assignment"), code=303)  # type: ignore[return-value]  # werkzeug's redirect() returns its own Response class


@bp.post("/app/<launch_id>/workshops/<int:series_id>/sessions/<int:session_id>/evaluation")
def start_evaluation(launch_id: str, series_id: int, session_id: int) -> Response:
    """Open the course evaluation for this session (one period of a week), answered by every company of the series."""
    context = page_launch(launch_id)
    check_csrf(launch_id)
    day = today()
    with transaction() as session:
        series, company = series_for(session, context, series_id)
        facilitator_only(company)
        ws = session_of(session, series, session_id)
        if ws.survey_id is None:
            survey = survey_store.add_survey(session, registration_id=series.registration_id, deployment_id=series.deployment_id,
                                             context_id=series.context_id, template="course-evaluation", frequency="once",
                                             starts_on=day, ends_on=day + dt.timedelta(days=EVALUATION_DAYS - 1),
                                             series_id=series.id, session_id=ws.id)
            ws.survey_id = survey.id
    return redirect(link(launch_id, f"/app/{launch_id}/workshops/{series_id}#sessions"), code=303)  # type: ignore[return-value]  # werkzeug's redirect() returns its own Response class


@bp.post("/app/<launch_id>/workshops/<int:series_id>/surveys")
def schedule_series_survey(launch_id: str, series_id: int) -> Response:
    """The facilitator schedules a recurring survey (e.g. the pulse) answered by every company of the series."""
    context = page_launch(launch_id)
    check_csrf(launch_id)
    try:
        template = forms.template(request.form.get("template", ""))
        starts = dt.date.fromisoformat((request.form.get("starts_on") or "").strip())
        ends = dt.date.fromisoformat((request.form.get("ends_on") or "").strip())
    except (forms.AnswerInvalid, ValueError) as problem:
        raise WorkshopInputInvalid(f"survey: choose a template and give both dates as YYYY-MM-DD ({problem})") from None
    with transaction() as session:
        series, company = series_for(session, context, series_id)
        facilitator_only(company)
        try:
            survey_store.add_survey(session, registration_id=series.registration_id, deployment_id=series.deployment_id,
                                    context_id=series.context_id, template=template.id, frequency=request.form.get("frequency", ""),
                                    starts_on=starts, ends_on=ends, series_id=series.id)
        except ScheduleInvalid as problem:
            raise WorkshopInputInvalid(f"survey: {problem}") from None
    return redirect(link(launch_id, f"/app/{launch_id}/workshops/{series_id}#series-surveys"), code=303)  # type: ignore[return-value]  # werkzeug's redirect() returns its own Response class
