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
import os
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request

from smeb_lti.usage.store import MonthInvalid, OperatorOnly, UsageError, parse_month

bp = Blueprint("usage", __name__, template_folder="templates")

SETTING = "SMEB_OPERATOR_TOKEN"
MIN_TOKEN = 32
CSP = ("default-src 'none'; style-src 'self'; script-src 'none'; img-src 'self'; connect-src 'none'; "
       "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
MIMETYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class OperatorTokenInvalid(ValueError):
    """``SMEB_OPERATOR_TOKEN`` is set but too short (the message names the variable)."""


def operator_token(value: Any) -> str | None:
    """The configured token, validated: unset/empty = the page is off."""
    if value is None or str(value) == "":
        return None
    token = str(value)
    if len(token) < MIN_TOKEN:
        raise OperatorTokenInvalid(f"{SETTING} must be at least {MIN_TOKEN} characters (e.g. `python -c \"import secrets; "
                                   f"print(secrets.token_urlsafe(32))\"`), got {len(token)}")
    return token


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _require_operator() -> None:
    token: str | None = current_app.extensions["smeb.operator_token"]
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
        raise OperatorOnly(f"the usage page is for SMEB's operators: sign in with the operator token ({SETTING}) as password")


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
    from smeb_lti.usage.report import kroner, usage_for_month

    _require_operator()
    month = _month()
    with current_app.extensions["smeb.sessions"]() as session:
        rows = usage_for_month(session, month)
    lang = _lang()
    totals = {"active": sum(r.active_users for r in rows), "amount": kroner(sum(r.amount_ore for r in rows))}
    body = render_template("usage/operator.html", lang=lang, nb=lang == "nb", month=month, rows=rows, kr=kroner, totals=totals)
    return _secure(Response(body, mimetype="text/html"))


@bp.get("/operator/usage.<fmt>")
def download(fmt: str) -> Response:
    from smeb_lti.usage.report import render, usage_for_month

    _require_operator()
    if fmt not in MIMETYPES:
        abort(404)
    month = _month()
    with current_app.extensions["smeb.sessions"]() as session:
        rows = usage_for_month(session, month)
    response = Response(render(rows, fmt, month), mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="smeb-bruk-{month}.{fmt}"'
    return _secure(response)


def _error(error: UsageError) -> Response:
    lang = _lang()
    # The dashboard's error page serves both: one page for "not available" until issue 15 brings one base template.
    body = render_template("dashboard/error.html", lang=lang, nb=lang == "nb", message=error.message)
    response = _secure(Response(body, status=error.status, mimetype="text/html"))
    if isinstance(error, OperatorOnly):
        response.headers["WWW-Authenticate"] = 'Basic realm="SMEB operator", charset="UTF-8"'
    return response


def init_app(app: Flask) -> None:
    # Read once at start; a too-short token stops the start with a message naming the variable.
    app.extensions["smeb.operator_token"] = operator_token(app.config.get(SETTING, os.environ.get(SETTING)))
    app.register_blueprint(bp)
    app.register_error_handler(MonthInvalid, _error)
    app.register_error_handler(OperatorOnly, _error)


__all__ = ["OperatorTokenInvalid", "init_app", "operator_token"]
