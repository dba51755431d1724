"""The operator's usage page: ``GET /operator/usage?month=YYYY-MM[&lang=en]`` and its downloads.

Who is an operator: the tool has no operator accounts (operators use the ``smeb`` command on the
server). The page is therefore off unless ``SMEB_OPERATOR_TOKEN`` is set (≥ 32 characters); then it
asks for HTTP Basic credentials (any user name, the token as password), compared in constant time.
Without the setting every ``/operator/`` URL answers 404, so an installation that never set it shows
nothing. No learner names or ids are on the page or in the downloads — counts only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac

from flask import Blueprint, Flask, Response, abort, request

from smeb_lti import errors
from smeb_lti.settings import settings
from smeb_lti.usage.report import kroner, render, usage_for_month
from smeb_lti.usage.store import MonthInvalid, OperatorOnly, UsageError, parse_month
from smeb_lti.web import headers, pages
from smeb_lti.web.sessions import sessions

bp = Blueprint("usage", __name__, template_folder="templates")

CSP = ("default-src 'none'; style-src 'self'; script-src 'none'; img-src 'self'; connect-src 'none'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
MIMETYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _secure(response: Response) -> Response:
    # frame-ancestors 'none' in the CSP also brings X-Frame-Options: DENY (smeb_lti.web.headers).
    return headers.protect(response, CSP)


def _require_operator() -> None:
    token = settings().operator_token  # SMEB_OPERATOR_TOKEN, at least 32 characters (checked at start)
    if token is None:
        abort(404)  # the page does not exist where the operator did not turn it on
    header = request.headers.get("Authorization", "")
    sent = b""
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True)
            sent = decoded.split(b":", 1)[1] if b":" in decoded else b""
        except (binascii.Error, ValueError):
            sent = b""
    if not sent or not hmac.compare_digest(sent, token.encode("utf-8")):
        raise OperatorOnly("the usage page is for SMEB's operators: sign in with the operator token (SMEB_OPERATOR_TOKEN) as password")


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "nb"


def _month() -> str:
    raw = request.args.get("month")
    if not raw:
        today = dt.datetime.now(dt.UTC).date()
        last = today.replace(day=1) - dt.timedelta(days=1)  # default: the last whole month, what gets invoiced
        return last.strftime("%Y-%m")
    return parse_month(raw).strftime("%Y-%m")


@bp.get("/operator/usage")
def page() -> Response:
    _require_operator()
    month = _month()
    with sessions()() as session:
        rows = usage_for_month(session, month)
    lang = _lang()
    totals = {"active": sum(r.active_users for r in rows), "amount": kroner(sum(r.amount_ore for r in rows))}
    return _secure(pages.render("usage/operator.html", lang=lang, month=month, rows=rows, kr=kroner, totals=totals))


@bp.get("/operator/usage.<fmt>")
def download(fmt: str) -> Response:
    _require_operator()
    if fmt not in MIMETYPES:
        abort(404)
    month = _month()
    with sessions()() as session:
        rows = usage_for_month(session, month)
    response = Response(render(rows, fmt, month), mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="smeb-bruk-{month}.{fmt}"'
    return _secure(response)


def _error(error: UsageError) -> Response:
    lang = _lang()
    # The dashboard's error page serves both: one page for "not available" until issue 15 brings one base template.
    response = _secure(pages.render("dashboard/error.html", lang=lang, status=error.status, message=error.message))
    if isinstance(error, OperatorOnly):
        response.headers["WWW-Authenticate"] = 'Basic realm="SMEB operator", charset="UTF-8"'
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    errors.answer_with(app, MonthInvalid, _error)
    errors.answer_with(app, OperatorOnly, _error)


__all__ = ["init_app"]
