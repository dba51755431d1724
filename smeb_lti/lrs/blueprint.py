"""The xAPI HTTP edge: ``/lrs/<tenant>/xapi/...`` (Communication part 3).

Each view unfolds the request (:mod:`params`), authenticates (:mod:`auth`), runs the resource
in one database transaction, and lets :class:`LrsError` become a JSON error in one handler.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from smeb_lti.db import session_scope
from smeb_lti.lrs import auth, documents, multipart, store
from smeb_lti.lrs import params as P
from smeb_lti.lrs import statements as st
from smeb_lti.lrs.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidAttachment,
    InvalidParameter,
    InvalidStatement,
    LrsError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
)
from xapi.errors import StatementValidationError
from xapi.jsonlimits import JsonLimitError, loads_bounded
from xapi.validation import loads_strict, normalize_statement, validate_statements

bp = Blueprint("lrs", __name__, url_prefix="/lrs/<tenant>/xapi")

EXPOSED = "ETag, Last-Modified, Content-Type, Content-Length, WWW-Authenticate, X-Experience-API-Version, X-Experience-API-Consistent-Through"
ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, X-Experience-API-Version, Accept-Language"
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]
Handler = Callable[[Session, auth.Principal, P.XRequest], Response]


# --------------------------------------------------------------------------- plumbing
@bp.errorhandler(LrsError)
def _lrs_error(error: LrsError) -> Response:
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

    HTTP errors raised by Flask/werkzeug keep their status; any other exception is a bug: logged, 500.
    """
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
    if status == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
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
        through = store.last_known_through(getattr(g, "lrs_tenant_id", None))
        response.headers["X-Experience-API-Consistent-Through"] = st.format_timestamp(through)
    return response


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "HEAD, GET, POST, PUT, DELETE, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = request.headers.get("Access-Control-Request-Headers") or ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def _read_body() -> bytes:
    limit = int(current_app.config["SMEB_LRS_MAX_BODY"])
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
        request.method, request.query_string, dict(request.headers), body, int(current_app.config["SMEB_LRS_MAX_BODY"]),
        max_json_depth=int(current_app.config["SMEB_LRS_MAX_JSON_DEPTH"]),
    )
    g.xapi_version = x.version
    _check_method(x.method, allowed, resource)
    if x.method == "HEAD":
        x.method = "GET"
    sessions = current_app.extensions["smeb.sessions"]
    for attempt in range(2):
        try:
            with session_scope(sessions) as session:
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
    with session_scope(current_app.extensions["smeb.sessions"]) as session:
        store.require_tenant(session, tenant)
    if request.args:
        raise InvalidParameter(f"the About resource takes no parameters, got {sorted(request.args)}")
    return documents.about()


# --------------------------------------------------------------------------- statements
def statements_resource(session: Session, principal: auth.Principal, x: P.XRequest) -> Response:
    if x.method == "GET":
        response = _get_statements(session, principal, x)
    elif x.method in ("PUT", "POST"):
        response = _store_statements(session, principal, x)
    else:
        raise BadRequest(f"the Statements resource does not support {x.method}")
    return response


def _parse_statement_body(x: P.XRequest) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """The JSON statements and the attachment parts keyed by their declared sha2."""
    parts: dict[str, tuple[str, bytes]] = {}
    if x.content_type == "application/json":
        text = x.body
    elif x.content_type == "multipart/mixed":
        try:
            pieces = multipart.parse(x.body, x.header("content-type") or "")
        except multipart.MultipartError as error:
            raise InvalidAttachment(f"{error} (Communication 1.5.2)") from None
        if pieces[0].content_type != "application/json":
            raise InvalidAttachment("the first part of a multipart/mixed statement request must be application/json (Communication 1.5.2)")
        text = pieces[0].body
        for index, part in enumerate(pieces[1:], start=2):
            declared = part.headers.get("x-experience-api-hash")
            if not declared:
                raise InvalidAttachment(f"multipart part {index} lacks the X-Experience-API-Hash header (Communication 1.5.2)")
            if part.headers.get("content-transfer-encoding", "").lower() != "binary":
                raise InvalidAttachment(f"multipart part {index} needs Content-Transfer-Encoding: binary (Communication 1.5.2)")
            algorithm = {64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}.get(len(declared))
            if algorithm is None or algorithm(part.body).hexdigest() != declared.lower():
                raise InvalidAttachment(f"multipart part {index}: its data does not hash to X-Experience-API-Hash {declared}")
            parts[declared.lower()] = (part.content_type, part.body)
    else:
        raise BadRequest(
            f"Content-Type {x.content_type or '(none)'!r} is not accepted for statements; send application/json or multipart/mixed"
        )
    try:
        return loads_strict(text, max_depth=x.max_json_depth), parts
    except StatementValidationError as error:
        raise InvalidStatement(str(error)) from None
    except JsonLimitError as error:
        # NaN/Infinity, too deep (SMEB_LRS_MAX_JSON_DEPTH), NUL, lone surrogates, not JSON: nothing is stored.
        raise BadRequest(f"statement body: {error.path}: {error.reason}", path=error.path) from None


