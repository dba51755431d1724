"""The xAPI HTTP edge: ``/lrs/<tenant>/xapi/...`` (Communication part 3).

Each view unfolds the request (:mod:`params`), authenticates (:mod:`auth`), runs the resource
in one database transaction, and lets :class:`LrsError` become a JSON error in one handler.
The resources themselves: :mod:`statements_read`, :mod:`statements_write`, :mod:`documents`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from smeb_lti import errors
from smeb_lti.lrs import auth, clock, documents, statements_read, statements_write, store
from smeb_lti.lrs import params as P
from smeb_lti.lrs import statements as st
from smeb_lti.lrs.errors import BadRequest, Conflict, InvalidParameter, LrsError, MethodNotAllowed, PayloadTooLarge
from smeb_lti.settings import settings
from smeb_lti.web.sessions import transaction

bp = Blueprint("lrs", __name__, url_prefix="/lrs/<tenant>/xapi")

EXPOSED = "ETag, Last-Modified, Content-Type, Content-Length, WWW-Authenticate, X-Experience-API-Version, X-Experience-API-Consistent-Through"
ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, X-Experience-API-Version, Accept-Language"
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]
Handler = Callable[[Session, auth.Principal, P.XRequest], Response]


# --------------------------------------------------------------------------- plumbing
def _lrs_error(error: LrsError) -> Response:
    """xAPI's error body ``{"error": status, "message", ...}`` (Communication 3.2), declared for this blueprint."""
    response = Response(json.dumps(error.to_json(), ensure_ascii=False), status=error.status, mimetype="application/json")
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="SMEB LRS"'
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.allowed)
    return response


@bp.errorhandler(SQLAlchemyError)
def _storage_error(error: SQLAlchemyError) -> Response:
    """500 (Communication 3.2, XAPI-00329): the store failed; the client may retry. Logged with the cause."""
    current_app.logger.exception("LRS storage error on %s %s", request.method, request.path)
    body = {"error": 500, "message": "the LRS could not reach its database; nothing was stored, retry later"}
    return Response(json.dumps(body), status=500, mimetype="application/json")


@bp.errorhandler(Exception)
def _unexpected_error(error: Exception) -> Response:
    """Anything else: an xAPI JSON error, never Flask's HTML page (clients parse the body as JSON).

    HTTP errors raised by Flask/werkzeug keep their status; our own errors go to the tool's one handler (which answers
    them with :func:`_lrs_error` here); any other exception is a bug: logged, 500.
    """
    if isinstance(error, LrsError):  # a blueprint's catch-all is asked before the app's SmebError handler
        return errors.handle(error)
    if isinstance(error, HTTPException):
        return http_error_json(error)
    current_app.logger.exception("LRS error on %s %s", request.method, request.path)
    body = {"error": 500, "message": "the LRS failed on this request; nothing was stored. The error is logged; retry or report it"}
    return Response(json.dumps(body), status=500, mimetype="application/json")


def http_error_json(error: HTTPException) -> Response:
    """A werkzeug HTTP error (routing 404/405, 413 ...) as the LRS's JSON error body."""
    status = error.code or 500
    messages = {
        404: "no such xAPI resource; the resources are statements, activities, activities/state, activities/profile, "
        "agents, agents/profile and about (no trailing slash)",
        405: f"method {request.method} is not defined for this resource",
    }
    response = Response(
        json.dumps({"error": status, "message": messages.get(status, error.description or error.name)}), status=status, mimetype="application/json"
    )
    valid_methods = getattr(error, "valid_methods", None)  # werkzeug's MethodNotAllowed only
    if status == 405 and valid_methods:
        response.headers["Allow"] = ", ".join(valid_methods)
    return response


def is_lrs_path(path: str) -> bool:
    """Whether ``path`` is under an xAPI endpoint ``/lrs/<tenant>/xapi``."""
    parts = path.split("/", 4)
    return len(parts) >= 4 and parts[1] == "lrs" and parts[3] == "xapi"


@bp.after_request
def _common_headers(response: Response) -> Response:
    response.headers["X-Experience-API-Version"] = getattr(g, "xapi_version", "1.0.3")
    origin = request.headers.get("Origin")
    response.headers["Access-Control-Allow-Origin"] = origin or "*"
    if origin:
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers.add("Vary", "Origin")
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    response.headers.setdefault("Cache-Control", "no-store")
    if request.endpoint == "lrs.statements" and "X-Experience-API-Consistent-Through" not in response.headers:
        # Communication 2.1.3: on all responses of the Statements resource, errors included. An error
        # did not read the clock: a value this process saw before is still true (0 if none).
        through = clock.last_known_through(getattr(g, "lrs_tenant_id", None))
        response.headers["X-Experience-API-Consistent-Through"] = st.format_timestamp(through)
    return response


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "HEAD, GET, POST, PUT, DELETE, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = request.headers.get("Access-Control-Request-Headers") or ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def _read_body() -> bytes:
    limit = settings().lrs_max_body
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"request body is {request.content_length} bytes; this LRS accepts at most {limit} (SMEB_LRS_MAX_BODY)")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes (SMEB_LRS_MAX_BODY)")
    return data


