"""Pulse surveys and course evaluations under ``/app/<launch_id>/surveys``.

* A company admin (instructor/administrator launch) schedules a survey from a template
  (:mod:`smeb_lti.surveys.forms`): weekly, monthly or once, between two dates.
* Learners of the same company (LMS context) answer inside their launch: one answer per period,
  editable until the period closes. The answer is stored without the learner's identity
  (:mod:`smeb_lti.surveys.store`).
* Staff see results of closed periods only, as aggregates under the minimum group size and
  complementary suppression of :mod:`smeb_lti.aggregates`, with a trend per period (SVG + table).
* Workshop series (:mod:`smeb_lti.workshops`) create surveys owned by the series: every participating
  company answers; the facilitator sees each company, a company admin only their own.

No xAPI statement is sent for a survey answer, not even "responded": a statement names its actor,
and its timestamp beside the answer's period would let anyone with LRS access narrow an anonymous
answer down to the few people who answered at that moment (docs/surveys-and-workshops.md).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from flask import Blueprint, Response, redirect, request
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smeb_lti.aggregates import min_group_size
from smeb_lti.lti.context import LaunchContext
from smeb_lti.settings import settings
from smeb_lti.surveys import forms, store
from smeb_lti.surveys.errors import NotAllowed, NotFound, PeriodClosed
from smeb_lti.surveys.pages import (
    Tenant,
    check_csrf,
    learner_key,
    link,
    page_launch,
    render_page,
    tenant_of,
    today,
)
from smeb_lti.surveys.periods import FREQUENCIES, ScheduleInvalid, current
from smeb_lti.surveys.results import survey_results, trend_svg
from smeb_lti.surveys.series import directory
from smeb_lti.web.sessions import sessions, transaction

bp = Blueprint("surveys", __name__, static_folder="static", static_url_path="/app/static/surveys")

ANSWER_TOKEN_LABEL = "smeb-survey-answer-token"


@dataclass(frozen=True)
class Access:
    """What one launch may do with one survey."""

    survey: store.Survey
    can_answer: bool
    group_key: str | None
    can_see_results: bool
    visible_groups: set[str] | None  # company keys this viewer may see; None = every company
    group_labels: dict[str, str] | None  # series surveys: company key -> LMS course title


def survey_access(session: Session, context: LaunchContext, survey_id: str) -> Access:
    """Resolve the survey for this launch; another company's survey is a 404, exactly like a missing one."""
    survey = session.get(store.Survey, survey_id)
    if survey is None:
        raise NotFound("there is no such survey for your company: open the survey list again from your LMS")
    tenant = tenant_of(context)
    owner = Tenant(survey.registration_id, survey.deployment_id, survey.context_id)
    if survey.series_id is None:
        if tenant != owner:
            raise NotFound("there is no such survey for your company: open the survey list again from your LMS")
        return Access(survey, True, "company", context.is_instructor, None, None)
    series = directory()
    labels = series.group_labels(session, survey.series_id)
    if tenant == owner:
        if not context.is_instructor:
            raise NotFound("there is no such survey for your company: open the survey list again from your LMS")
        return Access(survey, False, None, True, None, labels)
    key = series.group_key(session, survey.series_id, tenant)
    if key is None:
        raise NotFound("there is no such survey for your company: open the survey list again from your LMS")
    return Access(survey, True, key, context.is_instructor, {key}, labels)


def visible_surveys(session: Session, context: LaunchContext) -> list[store.Survey]:
    tenant = tenant_of(context)
    own = store.tenant_surveys(session, tenant.registration_id, tenant.deployment_id, tenant.context_id)
    series = directory().joined_series(session, tenant)
    if context.is_instructor:
        series += directory().owned_series(session, tenant)
    return own + store.series_surveys(session, sorted(set(series)))


def _answer_token(context: LaunchContext, survey_id: str, period: int) -> str:
    return learner_key(ANSWER_TOKEN_LABEL, context, survey_id, str(period))