def _verify_signature(received: dict[str, Any], data: bytes, index: int) -> None:
    """Signed statements (Data 2.6): decode the JWS, compare payload, check RS* and x5c if present."""
    import jwt
    from cryptography import x509
    from jwt.api_jws import PyJWS

    where = f"statement {index}: signature attachment"
    token = data.decode("ascii", "replace").strip()
    try:
        header = jwt.get_unverified_header(token)
        payload = PyJWS().decode_complete(token, options={"verify_signature": False})["payload"]
        signed = json.loads(payload)
    except (jwt.PyJWTError, ValueError) as error:
        raise InvalidAttachment(f"{where} is not a JWS in compact serialization ({error}) (Data 2.6)") from None
    algorithm = header.get("alg")
    if algorithm not in ("RS256", "RS384", "RS512"):
        raise InvalidAttachment(f"{where} uses alg {algorithm!r}; xAPI requires RS256, RS384 or RS512 (Data 2.6)")
    if not isinstance(signed, dict) or not st.equivalent(signed, received):
        raise InvalidAttachment(f"{where}: the signed payload is not the same statement as the one received (Data 2.6)")
    chain = header.get("x5c")
    if chain:
        try:
            certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
            PyJWS().decode(token, key=certificate.public_key(), algorithms=[algorithm])  # type: ignore[arg-type]
        except (jwt.PyJWTError, ValueError, binascii.Error, TypeError) as error:
            raise InvalidAttachment(f"{where} does not verify against its x5c certificate ({error}) (Data 2.6)") from None