def _check_method(method: str, allowed: tuple[str, ...], resource: str) -> None:
    """405 for a method the specification does not define on this resource (after unfolding ?method=)."""
    if method not in allowed:
        raise MethodNotAllowed(f"the {resource} resource does not support {method}; it supports {', '.join(allowed)}", allowed=allowed)


def _run(tenant: str, handler: Handler, allowed: tuple[str, ...], resource: str) -> Response:
    if request.method == "OPTIONS":
        return _preflight()
    _check_method(request.method, allowed + ("POST",), resource)  # POST may carry ?method= (Communication 1.3)
    body = _read_body()
    x = P.from_flask(
        request.method, request.query_string, dict(request.headers), body, settings().lrs_max_body,
        max_json_depth=settings().lrs_max_json_depth,
    )
    g.xapi_version = x.version
    _check_method(x.method, allowed, resource)
    if x.method == "HEAD":
        x.method = "GET"
    for attempt in range(2):
        try:
            with transaction() as session:
                t = store.require_tenant(session, tenant)
                g.lrs_tenant_id = t.id
                principal = auth.authenticate(session, t, x.header("authorization"), auth.token_secret(session))
                return handler(session, principal, x)
        except IntegrityError:
            # A concurrent writer stored the same statement id / document first: the retry sees it.
            if attempt:
                raise Conflict("a concurrent request changed the same resource; retry") from None
    raise AssertionError("unreachable")


def _route(rule: str, handler: Handler, endpoint: str, allowed: tuple[str, ...]) -> None:
    def view(tenant: str) -> Response:
        return _run(tenant, handler, allowed, rule.lstrip("/"))

    bp.add_url_rule(rule, endpoint, view, methods=METHODS, provide_automatic_options=False)


@bp.route("/about", methods=METHODS, provide_automatic_options=False)
def about(tenant: str) -> Response:
    """About needs no credentials (clients use it to discover versions)."""
    if request.method == "OPTIONS":
        return _preflight()
    _check_method(request.method, ("GET", "HEAD"), "about")
    with transaction() as session:
        store.require_tenant(session, tenant)
    if request.args:
        raise InvalidParameter(f"the About resource takes no parameters, got {sorted(request.args)}")
    return documents.about()


def statements_resource(session: Session, principal: auth.Principal, x: P.XRequest) -> Response:
    if x.method == "GET":
        response = statements_read.get_statements(session, principal, x)
    elif x.method in ("PUT", "POST"):
        response = statements_write.store_statements(session, principal, x)
    else:
        raise BadRequest(f"the Statements resource does not support {x.method}")
    return response


_READ = ("GET", "HEAD")
_DOCUMENT = ("GET", "HEAD", "PUT", "POST", "DELETE")
_route("/statements", statements_resource, "statements", ("GET", "HEAD", "PUT", "POST"))
_route("/activities/state", documents.state, "state", _DOCUMENT)
_route("/activities/profile", documents.activity_profile, "activity_profile", _DOCUMENT)
_route("/agents/profile", documents.agent_profile, "agent_profile", _DOCUMENT)
_route("/activities", documents.activities, "activities", _READ)
_route("/agents", documents.agents, "agents", _READ)


def register(app: Flask) -> None:
    """The blueprint, and the JSON errors and version header for requests no LRS route matched."""
    app.register_blueprint(bp)
    errors.answer_with(app, LrsError, _lrs_error, blueprint=bp.name)

    # Errors raised before a blueprint route matches (unknown resource, a trailing slash, a method no
    # route lists such as PATCH) never reach the blueprint's handlers: under /lrs/<tenant>/xapi they get
    # the same JSON error body, and every answer there carries X-Experience-API-Version (Communication
    # 3.3, ADL XAPI-00331/00333). Other paths keep Flask's default.
    def routing_error(error: HTTPException) -> Any:
        return http_error_json(error) if is_lrs_path(request.path) else error

    def version_header(response: Response) -> Response:
        if is_lrs_path(request.path):
            response.headers.setdefault("X-Experience-API-Version", "1.0.3")
        return response

    app.register_error_handler(HTTPException, routing_error)
    app.after_request(version_header)
