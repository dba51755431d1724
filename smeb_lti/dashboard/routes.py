"""The pages of the company dashboard and the learner's certificate page (Flask edge), under ``/app/<launch_id>/``.

* ``GET  /app/<launch_id>/dashboard``               instructors/administrators of the company's LMS course:
  who started and completed which course, progress, scores, certificates, skills inventory, survey
  aggregates, charts; filters ``course``, ``since``, ``until``, ``team`` in the query string.
* ``GET  /app/<launch_id>/dashboard/export.csv|.xlsx`` the same rows (same filters), Norwegian headers.
* ``POST /app/<launch_id>/dashboard/team``          an administrator puts a learner in a team.
* ``GET  /app/<launch_id>/certificate``             the learner's own certificate of the launched course:
  PDF, verification page, LinkedIn "Add to profile" (the player's summary links here).

The company (tenant) is always the stored launch's registration + deployment + context, never a value
from the URL, the query or the form. Learners get 403 on every dashboard URL. See docs/dashboard.md.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import (
    Blueprint,
    Response,
    redirect,
    request,
)
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from content.model import Course
from smeb_lti.aggregates import min_group_size
from smeb_lti.certificates.issue import list_certificates
from smeb_lti.certificates.linkedin import add_to_profile_url
from smeb_lti.certificates.model import Tenant, certificates
from smeb_lti.courses.launched import CourseNotInstalled, course_of_launch, installed_courses
from smeb_lti.dashboard import charts, comparison, report
from smeb_lti.dashboard.errors import CsrfInvalid, DashboardError, NotStaff
from smeb_lti.dashboard.store import (
    DashboardTenant,
    assign_team,
    assigned_teams,
    members,
    record_launch,
)
from smeb_lti.lti import binding
from smeb_lti.lti.context import LaunchContext
from smeb_lti.lti.errors import LtiError
from smeb_lti.lti.launches import get_claims, get_launch
from smeb_lti.play.completion import public_base
from smeb_lti.play.store import Progress
from smeb_lti.reports.export import to_csv, to_xlsx
from smeb_lti.settings import settings
from smeb_lti.surveys import forms
from smeb_lti.surveys import store as survey_store
from smeb_lti.surveys.results import survey_results
from smeb_lti.usage.store import Company
from smeb_lti.web import headers, pages
from smeb_lti.web.csrf import FIELD as CSRF_FIELD
from smeb_lti.web.csrf import Csrf
from smeb_lti.web.sessions import sessions, transaction

log = logging.getLogger(__name__)

bp = Blueprint("dashboard", __name__, static_folder="static", static_url_path="/app/static/dashboard")

CSP = ("default-src 'none'; style-src 'self'; script-src 'none'; img-src 'self'; connect-src 'none'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'")
CSRF = Csrf("smeb-dashboard-csrf")


def csrf_token(launch_id: str) -> str:
    return CSRF.token(launch_id)


def _secure(response: Response) -> Response:
    return headers.protect(response, CSP)


def _staff_launch(launch_id: str) -> LaunchContext:
    with sessions()() as session:
        context = get_launch(session, launch_id)
    if not context.is_instructor:
        raise NotStaff("the dashboard is for instructors and administrators of the company's course in the LMS")
    # Every learner's name and progress: only for the browser that did this launch (smeb_lti.lti.binding).
    binding.require_bound_browser(launch_id)
    return context


# -- reading one company's data ----------------------------------------------------------------


def _courses(session: Session) -> dict[str, report.CourseInfo]:
    return {found.course.slug: report.course_info(found.course.slug, found.course) for found in installed_courses(session)}


def company_rows(session: Session, context: LaunchContext) -> tuple[list[report.Row], dict[str, report.CourseInfo]]:
    """Every (learner, course) row of the launch's company; nothing of any other company is read."""
    tenant = DashboardTenant.of(context)
    teams = assigned_teams(session, tenant)
    people = [
        report.MemberInfo(m.subject, m.course_key, m.name, teams.get(m.subject) or m.lms_team, m.first_seen)
        for m in members(session, tenant)
    ]
    keys = {(m.subject, m.course_key) for m in people}
    subjects = sorted({m.subject for m in people})
    progress: dict[tuple[str, str], report.ProgressInfo] = {}
    for start in range(0, len(subjects), 500):
        rows = session.scalars(select(Progress).where(Progress.registration_id == tenant.registration_id,
                                                      Progress.subject.in_(subjects[start:start + 500])))
        for row in rows:
            if (row.subject, row.course_key) in keys:
                progress[(row.subject, row.course_key)] = report.ProgressInfo(
                    row.progress, row.completed, row.passed, row.points, row.max_points, row.started_at, row.completed_at)
    # Certificates are scoped by issuer + deployment + context (their table has no registration), so they are
    # also kept to the learners of THIS registration's company: another registration sharing the issuer cannot match.
    known = set(subjects)
    cert_rows = session.execute(
        select(certificates.c.id, certificates.c.learner_subject, certificates.c.course_id, certificates.c.issued_on,
               certificates.c.revoked_at).where(Tenant.from_launch(context).where()))
    found = [report.CertificateInfo(r.id, r.learner_subject, r.course_id, r.issued_on, r.revoked_at is not None)
             for r in cert_rows if r.learner_subject in known]
    courses = _courses(session)
    unnamed = "(uten navn)" if context.locale == "nb" else "(no name)"
    return report.build_rows(people, progress, found, courses, unnamed=unnamed), courses


