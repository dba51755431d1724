"""The player host's routes: ``/play/<launch_id>`` serves the course player to an LTI launch and takes its learner events.

A launch (validated by :mod:`smeb_lti.lti`) redirects here. The page is the player from
``scorm_export/player/`` with ``runtime: "lti"``; relative URLs resolve under ``/play/<launch_id>/``:

* ``smeb-config.json`` — per launch: ``eventsUrl``, ``token`` (sent back in ``X-SMEB-Launch-Token``),
  learner, locale and the saved ``state`` for resume;
* ``course.json`` — the installed course from the catalogue (one module only when the link names one);
* ``media/<file>`` — files the course references, from the course folder;
* ``events`` (POST) — one event per request, as ``scorm_export/player/runtime-lti.js`` sends it::

      {"id": "<uuid>", "type": "initialized|state|progressed|answered|outcome|terminated",
       "time": "<ISO 8601>", "courseId": "<course IRI>", "data": {...}}

  Each event is checked against the course (block ids, answer shapes, choice ids), applied to the
  learner's progress row, turned into xAPI statements (:mod:`xapi.statements`) queued in the outbox
  in the SAME transaction, and, when the grade changed, an AGS score queued for the platform
  (:mod:`smeb_lti.lti.ags`). A replayed event id answers 409 (the player's outbox counts that as sent).
  A refused event is JSON ``{"error", "message", "field"}`` (400, or 413 past ``SMEB_MAX_EVENT_BYTES``): the body
  is parsed strictly (:func:`read_event_body`: no NaN, no U+0000, at most ``SMEB_MAX_JSON_DEPTH`` levels).

Quiz points are computed here from the answers, never taken from the browser.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
)
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from content import shipped_courses_dir
from content.export import learner_course_dict
from content.model import QuizBlock
from smeb_lti import errors
from smeb_lti.courses.launched import CourseNotInstalled, LaunchedCourse, launched_course
from smeb_lti.lti import binding
from smeb_lti.lti.context import LaunchContext
from smeb_lti.lti.launches import get_claims, get_launch
from smeb_lti.play import privacy as part_privacy
from smeb_lti.play.answers import check_answer, verdict_for, verdicts_for
from smeb_lti.play.apply import apply_event
from smeb_lti.play.errors import EventInvalid, EventReplayed, LaunchTokenInvalid, PlayError
from smeb_lti.play.events import parse_event
from smeb_lti.play.grades import sync_grade
from smeb_lti.play.store import AppliedEvent, progress_for
from smeb_lti.play.tokens import launch_token
from smeb_lti.privacy import registry as privacy_registry
from smeb_lti.settings import settings
from smeb_lti.web import headers
from smeb_lti.web.keys import same_token
from smeb_lti.web.limits import Limits
from smeb_lti.web.sessions import sessions, transaction
from xapi.jsonlimits import JsonLimitError, loads_bounded

bp = Blueprint("play", __name__)

TOKEN_HEADER = "X-SMEB-Launch-Token"
PLAYER_FILES = re.compile(r"^[a-z0-9][a-z0-9-]*\.(js|css)$")  # scorm_export/player/*.js|css, nothing else


def init_app(app: Flask) -> None:
    privacy_registry.register(*part_privacy.STORES)
    app.register_blueprint(bp)
    errors.answer_with(app, PlayError, _error)
    errors.answer_with(app, CourseNotInstalled, _error)


def _error(error: PlayError | CourseNotInstalled) -> Response:
    if request.path.endswith(("/events", ".json")) or request.accept_mimetypes.best == "application/json":
        body = {"error": type(error).__name__, "message": error.message}
        if isinstance(error, EventInvalid):
            body["field"] = error.field
        response = jsonify(body)
    else:
        response = Response(render_template("player/error.html", message=error.message, lang="nb"), mimetype="text/html")
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    return response


def _launched(launch_id: str) -> LaunchedCourse:
    """The launch and the course (or module) it shows; :class:`CourseNotInstalled` when we serve no such thing."""
    with sessions()() as session:
        return launched_course(session, launch_id)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/play/<launch_id>")
def player_page(launch_id: str) -> Response:
    """The player page: the player's own assets under ``<base href>``, plus staff links for instructors."""
    launched = _launched(launch_id)
    context = launched.context
    sync_grade(launched)  # this activity's line item gets the current grade, also when it was earned under another
    tool_links = tools_for(launch_id, context)
    title = launched.course.title.get(context.locale)
    response = Response(
        render_template("player/host.html", base=f"/play/{launch_id}/", lang=context.locale, title=title, tool_links=tool_links,
                        staff=context.is_instructor, host_style=Markup(HOST_STYLE),
                        assets=player_assets()),
        mimetype="text/html",
    )
    # No 'unsafe-inline': the page's one <style> is allowed by its hash, the player sets styles only through the CSSOM.
    # frame-ancestors (the launch's LMS) is added app-wide (smeb_lti.web.headers).
    return headers.protect(response, (
        f"default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self' '{HOST_STYLE_HASH}'; "
        "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
    ))


