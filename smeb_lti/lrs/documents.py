"""Document resources (Communication 2.2-2.7): State, Activity Profile, Agent Profile,
plus the Activities, Agents and About resources. Concurrency by ETag (Communication 3.1).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from flask import Response
from sqlalchemy.orm import Session

from smeb_lti.lrs import document_store, store, tables
from smeb_lti.lrs import params as P
from smeb_lti.lrs import statements as st
from smeb_lti.lrs.auth import Principal
from smeb_lti.lrs.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
)
from xapi.jsonlimits import JsonLimitError, loads_bounded

ABOUT_VERSIONS = ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0"]


def _json_response(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), status=status, mimetype="application/json")


def _etags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",") if tag.strip()]


def _check_preconditions(x: P.XRequest, existing: document_store.Document | None) -> None:
    if_match = x.header("if-match")
    if_none_match = x.header("if-none-match")
    if if_match is not None:
        tags = _etags(if_match)
        if existing is None:
            raise PreconditionFailed("If-Match was sent but the document does not exist; PUT with If-None-Match: * to create it")
        if "*" not in tags and existing.etag not in tags:
            raise PreconditionFailed(
                f'If-Match {if_match} does not match the current ETag "{existing.etag}"; GET the document again and retry with that ETag'
            )
    if if_none_match is not None and existing is not None:
        tags = _etags(if_none_match)
        if "*" in tags or existing.etag in tags:
            raise PreconditionFailed(
                f'If-None-Match {if_none_match} failed: the document exists (ETag "{existing.etag}"); use If-Match to replace it'
            )


def _document_response(doc: document_store.Document) -> Response:
    response = Response(doc.content, status=200, content_type=doc.content_type)
    response.headers["ETag"] = f'"{doc.etag}"'
    response.headers["Last-Modified"] = st.http_date(doc.updated_us)
    return response


def _incoming(x: P.XRequest) -> tuple[bytes, str]:
    """The body and its Content-Type; a JSON document must be JSON every later reader accepts.

    Refused with 400: invalid JSON, NaN/Infinity/1e400 (stored, every GET would return invalid JSON),
    nesting deeper than SMEB_LRS_MAX_JSON_DEPTH. U+0000 is allowed: documents are stored as bytes, and
    ``\u0000`` is valid JSON text.
    """
    content_type = x.header("content-type") or "application/octet-stream"
    if len(content_type) > tables.MAX_CONTENT_TYPE:
        raise BadRequest(
            f"the Content-Type header is longer than the {tables.MAX_CONTENT_TYPE} characters this LRS stores for a document",
            header="Content-Type",
        )
    if x.content_type == "application/json":
        try:
            loads_bounded(x.body, max_depth=x.max_json_depth, allow_nul=True)
        except JsonLimitError as error:
            raise BadRequest(
                f"document sent as application/json is not JSON this LRS can keep: {error.reason} (at {error.path} of the body)",
                path=error.path,
            ) from None
    return x.body, content_type


def _json_object(data: bytes, what: str, max_depth: int) -> dict[str, Any]:
    try:
        value = loads_bounded(data, max_depth=max_depth, allow_nul=True)
    except JsonLimitError:
        value = None
    if not isinstance(value, dict):
        raise BadRequest(f"cannot merge: the {what} is not a JSON object (POST merges JSON objects only; use PUT to replace)")
    return value


# What a PUT without If-Match and If-None-Match gets (Communication 3.1):
# "replace": stored whether or not the document exists (State under 1.0.3);
# "conflict": 409 when the document exists, stored otherwise (State under 2.0.0);
# "required": 409 when it exists, 400 when it does not (profiles: the client MUST send one of them).
PutRule = Literal["replace", "conflict", "required"]


def _single_document(
    session: Session, tenant_id: int, scope: document_store.DocumentScope, doc_id: str, x: P.XRequest, put_rule: PutRule
) -> Response:
    try:
        return _write_or_read(session, tenant_id, scope, doc_id, x, put_rule)
    except document_store.StaleDocument:
        raise PreconditionFailed(
            f"document {doc_id!r} was changed by another request while this one was processed; GET it again and retry with its new ETag"
        ) from None


def _write_or_read(
    session: Session, tenant_id: int, scope: document_store.DocumentScope, doc_id: str, x: P.XRequest, put_rule: PutRule
) -> Response:
    existing = document_store.get_document(session, tenant_id, scope, doc_id)
    if x.method in ("GET", "HEAD"):
        if existing is None:
            raise NotFound(f"no document {doc_id!r} here")
        return _document_response(existing)
    # With If-Match the write is a compare-and-set on the ETag read here (Communication 3.1).
    expected = existing.etag if existing is not None and x.header("if-match") is not None else None
    if x.method == "DELETE":
        _check_preconditions(x, existing)
        document_store.delete_documents(session, tenant_id, scope, doc_id, expected_etag=expected)
        return Response(status=204)
    _check_preconditions(x, existing)
    content, content_type = _incoming(x)
    if x.method == "PUT":
        unconditional = x.header("if-match") is None and x.header("if-none-match") is None
        if unconditional and existing is not None and put_rule != "replace":
            raise Conflict(
                f"document {doc_id!r} exists and the PUT had neither If-Match nor If-None-Match: GET it, "
                f'then PUT with If-Match: "<its ETag>" (current "{existing.etag}") (Communication 3.1)'
            )
        if unconditional and put_rule == "required":
            # Communication 3.1: a client PUTting a profile MUST send If-Match or If-None-Match
            # (ADL suite XAPI-00273, XAPI-00287, XAPI-00293 expect 400 when the document is new).
            raise BadRequest(
                f"a PUT to a profile document needs If-Match or If-None-Match; to create {doc_id!r}, "
                "PUT with If-None-Match: * (Communication 3.1)"
            )
        document_store.put_document(session, tenant_id, scope, doc_id, content, content_type, expected_etag=expected)
        return Response(status=204)
    # POST: merge JSON objects into an existing document, or create it.
    if existing is not None:
        if existing.content_type.split(";")[0].strip().lower() != "application/json" or x.content_type != "application/json":
            raise BadRequest("cannot merge: both the stored and the posted document must be application/json (use PUT to replace)")
        merged = _json_object(existing.content, "stored document", x.max_json_depth)
        merged.update(_json_object(content, "posted document", x.max_json_depth))
        document_store.put_document(
            session, tenant_id, scope, doc_id, json.dumps(merged, ensure_ascii=False).encode("utf-8"), "application/json",
            expected_etag=existing.etag,  # a merge must not lose a concurrent write either
        )
    else:
        # A POST for a document the LRS does not hold is a PUT (Communication 2.2): any valid content is stored.
        document_store.put_document(session, tenant_id, scope, doc_id, content, content_type)
    return Response(status=204)


def _list_documents(session: Session, tenant_id: int, scope: document_store.DocumentScope, x: P.XRequest) -> Response:
    since = P.timestamp_param(x.params, "since")
    found = document_store.list_documents(session, tenant_id, scope, since)
    response = _json_response([doc_id for doc_id, _ in found])
    if found:
        response.headers["Last-Modified"] = st.http_date(max(updated for _, updated in found))
    return response


def _token_agent_guard(principal: Principal, agent: dict[str, Any], registration: str | None = None) -> None:
    if principal.actor_ifi is not None and st.agent_ifi(agent) != principal.actor_ifi:
        raise Forbidden("a launch token may only use documents of its own learner (agent parameter differs)")


def state(session: Session, principal: Principal, x: P.XRequest) -> Response:
    """activities/state (Communication 2.3)."""
    read = x.method in ("GET", "HEAD")
    principal.require("state", read=read)
    # "since" filters listings; with a stateId (or on DELETE) it is accepted and ignored, but must be a
    # timestamp (ADL suite: GET with stateId and since gives the document; XAPI-00205, XAPI-00223).
    allowed = {"activityId", "agent", "registration", "stateId"} | ({"since"} if read or x.method == "DELETE" else set())
    P.check_allowed(x.params, allowed, "activities/state")
    P.timestamp_param(x.params, "since")
    activity_id = P.iri_param(x.params, "activityId", is_required=True)
    agent = P.agent_param(x.params, required=True, max_depth=x.max_json_depth)
    assert agent is not None and activity_id is not None
    registration = P.uuid_param(x.params, "registration")
    _token_agent_guard(principal, agent)
    scope = document_store.DocumentScope("state", activity_id, st.agent_ifi(agent), registration)
    state_id = x.params.get("stateId")
    if state_id is None:
        if x.method in ("PUT", "POST"):
            raise BadRequest("parameter 'stateId' is required to store a state document")
        if x.method == "DELETE":
            document_store.delete_documents(session, principal.tenant.id, scope, None)
            return Response(status=204)
        return _list_documents(session, principal.tenant.id, scope, x)
    # xAPI 2.0.0 (Communication 3.1, 4.1.4) extends the 409 rule to the State resource; 1.0.3 keeps it to profiles.
    return _single_document(session, principal.tenant.id, scope, state_id, x, put_rule="conflict" if x.version.startswith("2.") else "replace")


def activity_profile(session: Session, principal: Principal, x: P.XRequest) -> Response:
    """activities/profile (Communication 2.7)."""
    read = x.method in ("GET", "HEAD")
    principal.require("profile", read=read)
    P.check_allowed(x.params, {"activityId", "profileId"} | ({"since"} if read else set()), "activities/profile")
    activity_id = P.iri_param(x.params, "activityId", is_required=True)
    scope = document_store.DocumentScope("activity", activity_id)
    return _profile(session, principal, scope, x)


def agent_profile(session: Session, principal: Principal, x: P.XRequest) -> Response:
    """agents/profile (Communication 2.6)."""
    read = x.method in ("GET", "HEAD")
    principal.require("profile", read=read)
    P.check_allowed(x.params, {"agent", "profileId"} | ({"since"} if read else set()), "agents/profile")
    agent = P.agent_param(x.params, required=True, max_depth=x.max_json_depth)
    assert agent is not None
    _token_agent_guard(principal, agent)
    scope = document_store.DocumentScope("agent", agent_ifi=st.agent_ifi(agent))
    return _profile(session, principal, scope, x)


def _profile(session: Session, principal: Principal, scope: document_store.DocumentScope, x: P.XRequest) -> Response:
    profile_id = x.params.get("profileId")
    if profile_id is None:
        if x.method not in ("GET", "HEAD"):
            raise BadRequest("parameter 'profileId' is required except when listing profile ids")
        return _list_documents(session, principal.tenant.id, scope, x)
    P.timestamp_param(x.params, "since")  # with a profileId: accepted and ignored (ADL suite, XAPI-00268)
    return _single_document(session, principal.tenant.id, scope, profile_id, x, put_rule="required")


def activities(session: Session, principal: Principal, x: P.XRequest) -> Response:
    """GET activities: the canonical (merged) Activity definition (Communication 2.5)."""
    if x.method not in ("GET", "HEAD"):
        raise BadRequest("the Activities resource only supports GET")
    principal.require("statements/read", "statements/read/mine", "profile", "state", read=True)
    P.check_allowed(x.params, {"activityId"}, "activities")
    activity_id = P.iri_param(x.params, "activityId", is_required=True)
    assert activity_id is not None
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    definition = store.canonical_definitions(session, principal.tenant.id, [activity_id]).get(activity_id)
    if definition:
        activity["definition"] = definition
    return _json_response(activity)


def agents(session: Session, principal: Principal, x: P.XRequest) -> Response:
    """GET agents: a Person object for the agent (Communication 2.4)."""
    if x.method not in ("GET", "HEAD"):
        raise BadRequest("the Agents resource only supports GET")
    principal.require("statements/read", "statements/read/mine", "profile", "state", read=True)
    P.check_allowed(x.params, {"agent"}, "agents")
    agent = P.agent_param(x.params, required=True, max_depth=x.max_json_depth)
    assert agent is not None
    if agent.get("objectType") == "Group":
        raise BadRequest("the Agents resource takes an Agent, not a Group")
    person: dict[str, Any] = {"objectType": "Person"}
    if "name" in agent:
        person["name"] = [agent["name"]]
    for key in ("mbox", "mbox_sha1sum", "openid", "account"):
        if key in agent:
            person[key] = [agent[key]]
    return _json_response(person)


def about() -> Response:
    """GET about (Communication 2.8): versions this LRS speaks."""
    return _json_response({"version": ABOUT_VERSIONS, "extensions": {"https://smeb.no/xapi/lrs": {"name": "SMEB embedded LRS"}}})


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()