def survey_summaries(session: Session, context: LaunchContext, filters: report.Filters, today: dt.date) -> list[dict[str, Any]]:
    """The company's own surveys as aggregates that passed :func:`smeb_lti.aggregates.publishable`.

    The group tree is always ALL closed periods → each closed period, computed over everything (never over
    the filtered periods): the period filter only picks which published nodes are shown, and a subset of a
    safe publication is safe. A filtered "total" would be a second tree whose difference with the first
    could reveal a suppressed period. Answers carry no person or team, so there is no team breakdown.
    """
    tenant = DashboardTenant.of(context)
    minimum = min_group_size(settings().min_group_size)
    out = []
    for survey in survey_store.tenant_surveys(session, tenant.registration_id, tenant.deployment_id, tenant.context_id):
        template = forms.TEMPLATES.get(survey.template)
        if template is None:
            continue
        closed = [p for p in survey.periods() if p.is_closed(today)]
        rows = survey_store.answers_of(session, survey.id, [p.index for p in closed])
        tree = survey_results(template, closed, rows, frequency=survey.frequency, locale=context.locale, min_size=minimum)
        numeric = [(i, q) for i, q in enumerate(template.questions) if q.kind in ("scale", "likert")]

        def node_view(node: Any, numeric: list[tuple[int, Any]] = numeric) -> dict[str, Any]:
            means = [(q.prompt.get(context.locale) or q.prompt["nb"], node.stats[i].mean if node.shown else None, q.top)
                     for i, q in numeric]
            return {"label": node.label, "shown": node.shown, "n": node.n if node.shown else None, "means": means}

        periods = []
        for period, node in zip(closed, tree.children):
            if filters.since and period.last < filters.since:
                continue
            if filters.until and period.first > filters.until:
                continue
            periods.append(node_view(node))
        out.append({"id": survey.id, "title": template.title.get(context.locale) or template.title["nb"],
                    "total": node_view(tree), "periods": periods, "min_size": minimum})
    return out


def company_comparison(context: LaunchContext) -> list[tuple[comparison.Quarter, list[comparison.Figure]]]:
    """The launch's company beside all companies, per closed quarter (frozen on first view, so it commits)."""
    tenant = DashboardTenant.of(context)  # no course context: no company to compare
    company_id = Company(context.issuer, tenant.deployment_id, tenant.context_id).company_id
    with transaction() as session:
        return comparison.comparison(session, company_id, _today(), settings().min_group_size)


def _today() -> dt.date:
    return settings().today or dt.datetime.now(dt.UTC).date()


# -- pages -------------------------------------------------------------------------------------


def _render(template: str, context: LaunchContext, status: int = 200, **values: Any) -> Response:
    return _secure(pages.render(template, lang=context.locale, status=status, launch_id=context.launch_id, ctx=context,
                                csrf=CSRF.token(context.launch_id), csrf_field=CSRF_FIELD, **values))


def _filtered(context: LaunchContext) -> tuple[report.Filters, list[report.Row], list[report.Row], dict[str, report.CourseInfo]]:
    filters = report.parse_filters(request.args)
    with sessions()() as session:
        rows, courses = company_rows(session, context)
    return filters, rows, report.apply_filters(rows, filters), courses


@bp.get("/app/<launch_id>/dashboard")
def dashboard(launch_id: str) -> Response:
    context = _staff_launch(launch_id)
    filters, everyone, rows, courses = _filtered(context)
    totals = report.per_course(rows, context.locale)
    months = report.completions_by_month(rows, filters)
    with sessions()() as session:
        surveys = survey_summaries(session, context, filters, _today())
    compared = company_comparison(context)  # never given the filters: see smeb_lti/dashboard/comparison.py
    query = urlencode(filters.query())
    course_options = sorted({r.course_key.split("/", 1)[0] for r in everyone} | set(courses),
                            key=lambda slug: (courses[slug].title(context.locale) if slug in courses else slug).casefold())
    return _render(
        "dashboard/dashboard.html", context, filters=filters, rows=rows, totals=totals, months=months,
        per_course_svg=Markup(charts.per_course_svg(totals, context.locale)),
        over_time_svg=Markup(charts.over_time_svg(months, context.locale)),
        skills=report.skills(rows, context.locale), teams=report.teams(everyone), courses=courses, course_options=course_options,
        surveys=surveys, query=("?" + query) if query else "", people=_people(everyone),
        can_assign=True, compared=compared, comparison_labels=comparison.labels(context.locale),
    )


