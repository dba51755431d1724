"""The demo LMS's services for the tool: the OAuth2 token endpoint, AGS 2.0 line items, scores and results, NRPS 2.0."""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Response, g, jsonify, request

from smeb_lti.demo_lms import crypto, platform, store
from smeb_lti.demo_lms.claims import (
    ACCESS_TOKEN_TTL,
    ACTIVITY_PROGRESS,
    ALL_SCOPES,
    GRADING_PROGRESS,
    MT_LINEITEM,
    MT_LINEITEMS,
    MT_MEMBERSHIPS,
    MT_RESULTS,
    MT_SCORE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_NRPS,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
)
from smeb_lti.demo_lms.errors import (
    NotFound,
    ScoreConflict,
    ScoreInvalid,
    ServiceForbidden,
    ServiceUnauthorized,
    TokenRequestInvalid,
    ToolTokenInvalid,
    UnsupportedMediaType,
)


def token() -> Response:
    form = request.form
    if form.get("grant_type") != "client_credentials":
        raise TokenRequestInvalid(f"grant_type must be 'client_credentials', got {form.get('grant_type')!r}")
    if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
        raise TokenRequestInvalid("client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer (RFC 7523)")
    assertion = form.get("client_assertion", "")
    try:
        import jwt as pyjwt

        unverified = pyjwt.decode(assertion, options={"verify_signature": False})
    except Exception as error:
        raise ToolTokenInvalid(f"client_assertion is not a JWT: {error}") from None
    tool = store.get_tool(platform.db(), str(unverified.get("iss", "")))
    if tool is None:
        raise ToolTokenInvalid(f"client_assertion iss {unverified.get('iss')!r} is not a registered client_id")
    state = platform.state()
    claims = state.tool_keys.verify(assertion, tool.jwks_url, audience=[state.token_url, state.base_url], issuer=tool.client_id)
    if claims.get("sub") != tool.client_id:
        raise ToolTokenInvalid("client_assertion sub must equal iss (the client_id)")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise ToolTokenInvalid("client_assertion needs a jti (RFC 7523 §3)")
    with store.transaction(platform.db()) as conn:
        conn.execute("DELETE FROM used_jtis WHERE expires_at < ?", (time.time(),))
        if conn.execute("SELECT 1 FROM used_jtis WHERE jti = ?", (jti,)).fetchone():
            raise ToolTokenInvalid("client_assertion jti was used before: make a new assertion for every token request")
        conn.execute("INSERT INTO used_jtis VALUES (?, ?)", (jti, float(claims["exp"]) + 60))
    requested = [s for s in form.get("scope", "").split() if s]
    unknown = [s for s in requested if s not in ALL_SCOPES]
    if not requested or unknown:
        refusal = TokenRequestInvalid(f"scope must list LTI Advantage scopes; unknown: {unknown or 'none given'}")
        refusal.oauth_error = "invalid_scope"
        raise refusal
    access = crypto.new_secret()
    with store.transaction(platform.db()) as conn:
        conn.execute("DELETE FROM access_tokens WHERE expires_at < ?", (time.time(),))
        conn.execute("INSERT INTO access_tokens VALUES (?,?,?,?)",
                     (crypto.token_hash(access), tool.client_id, " ".join(sorted(requested)), time.time() + ACCESS_TOKEN_TTL))
    response = jsonify({"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_TTL, "scope": " ".join(sorted(requested))})
    response.headers["Cache-Control"] = "no-store"
    return response


def _require(*any_of: str) -> str:
    """The client id of a valid bearer token that holds one of ``any_of`` scopes."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise ServiceUnauthorized("missing bearer token: get one from the token endpoint (client_credentials)")
    row = platform.db().execute("SELECT * FROM access_tokens WHERE token_hash = ?", (crypto.token_hash(header[7:].strip()),)).fetchone()
    if row is None or row["expires_at"] < time.time():
        raise ServiceUnauthorized("the access token is unknown or expired: get a new one")
    g.client_id = row["client_id"]
    if not set(row["scopes"].split()) & set(any_of):
        raise ServiceForbidden(f"the access token lacks the scope for this call (needs one of: {', '.join(any_of)})")
    return str(row["client_id"])


def _context(context_id: str) -> store.DemoContext:
    if context_id != store.CONTEXT.id:
        raise NotFound(f"no context {context_id!r}")
    return store.CONTEXT


def _json_body(*media_types: str) -> Any:
    mimetype = request.mimetype
    if mimetype not in media_types:
        raise UnsupportedMediaType(f"Content-Type must be {media_types[0]}, got {mimetype or 'none'!r}")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ScoreInvalid("the body must be a JSON object")
    return body


def _json(body: Any, media_type: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype=media_type, headers=dict(headers or {}))
    response.headers["Cache-Control"] = "no-store"
    return response


# -- AGS 2.0 ---------------------------------------------------------------------------------


def _lineitem_json(row: sqlite3.Row) -> dict[str, Any]:
    body: dict[str, Any] = {"id": f"{platform.state().lineitems_url(row['context_id'])}/{row['id']}", "label": row["label"],
                            "scoreMaximum": row["score_maximum"]}
    for key, column in (("resourceLinkId", "resource_link_id"), ("resourceId", "resource_id"), ("tag", "tag"),
                        ("startDateTime", "start_date_time"), ("endDateTime", "end_date_time")):
        if row[column] is not None:
            body[key] = row[column]
    return body


def _check_lineitem(body: Mapping[str, Any], partial: bool = False) -> None:
    label, maximum = body.get("label"), body.get("scoreMaximum")
    if not partial or "label" in body:
        if not isinstance(label, str) or not label.strip():
            raise ScoreInvalid("line item 'label' must be a non-empty string (AGS 2.0 §3.2.4)")
    if not partial or "scoreMaximum" in body:
        if isinstance(maximum, bool) or not isinstance(maximum, (int, float)) or not maximum > 0 or not math.isfinite(maximum):
            raise ScoreInvalid("line item 'scoreMaximum' must be a number greater than 0 (AGS 2.0 §3.2.7)")
    for key in ("resourceId", "tag", "resourceLinkId", "startDateTime", "endDateTime"):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise ScoreInvalid(f"line item '{key}' must be a string")
    if body.get("resourceLinkId") and store.get_link(platform.db(), body["resourceLinkId"]) is None:
        raise ScoreInvalid(f"resourceLinkId {body['resourceLinkId']!r} is not a resource link of this context")


def _page_args() -> tuple[int, int]:
    try:
        limit = int(request.args.get("limit") or platform.state().page_size)
        offset = int(request.args.get("offset") or 0)
    except ValueError:
        raise ScoreInvalid("limit and offset must be whole numbers") from None
    if not 1 <= limit <= 1000 or offset < 0:
        raise ScoreInvalid("limit must be 1..1000 and offset >= 0")
    return limit, offset


def _next_link(total: int, limit: int, offset: int) -> dict[str, str]:
    if offset + limit >= total:
        return {}
    args = {k: v for k, v in request.args.items() if k not in ("limit", "offset")}
    args.update(limit=str(limit), offset=str(offset + limit))
    return {"Link": f'<{platform.state().base_url}{request.path}?{urlencode(args)}>; rel="next"'}


def lineitems(context_id: str) -> Response:
    _context(context_id)
    if request.method == "POST":
        client_id = _require(SCOPE_LINEITEM)
        body = _json_body(MT_LINEITEM, "application/json")
        _check_lineitem(body)
        with store.transaction(platform.db()) as conn:
            item_id = store.add_line_item(conn, client_id, body["label"].strip(), float(body["scoreMaximum"]),
                                          resource_link_id=body.get("resourceLinkId"), resource_id=body.get("resourceId"),
                                          tag=body.get("tag"), start=body.get("startDateTime"), end=body.get("endDateTime"),
                                          context_id=context_id)
            row = store.get_line_item(conn, context_id, item_id)
        assert row is not None  # inserted just above, in this transaction
        platform.log_call(201, f"created line item {item_id} {body['label']!r} (max {body['scoreMaximum']})")
        return _json(_lineitem_json(row), MT_LINEITEM, 201)
    client_id = _require(SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
    rows = store.line_items(platform.db(), context_id, client_id, resource_link_id=request.args.get("resource_link_id"),
                            resource_id=request.args.get("resource_id"), tag=request.args.get("tag"))
    limit, offset = _page_args()
    page = rows[offset : offset + limit]
    platform.log_call(200, f"{len(page)} of {len(rows)} line items")
    return _json([_lineitem_json(r) for r in page], MT_LINEITEMS, headers=_next_link(len(rows), limit, offset))


def _item(context_id: str, item_id: int, client_id: str) -> sqlite3.Row:
    _context(context_id)
    row = store.get_line_item(platform.db(), context_id, item_id)
    if row is None or row["client_id"] != client_id:
        raise NotFound(f"no line item {item_id} in context {context_id!r} for this tool")
    return row


def lineitem(context_id: str, item_id: int) -> Response:
    if request.method == "GET":
        row = _item(context_id, item_id, _require(SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY))
        platform.log_call(200, f"line item {item_id}")
        return _json(_lineitem_json(row), MT_LINEITEM)
    _item(context_id, item_id, _require(SCOPE_LINEITEM))
    if request.method == "DELETE":
        with store.transaction(platform.db()) as conn:
            conn.execute("DELETE FROM line_items WHERE id = ?", (item_id,))
        platform.log_call(204, f"deleted line item {item_id}")
        return Response(status=204)
    body = _json_body(MT_LINEITEM, "application/json")
    _check_lineitem(body, partial=True)
    with store.transaction(platform.db()) as conn:
        store.update_line_item(conn, item_id, body)
        updated = store.get_line_item(conn, context_id, item_id)
    assert updated is not None
    platform.log_call(200, f"updated line item {item_id}")
    return _json(_lineitem_json(updated), MT_LINEITEM)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_score(body: Mapping[str, Any], context_id: str) -> None:
    """AGS 2.0 §3.4: every field checked, the message names the field and what is expected."""
    user_id = body.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise ScoreInvalid("score 'userId' must be the learner's LTI user id (the launch's 'sub')")
    member = next((u for u in store.members(context_id) if u.id == user_id), None)
    if member is None:
        raise ScoreInvalid(f"score 'userId' {user_id!r} is not a member of context {context_id!r}")
    if not store.gradable(member):
        # Moodle answers 400 "Incorrect score received" for a teacher (is_user_gradable_in_course).
        raise ScoreInvalid(f"score 'userId' {user_id!r} is not gradable in context {context_id!r}: only learners have grades")
    given: Any = body.get("scoreGiven")
    maximum: Any = body.get("scoreMaximum")
    if given is not None:
        if not _is_number(given) or given < 0:
            raise ScoreInvalid("score 'scoreGiven' must be a number >= 0")
        if not _is_number(maximum) or maximum <= 0:
            raise ScoreInvalid("score 'scoreMaximum' is required with scoreGiven and must be a number > 0 (AGS 2.0 §3.4.4)")
    elif maximum is not None and (not _is_number(maximum) or maximum <= 0):
        raise ScoreInvalid("score 'scoreMaximum' must be a number > 0")
    if body.get("activityProgress") not in ACTIVITY_PROGRESS:
        raise ScoreInvalid(f"score 'activityProgress' must be one of {', '.join(ACTIVITY_PROGRESS)}, got {body.get('activityProgress')!r}")
    if body.get("gradingProgress") not in GRADING_PROGRESS:
        raise ScoreInvalid(f"score 'gradingProgress' must be one of {', '.join(GRADING_PROGRESS)}, got {body.get('gradingProgress')!r}")
    stamp = body.get("timestamp")
    try:
        parsed = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) if isinstance(stamp, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ScoreInvalid(f"score 'timestamp' must be an ISO 8601 date-time with a time zone offset (AGS 2.0 §3.4.7), got {stamp!r}")
    if "comment" in body and body["comment"] is not None and not isinstance(body["comment"], str):
        raise ScoreInvalid("score 'comment' must be a string")


def scores(context_id: str, item_id: int) -> Response:
    client_id = _require(SCOPE_SCORE)
    _item(context_id, item_id, client_id)
    body = _json_body(MT_SCORE)
    _check_score(body, context_id)
    with store.transaction(platform.db()) as conn:
        stored = store.put_result(conn, item_id, body)
    given = f"{body.get('scoreGiven')}/{body.get('scoreMaximum')}" if body.get("scoreGiven") is not None else "no score"
    if not stored:
        # Moodle's answer and wording (scores.php): the tool must send strictly later timestamps per line item and user.
        raise ScoreConflict(f"Refusing score with an earlier timestamp for item {item_id} and user {body['userId']}"
                            f" ({body['timestamp']}: not later, in whole seconds, than the result on record)")
    platform.log_call(200, f"score for {body['userId']}: {given}, {body['activityProgress']}, {body['gradingProgress']}")
    return Response(status=200)


def results(context_id: str, item_id: int) -> Response:
    _item(context_id, item_id, _require(SCOPE_RESULT_READONLY))
    item_url = f"{platform.state().lineitems_url(context_id)}/{item_id}"
    rows = store.results(platform.db(), item_id, request.args.get("user_id"))
    limit, offset = _page_args()
    body = [
        {"id": f"{item_url}/results/{r['user_id']}", "scoreOf": item_url, "userId": r["user_id"],
         **({"resultScore": r["score_given"], "resultMaximum": r["score_maximum"]} if r["score_given"] is not None else {}),
         **({"comment": r["comment"]} if r["comment"] else {})}
        for r in rows[offset : offset + limit]
    ]
    platform.log_call(200, f"{len(body)} results of line item {item_id}")
    return _json(body, MT_RESULTS, headers=_next_link(len(rows), limit, offset))


# -- NRPS 2.0 --------------------------------------------------------------------------------


def memberships(context_id: str) -> Response:
    _require(SCOPE_NRPS)
    context = _context(context_id)
    role = request.args.get("role")
    people = [u for u in store.members(context_id) if not role or any(r == role or r.endswith("#" + role) for r in u.roles)]
    limit, offset = _page_args()
    page = people[offset : offset + limit]
    body = {
        "id": platform.state().base_url + request.full_path.rstrip("?"),
        "context": {"id": context.id, "label": context.label, "title": context.title},
        "members": [
            {"status": "Active", "user_id": u.id, "roles": list(u.roles), "name": u.name, "given_name": u.given_name,
             "family_name": u.family_name, "email": u.email}
            for u in page
        ],
    }
    platform.log_call(200, f"{len(page)} of {len(people)} members (offset {offset}, limit {limit})")
    return _json(body, MT_MEMBERSHIPS, headers=_next_link(len(people), limit, offset))


# -- Deep Linking 2.0 return -----------------------------------------------------------------