def _store_statements(session: Session, principal: auth.Principal, x: P.XRequest) -> Response:
    principal.require("statements/write")
    if x.method == "PUT":
        P.check_allowed(x.params, {"statementId"}, "PUT statements")
        statement_id = P.uuid_param(x.params, "statementId")
        if statement_id is None:
            raise InvalidParameter("PUT statements needs the statementId parameter (or POST without it)")
    else:
        P.check_allowed(x.params, set(), "POST statements")
        statement_id = None
    parsed, parts = _parse_statement_body(x)
    if x.method == "PUT":
        if not isinstance(parsed, dict):
            raise BadRequest("PUT statements takes one Statement object; POST an array for a batch")
        if "id" in parsed and str(parsed["id"]).lower() != statement_id:
            raise BadRequest(f"statement id {parsed['id']!r} differs from the statementId parameter {statement_id!r}")
        batch = [dict(parsed, id=statement_id)]
    else:
        batch = parsed if isinstance(parsed, list) else [parsed]
    received = [s for s in batch]
    try:
        validate_statements(received, version=x.version)
    except StatementValidationError as error:
        raise InvalidStatement(
            str(error), issues=[{"path": i.path, "rule": i.rule, "message": i.message} for i in error.issues]
        ) from None
    if principal.actor_ifi is not None:
        for index, statement in enumerate(received):
            if st.agent_ifi(statement.get("actor")) != principal.actor_ifi:
                raise Forbidden(f"statement {index}: a launch token may only send statements about its own learner (actor differs)")
            registration = ((statement.get("context") or {}).get("registration") or "").lower() or None
            if principal.registration and registration != principal.registration:
                raise Forbidden(f"statement {index}: context.registration must be the launch's registration {principal.registration}")

    # Provisional: store.insert_statements assigns the real ``stored`` (and the default timestamp) from
    # the tenant's clock at commit time (X-Experience-API-Consistent-Through).
    stored_us = store.now_us()
    stored = st.format_timestamp(stored_us)
    prepared: list[store.Prepared] = []
    originals: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    used_parts: dict[str, tuple[str, bytes]] = {}
    for index, original in enumerate(received):
        statement = normalize_statement(original)
        statement["id"] = str(statement.get("id") or uuid.uuid4()).lower()
        if statement["id"] in seen:
            raise BadRequest(f"statement id {statement['id']} occurs twice in one batch (Communication 2.1.2)")
        seen.add(statement["id"])
        originals[statement["id"]] = original
        statement["stored"] = stored
        statement["authority"] = principal.authority
        timestamp_is_stored = "timestamp" not in statement
        if timestamp_is_stored:
            statement["timestamp"] = stored
        statement.setdefault("version", "2.0.0" if x.version.startswith("2.") else "1.0.0")
        for number, attachment in enumerate(statement.get("attachments") or []):
            if len(attachment.get("contentType") or "") > store.MAX_CONTENT_TYPE:
                raise InvalidAttachment(
                    f"statement {index}: attachments[{number}].contentType is longer than {store.MAX_CONTENT_TYPE} characters",
                    path=f"$[{index}].attachments[{number}].contentType",
                )
            sha2 = str(attachment.get("sha2", "")).lower()
            if sha2 in parts:
                used_parts[sha2] = (attachment.get("contentType") or parts[sha2][0], parts[sha2][1])
            elif not attachment.get("fileUrl"):
                raise InvalidAttachment(
                    f"statement {index}: attachment sha2 {sha2} has no fileUrl and no multipart part with that X-Experience-API-Hash (Communication 1.5.2)"
                )
            if attachment.get("usageType") == st.SIGNATURE_USAGE:
                if attachment.get("contentType") != "application/octet-stream":
                    raise InvalidAttachment(f"statement {index}: a signature attachment must have contentType application/octet-stream (Data 2.6)")
                if sha2 not in parts:
                    raise InvalidAttachment(f"statement {index}: the signature attachment's JWS must be sent as a multipart part (Data 2.6)")
                _verify_signature(original, parts[sha2][1], index)
        p = store.Prepared(statement, stored_us, st.links(statement), timestamp_is_stored)
        _check_storable(p, original, index if isinstance(parsed, list) else None)
        prepared.append(p)
    unclaimed = sorted(set(parts) - set(used_parts))
    if unclaimed:
        # Communication 1.5.2 (XAPI-00128, 00132): every part after the first is an attachment of a statement in the first.
        raise InvalidAttachment(
            f"multipart part(s) with X-Experience-API-Hash {', '.join(unclaimed)} match no attachment sha2 of the statements; "
            "send only the parts the statements declare"
        )

    # A voiding statement whose target is itself a voiding statement is stored like any other but
    # has no effect: Data 2.3.2 defines a voided statement as one that "is not itself a voiding
    # statement" and gives the LRS no ground to reject the request (the ADL suite, XAPI-00016, POSTs
    # one and expects 200). store.insert_statements never voids a voiding statement.
    existing = store.existing_statements(session, principal.tenant.id, [p.id for p in prepared])
    new: list[store.Prepared] = []
    for p in prepared:
        if p.id in existing:
            if not st.equivalent(existing[p.id]["statement"], originals[p.id]):
                raise Conflict(f"statement id {p.id} is already stored with different content; statements are immutable (Communication 2.1.1)")
            continue
        new.append(p)
    if principal.session_id is not None:
        from smeb_lti.lrs import cmi5

        new.extend(cmi5.enforce(session, principal, new, stored_us))
    stored_us = store.insert_statements(session, principal.tenant.id, new, used_parts, update_definitions=principal.allows("define"))
    if x.method == "PUT":
        response = Response(status=204)
    else:
        response = Response(json.dumps([p.id for p in prepared]), status=200, mimetype="application/json")
    # Once this transaction commits, every statement stored up to ours is visible (store.advance_clock).
    through = stored_us if stored_us is not None else store.consistent_through(session, principal.tenant.id)
    response.headers["X-Experience-API-Consistent-Through"] = st.format_timestamp(through)
    return response


def _check_storable(p: store.Prepared, original: dict[str, Any], index: int | None) -> None:
    """400 for an identifier longer than the store indexes (store.MAX_INDEXED_BYTES of UTF-8).

    xAPI sets no length for IRIs, but PostgreSQL refuses longer values in the indexed columns (a 500
    after the work was done). A few len() calls per statement; UTF-8 is only measured for long values.
    """
    limit = store.MAX_INDEXED_BYTES
    values = [value for _, value, _ in p.links]
    values.append(p.statement["verb"]["id"])
    for value in values:
        if len(value) * 4 > limit and len(value.encode("utf-8")) > limit:
            where = _longest_path_within(original, value)
            prefix = f"$[{index}]" if index is not None else "$"
            path = prefix + where[1:]
            raise InvalidStatement(
                f"{path}: longer than the {limit} bytes (UTF-8) this LRS stores for an identifier (IRI, mbox, account)",
                path=path,
            )