def _people(rows: list[report.Row]) -> list[tuple[str, str, str | None]]:
    """``(subject, name, team)`` once per learner, for the team form."""
    seen: dict[str, tuple[str, str, str | None]] = {}
    for row in rows:
        seen.setdefault(row.subject, (row.subject, row.name, row.team))
    return sorted(seen.values(), key=lambda p: (p[1].casefold(), p[0]))


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _secure(response)


@bp.get("/app/<launch_id>/dashboard/export.csv")
def export_csv(launch_id: str) -> Response:
    context = _staff_launch(launch_id)
    _filters, _everyone, rows, _ = _filtered(context)
    # UTF-8 with BOM: what Norwegian Excel opens without an import dialog (same as reports.export.write_csv).
    text = to_csv(rows, report.EXPORT_COLUMNS)  # type: ignore[arg-type]  # any rows work with explicit columns
    return _download(("\ufeff" + text).encode("utf-8"), "text/csv; charset=utf-8", f"smeb-framdrift-{_today().isoformat()}.csv")


@bp.get("/app/<launch_id>/dashboard/export.xlsx")
def export_xlsx(launch_id: str) -> Response:
    context = _staff_launch(launch_id)
    _filters, _everyone, rows, _ = _filtered(context)
    book = to_xlsx(rows, "Framdrift", report.EXPORT_COLUMNS)  # type: ignore[arg-type]  # any rows work with explicit columns
    return _download(book, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"smeb-framdrift-{_today().isoformat()}.xlsx")


@bp.post("/app/<launch_id>/dashboard/team")
def set_team(launch_id: str) -> Response:
    context = _staff_launch(launch_id)
    if not CSRF.valid(launch_id):
        raise CsrfInvalid("the form is missing its security token (or it belongs to another launch): open the dashboard again from your LMS")
    subject = request.form.get("subject", "")
    team = request.form.get("team", "")
    with transaction() as session:
        assign_team(session, DashboardTenant.of(context), subject, None if "remove" in request.form else team, dt.datetime.now(dt.UTC))
    back = request.form.get("back", "")
    # The ticket a cookie-less browser came with is used up: drop any old one from ``back``, add a fresh one.
    query = [(k, v) for k, v in parse_qsl(back[1:], keep_blank_values=True) if k != binding.TICKET] if back.startswith("?") else []
    target = f"/app/{launch_id}/dashboard" + (f"?{urlencode(query)}" if query else "")
    return _secure(redirect(binding.staff_link(launch_id, target) + "#teams", code=303))  # type: ignore[arg-type]  # flask.redirect returns werkzeug's Response, which _secure handles alike


@bp.get("/app/<launch_id>/certificate")
def my_certificate(launch_id: str) -> Response:
    """The learner's certificate(s) of this launch's course in this company, with the PDF, verification and LinkedIn links."""
    with sessions()() as session:
        context = get_launch(session, launch_id)
        try:
            course: Course | None = course_of_launch(session, context).installed
        except CourseNotInstalled:
            course = None
        found = []
        if course is not None and context.context_id:
            found = list_certificates(session, Tenant.from_launch(context), learner_subject=context.subject,
                                      course_id=course.id, base_url=public_base())
    items = []
    for cert in found:
        items.append({"cert": cert, "pdf": f"/certificates/{launch_id}/{cert.id}.pdf", "verify": cert.verification_url,
                      "linkedin": add_to_profile_url(cert, cert.verification_url)})
    title = course.title.get(context.locale) if course else ""
    return _render("dashboard/certificate.html", context, items=items, course_title=title, has_course=course is not None,
                   certificate_course=bool(course and course.certificate))


# -- recording who launched what ---------------------------------------------------------------


def record_player_launch(response: Response) -> Response:
    """After the player page was served to a launch, remember the learner as a member of the launch's company.

    The player page is where every course launch lands (``/lti/launch`` redirects there), so this sees
    every learner without a change to the LTI layer. A failure here is logged and never breaks the page.
    """
    if request.endpoint != "play.player_page" or response.status_code != 200:
        return response
    launch_id = (request.view_args or {}).get("launch_id", "")
    try:
        with transaction() as session:
            context = get_launch(session, launch_id)
            if not context.is_instructor and context.context_id:
                record_launch(session, context, get_claims(session, launch_id), dt.datetime.now(dt.UTC))
    except SQLAlchemyError:
        log.exception("could not record the launch %s… for the dashboard", launch_id[:6])
    return response


def error_page(error: DashboardError) -> Response:
    lang = "nb"
    launch_id = (request.view_args or {}).get("launch_id")
    if launch_id:
        try:
            with sessions()() as session:
                lang = get_launch(session, launch_id).locale
        except LtiError:  # an unknown launch: the error page still renders, in Norwegian
            lang = "nb"
    return _secure(pages.render("dashboard/error.html", lang=lang, status=error.status, message=error.message))
