"""GET statements (Communication 2.1.3): one statement, or a filtered page with a ``more`` cursor."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from flask import Response, request
from sqlalchemy.orm import Session

from smeb_lti.lrs import auth, clock, formats, multipart, store
from smeb_lti.lrs import params as P
from smeb_lti.lrs import query as lrs_query
from smeb_lti.lrs import statements as st
from smeb_lti.lrs.errors import InvalidParameter, NotFound
from smeb_lti.settings import settings
from xapi.jsonlimits import loads_bounded

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


def get_statements(session: Session, principal: auth.Principal, x: P.XRequest) -> Response:
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
    languages = formats.parse_accept_language(x.header("accept-language"))

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
        response.headers["X-Experience-API-Consistent-Through"] = st.format_timestamp(clock.consistent_through(session, principal.tenant.id))
        return response

    agent = P.agent_param(params, max_depth=x.max_json_depth)
    limit_text = params.get("limit", "0")
    if not _LIMIT.fullmatch(limit_text):
        raise InvalidParameter(f"parameter 'limit' must be a nonnegative integer (ASCII digits), got {limit_text[:40]!r}", parameter="limit")
    page_max = settings().lrs_page_max
    limit = min(int(limit_text) or page_max, page_max)
    # Consistent-Through first, then the query: every statement stored up to it is committed, and
    # statements stored after it are left for the next poll (since=<header>), so a poller sees each once.
    # The later pages of a query keep the first page's value.
    through = cursor["c"] if cursor and cursor.get("c") is not None else clock.consistent_through(session, principal.tenant.id)
    query = lrs_query.Query(
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
    high = cursor["h"] if cursor else lrs_query.max_seq(session, principal.tenant.id)
    after = cursor["a"] if cursor else None
    rows = lrs_query.query_statements(session, principal.tenant.id, query, limit + 1, after, high)
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
        shown = [formats.to_ids_format(s) for s in found]
    elif fmt == "canonical":
        canonical = store.canonical_definitions(session, principal.tenant.id, formats.activity_ids_in(found))
        shown = [formats.to_canonical_format(s, canonical, languages) for s in found]
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