def _longest_path_within(statement: dict[str, Any], value: str) -> str:
    """JSONPath of the longest string in ``statement`` that is part of ``value`` (refusal path only)."""
    best, best_len = "$", 0
    stack: list[tuple[Any, str]] = [(statement, "$")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            stack.extend((child, f"{where}.{key}") for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, f"{where}[{number}]") for number, child in enumerate(node))
        elif isinstance(node, str) and len(node) > best_len and node in value:
            best, best_len = where, len(node)
    return best


_LIMIT = re.compile(r"[0-9]{1,18}")  # str.isdigit() also accepts "²" and "١", and int() has a digit limit
_GET_PARAMS = {
    "statementId", "voidedStatementId", "agent", "verb", "activity", "registration", "related_activities",
    "related_agents", "since", "until", "limit", "format", "attachments", "ascending",
}


def _encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


_MAX_SEQ = 2**63 - 1


def _decode_cursor(text: str) -> dict[str, Any]:
    """The query a ``more`` value carries; anything but what :func:`_encode_cursor` wrote is a 400.

    It is client-controlled text: every field is type- and range-checked before it reaches SQL.
    """

    def seq(value: Any) -> bool:
        return type(value) is int and 0 <= value <= _MAX_SEQ

    try:
        data = loads_bounded(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), max_depth=2)
        assert isinstance(data, dict) and set(data) <= {"p", "h", "a", "c"} and isinstance(data.get("p"), dict)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in data["p"].items())
        assert seq(data.get("h")) and seq(data.get("a")) and (data.get("c") is None or seq(data["c"]))
        P.refuse_nul(data["p"], "parameter")
        return data
    except (ValueError, binascii.Error, AssertionError, InvalidParameter):
        raise InvalidParameter("the 'more' value is not one this LRS issued; start the query again", parameter="more") from None