def _parse_date(raw: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ScheduleInvalid(f"{field}: write the date as YYYY-MM-DD (for example 2026-12-01)") from None


# -- pages ---------------------------------------------------------------------------------------


@bp.route("/app/<launch_id>/surveys", methods=["GET", "POST"])
def index(launch_id: str) -> Response:
    context = page_launch(launch_id)
    error = None
    status = 200
    if request.method == "POST":
        check_csrf(launch_id)
        if not context.is_instructor:
            raise NotAllowed("only instructors and administrators of this LMS course can schedule surveys")
        tenant = tenant_of(context)
        try:
            template = forms.template(request.form.get("template", ""))
            starts = _parse_date(request.form.get("starts_on", ""), "starts_on")
            ends = _parse_date(request.form.get("ends_on", ""), "ends_on")
            with transaction() as session:
                store.add_survey(session, registration_id=tenant.registration_id, deployment_id=tenant.deployment_id,
                                 context_id=tenant.context_id, template=template.id, frequency=request.form.get("frequency", ""),
                                 starts_on=starts, ends_on=ends)
            return redirect(link(launch_id, f"/app/{launch_id}/surveys?scheduled=1"), code=303)  # type: ignore[return-value]  # werkzeug's redirect() returns its own Response class
        except (ScheduleInvalid, forms.AnswerInvalid) as problem:
            error, status = str(problem), 400
    day = today()
    with sessions()() as session:
        rows = []
        for survey in visible_surveys(session, context):
            period = current(survey.periods(), day)
            answered = period is not None and store.find_answer(session, _answer_token(context, survey.id, period.index)) is not None
            rows.append((survey, forms.TEMPLATES[survey.template], period, answered))
    return render_page("surveys/index.html", context, status=status, rows=rows, error=error, frequencies=FREQUENCIES,
                       templates=forms.TEMPLATES, today=day, scheduled=request.args.get("scheduled") == "1",
                       saved=request.args.get("saved") == "1", form=request.form)


@bp.route("/app/<launch_id>/surveys/<survey_id>", methods=["GET", "POST"])
def answer(launch_id: str, survey_id: str) -> Response:
    context = page_launch(launch_id)
    day = today()
    with sessions()() as session:
        access = survey_access(session, context, survey_id)
        survey = access.survey
        template = forms.TEMPLATES[survey.template]
        period = current(survey.periods(), day)
        existing = None
        if period is not None and access.can_answer:
            row = store.find_answer(session, _answer_token(context, survey.id, period.index))
            existing = json.loads(row.answers) if row is not None else None
    if not access.can_answer:
        raise NotAllowed("you run this series: participants answer from their own company's LMS course")
    values = forms.form_values(template, existing or {})
    error = None
    if request.method == "POST":
        check_csrf(launch_id)
        if period is None:
            raise PeriodClosed("this survey is not open for answers now: the period has closed or has not started")
        try:
            answers = forms.parse_answers(template, request.form)
        except forms.AnswerInvalid as problem:
            error = problem
            values = {k: v for k, v in request.form.items() if k.startswith("q-")}
        else:
            token = _answer_token(context, survey.id, period.index)
            try:
                with transaction() as session:
                    store.save_answer(session, survey, period.index, access.group_key or "company", token, answers)
            except IntegrityError:
                # The same learner's first answer from two tabs at once: the unique token let one in; this one edits it.
                with transaction() as session:
                    store.save_answer(session, survey, period.index, access.group_key or "company", token, answers)
            return redirect(link(launch_id, f"/app/{launch_id}/surveys?saved=1"), code=303)  # type: ignore[return-value]  # werkzeug's redirect() returns its own Response class
    return render_page("surveys/answer.html", context, status=400 if error else 200, survey=survey, template=template,
                       period=period, values=values, error=error, editing=existing is not None)


@bp.get("/app/<launch_id>/surveys/<survey_id>/results")
def results(launch_id: str, survey_id: str) -> Response:
    context = page_launch(launch_id)
    day = today()
    with transaction() as session:
        access = survey_access(session, context, survey_id)
        if not access.can_see_results:
            raise NotAllowed("results are for instructors and administrators of this LMS course")
        survey = access.survey
        store.unlink_closed(session, survey, day)
        closed = [p for p in survey.periods() if p.is_closed(day)]
        rows = store.answers_of(session, survey.id, [p.index for p in closed])
    template = forms.TEMPLATES[survey.template]
    minimum = request_min_size()
    tree = survey_results(template, closed, rows, frequency=survey.frequency, locale=context.locale,
                          group_labels=access.group_labels, visible_groups=access.visible_groups, min_size=minimum)
    charts = []
    for i, question in enumerate(template.questions):
        if question.kind not in ("scale", "likert"):
            continue
        points = []
        for node in tree.children:
            if node.restricted:  # a company admin in a series: the trend of their own company
                node = node.children[0] if node.children else node
            stat = node.stats[i] if node.shown else None
            points.append((node.label, stat.mean if stat else None))
        charts.append((i, question, Markup(trend_svg(question, points, context.locale, f"trend-{question.id}")), points))
    return render_page("surveys/results.html", context, survey=survey, template=template, tree=tree, charts=charts,
                       open_period=current(survey.periods(), day), min_size=minimum)


def request_min_size() -> int:
    return min_group_size(settings().min_group_size)
