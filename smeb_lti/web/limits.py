"""How much of a request the tool reads, and what it refuses before any view runs.

Threats (docs/security.md): a body sent with ``Transfer-Encoding: chunked`` has no ``Content-Length``, so a check
of the header alone lets a client stream 40 MB that a view then reads and parses in full; a NUL byte in a path or
query parameter reaches PostgreSQL (which cannot hold U+0000 in text) and comes back as an HTML 500.

Controls, wired once by :func:`init_app` (called from :func:`smeb_lti.app.create_app`):

* every request may carry at most ``SMEB_MAX_REQUEST_BYTES``; a route that needs more (or less) names its own
  limit here (:data:`ENDPOINT_LIMITS`, :data:`SELF_READING_BLUEPRINTS`). A declared ``Content-Length`` over the
  limit is refused before anything is read; a chunked body is read at most to limit + 1 bytes and then refused;
* a NUL character in the path, a query parameter or a form field is refused with 400 naming where it was;
* refusals are JSON for API clients and the product's error page for people.

The limits are read and validated once with the other settings (:mod:`smeb_lti.settings`): a bad value stops the
start with a message naming the variable, it never silently becomes the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from smeb_lti.settings import MAX_EVENT_BYTES, MAX_JSON_DEPTH, MAX_REQUEST_BYTES, settings

# The defaults and bounds of the SMEB_MAX_* settings live with the other settings (smeb_lti.settings).
DEFAULT_MAX_REQUEST_BYTES: Final = MAX_REQUEST_BYTES[0]
DEFAULT_MAX_EVENT_BYTES: Final = MAX_EVENT_BYTES[0]
DEFAULT_MAX_JSON_DEPTH: Final = MAX_JSON_DEPTH[0]

SELF_READING_BLUEPRINTS: Final[Mapping[str, str]] = {"lrs": "lrs_max_body"}
"""Blueprints that read ``request.stream`` themselves against their own limit (a :class:`Settings` field) and answer their own
413 in their protocol's format (the LRS: xAPI errors). They get limit + 1 so their own check sees the excess."""

ENDPOINT_LIMITS: Final[Mapping[str, str]] = {"play.events": "max_event_bytes"}
"""Endpoints with their own body limit (an attribute of :class:`Limits`), checked here like the app-wide one."""

_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


@dataclass(frozen=True)
class Limits:
    """The request limits of one app (``app.extensions["smeb.limits"]``)."""

    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH


# -- refusals ----------------------------------------------------------------------------------


class RequestRefused(HTTPException):
    """400: the request holds something the tool never accepts; ``field`` says where (path, query.x, form.x, body)."""

    code = 400

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(description=message)


class BodyTooLarge(RequestRefused):
    """413: the request body is larger than this route's limit (the message names the setting)."""

    code = 413


def wants_json() -> bool:
    """Whether the client of this request reads JSON (API calls, the player's fetch) rather than a page."""
    path = request.path
    if path.startswith("/lrs/") or "/api/" in path or path.endswith(("/events", ".json")):
        return True
    return request.is_json or request.accept_mimetypes.best == "application/json"


def refusal(status: int, error: str, field: str, message: str) -> Response:
    """A refusal in the client's form: ``{"error", "field", "message"}`` or the product's error page."""
    if wants_json():
        response = jsonify({"error": error, "field": field, "message": message})
    else:
        response = Response(render_template("error.html", message=message, field=field, status=status), mimetype="text/html")
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(error: RequestRefused) -> Response:
    return refusal(error.code or 400, type(error).__name__, error.field, error.message)


def _too_large(error: RequestEntityTooLarge) -> Response:
    # Werkzeug's own 413 (a form field over MAX_FORM_MEMORY_SIZE, a stream read past max_content_length).
    limit = request.max_content_length
    return refusal(413, "BodyTooLarge", "body", f"the request body is too large (at most {limit} bytes; SMEB_MAX_REQUEST_BYTES)")


# -- the checks before every view --------------------------------------------------------------


def _body_limit() -> tuple[int, str, bool]:
    """``(limit, setting, self_reading)`` of this request's route."""
    limits: Limits = current_app.extensions["smeb.limits"]
    field = SELF_READING_BLUEPRINTS.get(request.blueprint or "")
    if field is not None:
        return max(int(getattr(settings(), field)), limits.max_request_bytes), "SMEB_" + field.upper(), True
    attribute = ENDPOINT_LIMITS.get(request.endpoint or "")
    if attribute is not None:
        return int(getattr(limits, attribute)), "SMEB_" + attribute.upper(), False
    return limits.max_request_bytes, "SMEB_MAX_REQUEST_BYTES", False


def limit_body() -> None:
    """Bound what any code may read of this request's body; refuse a body over the limit (413) early.

    ``request.max_content_length`` is limit + 1: Werkzeug's bounded stream stops silently at its limit, so
    reading one byte more is how a chunked body that is too large is told apart from one that just fits.
    """
    limit, setting, self_reading = _body_limit()
    request.max_content_length = limit + 1
    if self_reading:
        return
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge("body", f"the request body is {declared} bytes; this address accepts at most {limit} ({setting})")
    if declared is None and request.method in _BODY_METHODS and request.environ.get("wsgi.input_terminated"):
        # A chunked body: read it now, at most limit + 1 bytes, so no view can be made to read more. Flask keeps the
        # bytes (get_data(cache=True)), and get_json / form parsing read them from there.
        if len(request.get_data(cache=True)) > limit:
            raise BodyTooLarge("body", f"the request body is larger than {limit} bytes, the most this address accepts ({setting})")


def refuse_nul() -> None:
    """400 for U+0000 in the path, a query parameter or a form field: nothing stores it and PostgreSQL cannot."""
    if request.blueprint in SELF_READING_BLUEPRINTS:
        return  # the LRS refuses NULs itself (parameters, headers, form fields, JSON), in xAPI's error format
    if "\x00" in request.path:
        raise RequestRefused("path", "the address contains a NUL character (%00); remove it")
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            name = key.replace("\x00", "%00")
            raise RequestRefused(f"query.{name}", f"query parameter {name!r} contains a NUL character (%00); remove it")
    if request.blueprint in SELF_READING_BLUEPRINTS or request.mimetype not in _FORM_TYPES:
        return  # parsing request.form would consume a body the route reads itself
    for key, value in request.form.items(multi=True):
        if "\x00" in key or "\x00" in value:
            name = key.replace("\x00", "%00")
            raise RequestRefused(f"form.{name}", f"form field {name!r} contains a NUL character; remove it")


def init_app(app: Flask, limits: Limits) -> None:
    """Install the limits: the app-wide maximum, the checks before every view and the refusal handlers."""
    app.extensions["smeb.limits"] = limits
    app.config["MAX_CONTENT_LENGTH"] = limits.max_request_bytes
    app.before_request(limit_body)
    app.before_request(refuse_nul)
    # Flask files HTTPException handlers by status code: each refusal class with its own code is registered.
    app.register_error_handler(RequestRefused, _refused)
    app.register_error_handler(BodyTooLarge, _refused)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
