"""The journal's Flask edge: the page, its two static files and a small JSON API under ``/app/<launch_id>/journal``.

* ``GET  /app/<id>/journal``                    the page (server-rendered shell; all crypto in journal.js)
* ``GET  /app/<id>/journal/static/<file>``      journal.js, journal.css
* ``GET|PUT /app/<id>/journal/api/keyring``     wrapped keys + KDF parameters (PUT: set up / change passphrase)
* ``GET|POST /app/<id>/journal/api/entries``    the learner's encrypted entries of this course / a new one
* ``PUT|DELETE /app/<id>/journal/api/entries/<uuid>``  conditional on the version being replaced

Every API request carries ``X-SMEB-Journal-Token`` (an HMAC of the launch id only the page knows: the CSRF
guard) and JSON bodies that :mod:`smeb_lti.journal.schema` checks strictly. Every response is ``no-store``,
``no-referrer`` (the launch id is in the URL) and under a CSP that allows nothing but our own files.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    jsonify,
    render_template,
    request,
)
from sqlalchemy.orm import Session

from content.model import ReflectionBlock
from smeb_lti import errors
from smeb_lti.courses.launched import CourseNotInstalled, LaunchedCourse, course_of_launch
from smeb_lti.identity import actor_for
from smeb_lti.journal import schema, store
from smeb_lti.journal.errors import (
    JournalError,
    JournalInputError,
    JournalTokenInvalid,
    KeyringMissing,
)
from smeb_lti.lti.context import LaunchContext
from smeb_lti.lti.launches import get_launch
from smeb_lti.routing import destinations_for, queue_statement, scope_of
from smeb_lti.web import headers
from smeb_lti.web.csrf import Csrf
from smeb_lti.web.sessions import sessions, transaction
from xapi import statements as xb

bp = Blueprint("journal", __name__)

TOKEN_HEADER = "X-SMEB-Journal-Token"
CSRF = Csrf("smeb-journal", form_field=None, header=TOKEN_HEADER)
# Every response of the journal (pages, files, API answers, errors): nothing but our own files, framed by the LMS.
CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
       f"form-action 'self'; frame-ancestors {headers.FRAME_ANCESTORS}; base-uri 'none'")
headers.policy(bp, CSP)
STATIC_FILES = ("journal.js", "journal.css")
JOURNAL_NAME = {"nb": "Refleksjonsjournal", "en": "Reflection journal"}


@dataclass(frozen=True)
class Prompt:
    block_id: str
    text: str
    activity: xb.Activity


@dataclass(frozen=True)
class JournalLaunch:
    context: LaunchContext
    owner: store.Owner
    course_key: str  # the course slug ("" when the link names no installed course: free entries only)
    course_iri: str | None
    course_title: str
    prompts: tuple[Prompt, ...]


def journal_token(launch_id: str) -> str:
    """The CSRF token of this launch's journal page."""
    return CSRF.token(launch_id)


def _launch(launch_id: str) -> JournalLaunch:
    with sessions()() as session:
        context = get_launch(session, launch_id)
        try:
            launched: LaunchedCourse | None = course_of_launch(session, context)
        except CourseNotInstalled:
            launched = None  # the journal works without a course: no prompts then
    prompts: list[Prompt] = []
    title, iri = "", None
    if launched is not None:
        course = launched.installed  # the journal covers the whole course, also under a link to one module
        iri, title = course.id, course.title.get(context.locale)
        for block in course.blocks():
            if isinstance(block, ReflectionBlock):
                prompts.append(Prompt(block.id, block.prompt.get(context.locale),
                                      xb.Activity(course.activity_id(block.id), name=block.prompt.to_dict())))
    owner = store.Owner(context.registration_id, context.subject)
    return JournalLaunch(context, owner, launched.slug if launched is not None else "", iri, title, tuple(prompts))


def _check_token(launch_id: str) -> None:
    """The CSRF guard, and no query string: the API reads nothing from the URL (which servers log)."""
    if request.args:
        name = min(request.args)
        raise JournalInputError(f"?{name}: the journal API takes no query parameters (URLs end up in logs)", field=f"?{name}")
    if not CSRF.valid(launch_id):
        raise JournalTokenInvalid(f"missing or wrong {TOKEN_HEADER}: the journal API answers only its own page")