# The staff tool bar's style, inline so the page needs no file of its own; its hash goes into the page's CSP.
HOST_STYLE = (
    ".smeb-staff{background:#20314a;padding:.4rem 1rem}.smeb-staff ul{list-style:none;margin:0;padding:0;display:flex;"
    "flex-wrap:wrap;gap:.25rem 1rem}.smeb-staff a{color:#fff;display:inline-block;min-height:44px;line-height:44px}"
    ".smeb-staff a:focus-visible{outline:3px solid #e8a317}"
)
HOST_STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(HOST_STYLE.encode("utf-8")).digest()).decode("ascii")


# Tools linked from the player page: (link id, URL rule, who sees it, Norwegian, English). A tool is linked
# only when its route is registered in this app, so the page never shows a link to something absent.
TOOLS = (
    ("smeb-journal-link", "/app/<launch_id>/journal", "everyone", "Min dagbok", "My journal"),
    ("smeb-forum-link", "/app/<launch_id>/forum", "everyone", "Forum", "Forum"),
    ("smeb-surveys-link", "/app/<launch_id>/surveys", "everyone", "Spørreundersøkelser", "Surveys"),
    ("smeb-workshops-link", "/app/<launch_id>/workshops", "everyone", "Samlinger", "Workshops"),
    ("smeb-dashboard-link", "/app/<launch_id>/dashboard", "staff", "Oversikt for bedriften", "Company dashboard"),
    ("smeb-roster-link", "/roster/<launch_id>", "staff", "Deltakerliste og framdrift", "Roster and progress"),
)


def tools_for(launch_id: str, context: LaunchContext) -> list[tuple[str, str, str]]:
    """``(id, href, label)`` of the tools this app has that this launch may use."""
    rules = {rule.rule for rule in current_app.url_map.iter_rules()}
    links = []
    for link_id, rule, audience, nb, en in TOOLS:
        if rule not in rules or (audience == "staff" and not context.is_instructor):
            continue
        if link_id == "smeb-roster-link" and not context.nrps:
            continue  # the roster needs the platform's membership service (NRPS claim)
        href = rule.replace("<launch_id>", launch_id)
        if context.is_instructor:
            # A staff launch's pages need the browser that did the launch (smeb_lti.lti.binding): a browser with the
            # launch cookie follows the plain URL; one that sends no cookie (embedded, third-party cookies blocked)
            # came here by a single-use ticket and gets a fresh one per link.
            href = binding.staff_link(launch_id, href)
        links.append((link_id, href, nb if context.locale == "nb" else en))
    return links


def player_assets() -> tuple[list[str], list[str]]:
    """``(stylesheets, scripts)`` of the player's ``index.html``, in order, so the host page loads the same files."""
    text = (resources.files("scorm_export") / "player" / "index.html").read_text(encoding="utf-8")
    styles = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', text)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', text)
    return styles, scripts


@bp.get("/play/<launch_id>/smeb-config.json")
def player_config(launch_id: str) -> Response:
    launched = _launched(launch_id)
    context = launched.context
    with sessions()() as session:
        row = progress_for(session, context.registration_id, context.subject, launched.course_key)
        current = row if row is not None and row.course_version == launched.version else None  # an older version's progress is not resumed
        state = current.state if current else None
        verdicts = verdicts_for(launched.course, json.loads(current.answers)) if current else {}
    config = {
        "runtime": "lti",
        "courseId": launched.course.id,
        "eventsUrl": f"/play/{launch_id}/events",
        "tokenHeader": TOKEN_HEADER,
        "token": launch_token(launch_id),
        "locale": context.locale,
        "learner": {"id": hashlib.sha256(f"{context.issuer}\x00{context.subject}".encode()).hexdigest()[:32],
                    "name": context.name or context.given_name},
        "state": state,
        "verdicts": verdicts,
        "mode": "normal",
        "role": "instructor" if context.is_instructor else "learner",
    }
    if launched.course.certificate and not launched.view.is_module:
        config["certificateUrl"] = f"/app/{launch_id}/certificate"  # the summary links here (smeb_lti/dashboard, docs/dashboard.md)
    return_url = _return_url(context)
    if return_url:
        config["returnURL"] = return_url
    return _no_store(jsonify(config))