def _get_statements(session: Session, principal: auth.Principal, x: P.XRequest) -> Response:
    principal.require("statements/read", "statements/read/mine", read=True)
    mine_only = not principal.allows("statements/read", read=True)
    # statements/read/mine (Communication 4.2): a launch token sees its learner's statements;
    # a Basic credential sees the statements it stored itself (its authority).
    mine_agent = principal.actor_ifi if mine_only else None
    mine_authority = st.agent_ifi(principal.authority) if mine_only and mine_agent is None else None
    cursor: dict[str, Any] | None = None
    params = dict(x.params)
    if "more" in params:
        if len(params) != 1:
            raise InvalidParameter("'more' is used alone; its value already carries the query")
        cursor = _decode_cursor(params["more"])
        params = cursor["p"]
    P.check_allowed(params, _GET_PARAMS, "GET statements")
    fmt = params.get("format", "exact")
    if fmt not in ("exact", "ids", "canonical"):
        raise InvalidParameter(f"parameter 'format' must be ids, exact or canonical, got {fmt!r}")
    with_attachments = P.boolean(params, "attachments")
    languages = st.parse_accept_language(x.header("accept-language"))

    single_keys = {"statementId", "voidedStatementId"} & set(params)
    if single_keys:
        if len(single_keys) == 2:
            raise InvalidParameter("send statementId or voidedStatementId, not both")
        others = set(params) - single_keys - {"format", "attachments"}
        if others:
            raise InvalidParameter(f"with {single_keys.pop()} only 'format' and 'attachments' may be sent, also got {sorted(others)}")
        key = "statementId" if "statementId" in params else "voidedStatementId"
        wanted = P.uuid_param(params, key)
        assert wanted is not None
        found = store.get_statement(session, principal.tenant.id, wanted)
        if found is None or found.voided != (key == "voidedStatementId"):
            hint = "; it is voided: ask with voidedStatementId" if found and found.voided else ""
            hint = "; it is not voided: ask with statementId" if found and not found.voided else hint
            raise NotFound(f"no statement {wanted} for {key}{hint}")
        if mine_agent and st.agent_ifi(found.statement.get("actor")) != mine_agent:
            raise NotFound(f"no statement {wanted} for {key}")
        if mine_authority and st.agent_ifi(found.statement.get("authority")) != mine_authority:
            raise NotFound(f"no statement {wanted} for {key} among those these credentials stored (statements/read/mine)")
        response = _statements_payload(session, principal, [found.statement], fmt, languages, with_attachments, single=True)
        response.headers["Last-Modified"] = st.http_date(found.stored_us)
        response.headers["X-Experience-API-Consistent-Through"] = st.format_timestamp(store.consistent_through(session, principal.tenant.id))
        return response

    agent = P.agent_param(params, max_depth=x.max_json_depth)
    limit_text = params.get("limit", "0")
    if not _LIMIT.fullmatch(limit_text):
        raise InvalidParameter(f"parameter 'limit' must be a nonnegative integer (ASCII digits), got {limit_text[:40]!r}", parameter="limit")
    page_max = int(current_app.config["SMEB_LRS_PAGE_MAX"])
    limit = min(int(limit_text) or page_max, page_max)
    # Consistent-Through first, then the query: every statement stored up to it is committed, and
    # statements stored after it are left for the next poll (since=<header>), so a poller sees each once.
    # The later pages of a query keep the first page's value.
    through = cursor["c"] if cursor and cursor.get("c") is not None else store.consistent_through(session, principal.tenant.id)
    query = store.Query(
        agent=st.agent_ifi(agent) if agent else None,
        verb=P.iri_param(params, "verb"),
        activity=P.iri_param(params, "activity"),
        registration=P.uuid_param(params, "registration"),
        related_activities=P.boolean(params, "related_activities"),
        related_agents=P.boolean(params, "related_agents"),
        since_us=P.timestamp_param(params, "since"),
        until_us=P.timestamp_param(params, "until"),
        ascending=P.boolean(params, "ascending"),
        mine_agent=mine_agent,
        mine_authority=mine_authority,
        through_us=through,
    )
    # Paging is stable under concurrent inserts: later pages never see statements newer than the first page's high-water mark.
    high = cursor["h"] if cursor else store.max_seq(session, principal.tenant.id)
    after = cursor["a"] if cursor else None
    rows = store.query_statements(session, principal.tenant.id, query, limit + 1, after, high)
    more = ""
    if len(rows) > limit:
        rows = rows[:limit]
        more = f"{request.path}?more=" + _encode_cursor({"p": params, "h": high, "a": rows[-1][0], "c": through})
    response = _statements_payload(session, principal, [row.statement for _, row in rows], fmt, languages, with_attachments, more=more)
    response.headers["X-Experience-API-Consistent-Through"] = st.format_timestamp(through)
    return response


def _statements_payload(
    session: Session,
    principal: auth.Principal,
    found: list[dict[str, Any]],
    fmt: str,
    languages: list[str],
    with_attachments: bool,
    single: bool = False,
    more: str = "",
) -> Response:
    if fmt == "ids":
        shown = [st.to_ids_format(s) for s in found]
    elif fmt == "canonical":
        canonical = store.canonical_definitions(session, principal.tenant.id, st.activity_ids_in(found))
        shown = [st.to_canonical_format(s, canonical, languages) for s in found]
    else:
        shown = found
    document: Any = shown[0] if single else {"statements": shown, "more": more}
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    if not with_attachments:
        return Response(body, status=200, mimetype="application/json")
    wanted = [str(a.get("sha2", "")).lower() for s in found for a in s.get("attachments") or []]
    data = store.attachment_data(session, principal.tenant.id, wanted)
    ordered = [(sha2, data[sha2][0], data[sha2][1]) for sha2 in dict.fromkeys(wanted) if sha2 in data]
    payload, content_type = multipart.build(body, ordered)
    return Response(payload, status=200, content_type=content_type)


_READ = ("GET", "HEAD")
_DOCUMENT = ("GET", "HEAD", "PUT", "POST", "DELETE")
_route("/statements", statements_resource, "statements", ("GET", "HEAD", "PUT", "POST"))
_route("/activities/state", documents.state, "state", _DOCUMENT)
_route("/activities/profile", documents.activity_profile, "activity_profile", _DOCUMENT)
_route("/agents/profile", documents.agent_profile, "agent_profile", _DOCUMENT)
_route("/activities", documents.activities, "activities", _READ)
_route("/agents", documents.agents, "agents", _READ)

