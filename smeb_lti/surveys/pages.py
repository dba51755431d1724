"""Page helpers shared by the pages under ``/app/<launch_id>/...`` (surveys and workshops).

For a learner's launch the launch id in the URL is the capability (no cookie inside LMS iframes). A
staff launch's pages (results, scheduling, the facilitator's series, attendance with participants'
names, the run-sheet) also need the browser that did the launch (:func:`page_launch`, issue 13 item 9,
:mod:`smeb_lti.lti.binding`): a leaked URL gets the 403 "open it again from the LMS" page. The company
(tenant) is always taken from the stored launch, never from the URL or the form. State-changing forms
carry a per-launch CSRF token (an HMAC of the launch id), checked on every POST.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, request

from smeb_lti.lti import binding
from smeb_lti.lti.context import LaunchContext
from smeb_lti.lti.errors import LaunchNotFound
from smeb_lti.lti.launches import get_launch
from smeb_lti.settings import settings
from smeb_lti.surveys.errors import AppError, CsrfInvalid, NoCompany
from smeb_lti.web import headers, keys, pages
from smeb_lti.web.csrf import FIELD as CSRF_FIELD
from smeb_lti.web.csrf import Csrf
from smeb_lti.web.sessions import sessions

OSLO = ZoneInfo("Europe/Oslo")
CSRF = Csrf("smeb-app-csrf", header="X-SMEB-CSRF", purpose_key=True)
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'")


@dataclass(frozen=True)
class Tenant:
    """A company: one LMS course context at one platform deployment (never taken from the URL)."""

    registration_id: int
    deployment_id: str
    context_id: str


def launch_of(launch_id: str) -> LaunchContext:
    with sessions()() as session:
        return get_launch(session, launch_id)


def page_launch(launch_id: str) -> LaunchContext:
    """The launch of a page request; a staff launch's pages open only in the browser that did the launch.

    Every page and form of a staff launch here shows or changes what only staff may (schedules, results,
    join codes, participants' names, attendance), so the check covers all of them, before anything is
    looked up: a leaked URL learns nothing, not even whether a survey id exists. Raises
    :class:`smeb_lti.lti.binding.BrowserNotBound` (403, the LTI error page). Learners' pages stay bearer
    URLs (docs/lti.md, "Limits").
    """
    context = launch_of(launch_id)
    if context.is_instructor:
        binding.require_bound_browser(launch_id)
    return context


def link(launch_id: str, url: str) -> str:
    """``url`` for a redirect of this launch: with a fresh single-use ticket when the request came by ticket."""
    return binding.staff_link(launch_id, url)


def tenant_of(context: LaunchContext) -> Tenant:
    if not context.context_id:
        raise NoCompany("this LMS link has no course context: add the SMEB tool inside a course of your LMS")
    return Tenant(context.registration_id, context.deployment_id, context.context_id)


def csrf_token(launch_id: str) -> str:
    return CSRF.token(launch_id)


def check_csrf(launch_id: str) -> None:
    if not CSRF.valid(launch_id):
        raise CsrfInvalid("the form is missing its security token (or it belongs to another launch): "
                          "open the page again from your LMS and send the form again")


def learner_key(label: str, context: LaunchContext, *parts: str) -> str:
    """A keyed HMAC of the learner (issuer + sub) and ``parts``: stable, but useless without the server's key."""
    return keys.sign(label, b"\x00".join(p.encode("utf-8") for p in (context.issuer, context.subject, *parts)))


def today() -> dt.date:
    """Today in Norway; ``SMEB_TODAY`` (ISO date) pins it for tests and rehearsals of a schedule."""
    return settings().today or dt.datetime.now(OSLO).date()


def render_page(template_name: str, context: LaunchContext, status: int = 200, **values: Any) -> Response:
    response = pages.render(template_name, lang=context.locale, status=status, launch_id=context.launch_id,
                            csrf=CSRF.token(context.launch_id), csrf_field=CSRF_FIELD, ctx=context, **values)
    return headers.protect(response, CSP)


def error_page(error: AppError) -> Response:
    lang = "nb"
    launch_id = (request.view_args or {}).get("launch_id")
    if launch_id:
        try:
            lang = launch_of(launch_id).locale
        except LaunchNotFound:  # the error page still renders, in Norwegian
            lang = "nb"
    return headers.protect(pages.render("surveys/error.html", lang=lang, status=error.status, message=error.message), CSP)