def _body() -> Any:
    if (request.content_length or 0) > schema.MAX_BODY_BYTES or len(request.get_data(cache=True)) > schema.MAX_BODY_BYTES:
        raise JournalInputError(f"$: the body is larger than {schema.MAX_BODY_BYTES} bytes", field="$")
    if request.mimetype != "application/json":
        raise JournalInputError("$: send JSON (Content-Type: application/json)", field="$")
    try:
        return json.loads(request.get_data(cache=True).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise JournalInputError("$: the body is not valid JSON", field="$") from None



def _statement(session: Session, launched: JournalLaunch, entry: store.JournalEntry) -> None:
    """``reflected`` for a new entry: that a reflection happened and on which prompt, never what it says."""
    if launched.course_iri is None:
        return

    scope = scope_of(launched.context)
    if not destinations_for(session, scope):
        return
    prompt = next((p for p in launched.prompts if p.block_id == entry.block_id), None)
    activity = prompt.activity if prompt else xb.Activity(launched.course_iri.rstrip("/") + "/journal", name=JOURNAL_NAME)
    ctx = xb.StatementContext(course_id=launched.course_iri, language=launched.context.locale)
    statement_id = str(uuid.uuid5(uuid.UUID(entry.entry_id), "reflected"))  # a replay could never make a second one
    statement = xb.reflection_written(actor_for(launched.context), activity, ctx, statement_id=statement_id,
                                      timestamp=xb.utc_timestamp(entry.created_at))
    queue_statement(session, statement, scope)


# -- the page ----------------------------------------------------------------------------------


@bp.get("/app/<launch_id>/journal")
def page(launch_id: str) -> Response:
    launched = _launch(launch_id)
    lang = launched.context.locale
    html = render_template(
        "journal/journal.html", lang=lang, nb=lang == "nb", launch_id=launch_id, token=journal_token(launch_id),
        token_header=TOKEN_HEADER, api=f"/app/{launch_id}/journal/api", static=f"/app/{launch_id}/journal/static",
        course_title=launched.course_title, prompts=launched.prompts, min_iterations=schema.MIN_ITERATIONS,
        forum=f"/app/{launch_id}/forum", player=f"/play/{launch_id}" if launched.course_iri else None,
    )
    return Response(html, mimetype="text/html")


@bp.get("/app/<launch_id>/journal/static/<name>")
def static_file(launch_id: str, name: str) -> Response:
    if name not in STATIC_FILES:
        abort(404)
    with sessions()() as session:
        get_launch(session, launch_id)
    text = (resources.files("smeb_lti.journal") / "static" / name).read_text(encoding="utf-8")
    return Response(text, mimetype="text/javascript" if name.endswith(".js") else "text/css")


# -- the API -----------------------------------------------------------------------------------


@bp.get("/app/<launch_id>/journal/api/keyring")
def get_keyring(launch_id: str) -> Response:
    _check_token(launch_id)
    launched = _launch(launch_id)
    with sessions()() as session:
        row = store.get_keyring(session, launched.owner)
        if row is None:
            raise KeyringMissing("no journal yet: set it up with a passphrase and a recovery code")
        return jsonify(store.keyring_dict(row))


@bp.put("/app/<launch_id>/journal/api/keyring")
def put_keyring(launch_id: str) -> Response:
    _check_token(launch_id)
    launched = _launch(launch_id)
    raw = _body()
    with transaction() as session:
        first = store.get_keyring(session, launched.owner) is None
        data = schema.parse_keyring(raw, first=first)
        row = store.put_keyring(session, launched.owner, data, datetime.now(UTC))
        body = store.keyring_dict(row)
    response = jsonify(body)
    response.status_code = 201 if first else 200
    return response


@bp.get("/app/<launch_id>/journal/api/entries")
def list_entries(launch_id: str) -> Response:
    _check_token(launch_id)
    launched = _launch(launch_id)
    with sessions()() as session:
        rows = store.list_entries(session, launched.owner, launched.course_key)
        return jsonify({"entries": [store.entry_dict(r) for r in rows]})


@bp.post("/app/<launch_id>/journal/api/entries")
def create_entry(launch_id: str) -> Response:
    _check_token(launch_id)
    launched = _launch(launch_id)
    data = schema.parse_entry(_body(), {p.block_id for p in launched.prompts})
    with transaction() as session:
        row = store.create_entry(session, launched.owner, launched.course_key, data, datetime.now(UTC))
        _statement(session, launched, row)
        body = store.entry_dict(row)
    response = jsonify(body)
    response.status_code = 201
    response.headers["ETag"] = f'"{row.version}"'
    return response


@bp.put("/app/<launch_id>/journal/api/entries/<entry_id>")
def update_entry(launch_id: str, entry_id: str) -> Response:
    _check_token(launch_id)
    launched = _launch(launch_id)
    data = schema.parse_update(_body())
    with transaction() as session:
        row = store.update_entry(session, launched.owner, entry_id, data, datetime.now(UTC))
        body = store.entry_dict(row)
    response = jsonify(body)
    response.headers["ETag"] = f'"{row.version}"'
    return response


@bp.delete("/app/<launch_id>/journal/api/entries/<entry_id>")
def delete_entry(launch_id: str, entry_id: str) -> Response:
    _check_token(launch_id)
    launched = _launch(launch_id)
    version = schema.parse_delete(_body())
    with transaction() as session:
        store.delete_entry(session, launched.owner, entry_id, version)
    return Response(status=204)


# -- wiring ------------------------------------------------------------------------------------


def _error(error: JournalError) -> Response:
    response = jsonify({"error": type(error).__name__, "message": error.message, "field": error.field})
    response.status_code = error.status
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    errors.answer_with(app, JournalError, _error)