def _return_url(context: LaunchContext) -> str | None:
    with sessions()() as session:
        claims = get_claims(session, context.launch_id)
    presentation = claims.get("https://purl.imsglobal.org/spec/lti/claim/launch_presentation") or {}
    url = presentation.get("return_url") if isinstance(presentation, Mapping) else None
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


@bp.get("/play/<launch_id>/course.json")
def course_json(launch_id: str) -> Response:
    launched = _launched(launch_id)
    response = jsonify(learner_course_dict(launched.course))  # never the answer key: the tool grades
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/play/<launch_id>/<name>")
def player_file(launch_id: str, name: str) -> Response:
    if not PLAYER_FILES.match(name):
        abort(404)
    resource = resources.files("scorm_export") / "player" / name
    if not resource.is_file():
        abort(404)
    with sessions()() as session:
        get_launch(session, launch_id)  # expired launch: 404 like everything else under it
    with resources.as_file(resource) as path:
        response = send_file(path, max_age=300, conditional=True)
    return response


def course_dirs() -> list[Path]:
    """Folders that hold course sources (``<dir>/<slug>/media/...``): ``SMEB_COURSE_DIRS`` then the shipped ones."""
    return [*settings().course_dirs, shipped_courses_dir()]


@bp.get("/play/<launch_id>/media/<path:name>")
def media(launch_id: str, name: str) -> Response:
    launched = _launched(launch_id)
    rel = "media/" + name
    if rel not in launched.course.media_paths():
        abort(404)  # only files this course refers to: the folder may hold drafts
    for folder in course_dirs():
        root = (folder / launched.slug).resolve()
        candidate = (root / rel).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return send_file(candidate, max_age=3600, conditional=True)  # conditional: Range requests for video seeking
    abort(404)


def read_event_body() -> Any:
    """The JSON of one event, within the app's limits (``SMEB_MAX_EVENT_BYTES``, ``SMEB_MAX_JSON_DEPTH``).

    The body size is bounded before this view runs (:func:`smeb_lti.web.limits.limit_body`, also for a chunked
    body); here it is parsed strictly: no NaN/Infinity, no U+0000 (PostgreSQL cannot store it), no nesting past
    the depth limit (50,000 ``[`` would exhaust the parser's recursion), no unpaired surrogates (not encodable).
    """
    if request.mimetype != "application/json":
        raise EventInvalid(f"the body must be JSON (Content-Type: application/json, got {request.mimetype or 'none'!r})")
    limits: Limits = current_app.extensions["smeb.limits"]
    body = request.get_data(cache=True)
    if len(body) > limits.max_event_bytes:  # belt and braces: limit_body refused it already
        raise EventInvalid(f"event body larger than {limits.max_event_bytes} bytes (SMEB_MAX_EVENT_BYTES)")
    try:
        raw = loads_bounded(body, max_depth=limits.max_json_depth)
    except JsonLimitError as error:
        limit = f" (SMEB_MAX_JSON_DEPTH={limits.max_json_depth})" if "nested deeper" in error.reason else ""
        raise EventInvalid(f"event {error.path}: {error.reason}{limit}", field=error.path) from None
    except ValueError as error:
        # xapi.jsonlimits lets the interpreter's integer-size guard through (a number of more than 4300 digits).
        raise EventInvalid(f"event $: not a usable JSON number ({error})", field="$") from None
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise EventInvalid("event $: contains an unpaired UTF-16 surrogate (a \\ud800-\\udfff escape alone); send valid Unicode",
                           field="$") from None
    return raw


@bp.post("/play/<launch_id>/events")
def events(launch_id: str) -> Response:
    token = request.headers.get(TOKEN_HEADER, "")
    if not same_token(token, launch_token(launch_id)):
        raise LaunchTokenInvalid(f"missing or wrong {TOKEN_HEADER}: events are accepted only from the player page of this launch")
    raw = read_event_body()
    launched = _launched(launch_id)
    now = datetime.now(UTC)
    event = parse_event(raw, launched.course, now)
    try:
        with transaction() as session:
            summary = apply_event(session, launched, event, now)
    except IntegrityError:
        # Two first events of one learner at once, or a replay racing its original: the unique keys decide.
        with sessions()() as session:
            row = progress_for(session, launched.context.registration_id, launched.context.subject, launched.course_key)
            if row is not None and session.get(AppliedEvent, (row.id, event.id)) is not None:
                raise EventReplayed(f"event {event.id} was already applied") from None
        with transaction() as session:
            summary = apply_event(session, launched, event, now)
    if event.type == "answered":
        answer = check_answer(launched.course, event.data)
        if isinstance(answer.block, QuizBlock):
            summary = {**summary, "verdict": verdict_for(answer.block, answer.response)}  # the player has no key
    return _no_store(jsonify(summary))
