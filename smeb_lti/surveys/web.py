"""Edge helpers shared by the pages under ``/app/<launch_id>/...`` (surveys and workshops).

For a learner's launch the launch id in the URL is the capability (no cookie inside LMS iframes). A
staff launch's pages (results, scheduling, the facilitator's series, attendance with participants'
names, the run-sheet) also need the browser that did the launch (:func:`page_launch`, issue 13 item 9,
:mod:`smeb_lti.lti.binding`): a leaked URL gets the 403 "open it again from the LMS" page. The company
(tenant) is always taken from the stored launch, never from the URL or the form. State-changing forms
carry a per-launch CSRF token (an HMAC of the launch id), checked on every POST.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, request
from sqlalchemy.orm import Session, sessionmaker

from smeb_lti.lti import binding
from smeb_lti.lti.context import LaunchContext
from smeb_lti.lti.errors import LaunchNotFound
from smeb_lti.lti.launches import get_launch

OSLO = ZoneInfo("Europe/Oslo")
CSRF_FIELD = "csrf"
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'")


class AppError(Exception):
    """Base class: a request under ``/app/<launch_id>/`` refused; ``status`` is the HTTP status."""

    status = 400

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotFound(AppError):
    """404: no such survey/series for this company (also what another company's ids look like)."""

    status = 404


class NotAllowed(AppError):
    """403: the launch's role may not do this (e.g. a learner opening results)."""

    status = 403


class CsrfInvalid(AppError):
    """403: the form lacks this launch's CSRF token: reload the page from the LMS and send it again."""

    status = 403


class NoCompany(AppError):
    """400: the LMS link has no course context, so the company cannot be told apart."""


@dataclass(frozen=True)
class Tenant:
    """A company: one LMS course context at one platform deployment (never taken from the URL)."""

    registration_id: int
    deployment_id: str
    context_id: str


def sessions() -> sessionmaker[Session]:
    return current_app.extensions["smeb.sessions"]  # type: ignore[no-any-return]


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


def _secret(label: bytes) -> bytes:
    secret = current_app.config.get("SECRET_KEY")
    if not secret:
        raise RuntimeError("SECRET_KEY is not set: smeb_lti.lti.init_app must run before the surveys and workshops")
    return hmac.new(str(secret).encode("utf-8"), label, hashlib.sha256).digest()


def csrf_token(launch_id: str) -> str:
    return hmac.new(_secret(b"smeb-app-csrf"), launch_id.encode("ascii", "replace"), hashlib.sha256).hexdigest()


def check_csrf(launch_id: str) -> None:
    sent = request.form.get(CSRF_FIELD, "") or request.headers.get("X-SMEB-CSRF", "")
    if not sent or not hmac.compare_digest(sent, csrf_token(launch_id)):
        raise CsrfInvalid("the form is missing its security token (or it belongs to another launch): "
                          "open the page again from your LMS and send the form again")


def learner_key(label: bytes, context: LaunchContext, *parts: str) -> str:
    """A keyed HMAC of the learner (issuer + sub) and ``parts``: stable, but useless without the server's key."""
    message = b"\x00".join(p.encode("utf-8") for p in (context.issuer, context.subject, *parts))
    return hmac.new(_secret(label), message, hashlib.sha256).hexdigest()


def today() -> dt.date:
    """Today in Norway; ``SMEB_TODAY`` (ISO date, app config) pins it for tests and rehearsals of a schedule."""
    pinned = current_app.config.get("SMEB_TODAY")
    if pinned:
        return dt.date.fromisoformat(str(pinned))
    return dt.datetime.now(OSLO).date()


def render_page(template_name: str, context: LaunchContext, status: int = 200, **values: Any) -> Response:
    nb = context.locale == "nb"
    response = Response(render_template(template_name, lang=context.locale, nb=nb, launch_id=context.launch_id,
                                        csrf=csrf_token(context.launch_id), csrf_field=CSRF_FIELD, ctx=context, **values),
                        status=status, mimetype="text/html")
    return secure(response)


def secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the launch id is in the URL
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def error_page(error: AppError) -> Response:
    lang = "nb"
    launch_id = (request.view_args or {}).get("launch_id")
    if launch_id:
        try:
            lang = launch_of(launch_id).locale
        except LaunchNotFound:  # the error page still renders, in Norwegian
            lang = "nb"
    response = Response(render_template("surveys/error.html", lang=lang, nb=lang == "nb", message=error.message),
                        status=error.status, mimetype="text/html")
    return secure(response)
