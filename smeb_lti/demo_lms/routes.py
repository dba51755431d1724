"""The demo LMS's pages and its side of the launches: OIDC login, id_token, deep linking (start and return)."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Response, jsonify, request

from smeb_lti.demo_lms import crypto, platform, store
from smeb_lti.demo_lms.claims import (
    AGS_CLAIM,
    AGS_SCOPES,
    ALL_SCOPES,
    DL_DATA,
    DL_ITEMS,
    DL_LOG,
    DL_MSG,
    DL_REQUEST_TTL,
    DL_SETTINGS,
    HINT_TTL,
    ID_TOKEN_TTL,
    LTI,
    NRPS_CLAIM,
)
from smeb_lti.demo_lms.errors import (
    AuthRequestInvalid,
    DeepLinkInvalid,
    NotFound,
    ToolTokenInvalid,
)
from smeb_lti.demo_lms.i18n import STRINGS

# -- pages -----------------------------------------------------------------------------------


def home() -> Response:
    conn = platform.db()
    tools = store.tools(conn)
    links = []
    for row in store.links(conn):
        item = store.line_item_for_link(conn, row["id"])
        links.append({"row": row, "custom": json.loads(row["custom"]), "line_item": item})
    learners = [u for u in store.USERS if u.role_label == "learner"]
    return platform.page("demo_lms/home.html", tools=tools, links=links, users=store.MAIN_USERS, learners=learners, context=store.CONTEXT,
                 notice=request.args.get("added"))


def gradebook() -> Response:
    rows = []
    for r in store.gradebook(platform.db()):
        user = store.USERS_BY_ID.get(r["user_id"])
        grade = None
        if r["score_given"] is not None and r["score_maximum"]:
            grade = r["score_given"] / r["score_maximum"] * r["item_maximum"]
        rows.append({"r": r, "name": user.name if user else r["user_id"], "grade": grade})
    items = store.line_items(platform.db(), store.CONTEXT.id)
    return platform.page("demo_lms/gradebook.html", rows=rows, items=items, context=store.CONTEXT)


def service_log() -> Response:
    return platform.page("demo_lms/log.html", entries=store.log_entries(platform.db()), fmt_time=_fmt_time)


def _fmt_time(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%H:%M:%S")


# -- launching: the platform side of OIDC third-party initiated login -------------------------


def _user_from_form() -> store.DemoUser:
    user = store.USERS_BY_ID.get(request.form.get("user", ""))
    if user is None:
        raise AuthRequestInvalid(f"unknown demo user {request.form.get('user')!r}")
    return user


USER_COOKIE = "demo_user"  # who pressed a start button last: the demo's stand-in for Moodle's login session


def _initiate(tool: store.Tool, user: store.DemoUser, kind: str, link_id: str | None, target: str) -> Response:
    launch_id = crypto.new_secret()
    with store.transaction(platform.db()) as conn:
        conn.execute("INSERT INTO launch_hints VALUES (?,?,?,?,?,?,?)",
                     (launch_id, user.id, kind, link_id, store.CONTEXT.id, tool.client_id, time.time()))
    # Moodle's shape (lti_build_login_request): the course module and a launch id that the auth endpoint
    # accepts once. A tool cannot reuse this hint; it can find the activity's launch page from "cmid".
    hint = {"cmid": link_id, "launchid": launch_id} if link_id else {"launchid": launch_id}
    fields = {
        "iss": platform.state().base_url,
        "login_hint": user.id,
        "target_link_uri": target,
        "lti_message_hint": json.dumps(hint),
        "client_id": tool.client_id,
        "lti_deployment_id": tool.deployment_id,
    }
    response = platform.autopost(tool.login_url, fields, STRINGS[platform.lang()]["launching"])
    response.set_cookie(USER_COOKIE, user.id, samesite="Lax", httponly=True)
    return response


def _launch_hint_id(message_hint: str) -> str:
    try:
        hint = json.loads(message_hint)
    except ValueError:
        return ""
    launch_id = hint.get("launchid") if isinstance(hint, dict) else None
    return launch_id if isinstance(launch_id, str) else ""


def _link_and_tool(link_id: str) -> tuple[sqlite3.Row, store.Tool]:
    link = store.get_link(platform.db(), link_id)
    if link is None:
        raise NotFound(f"no resource link {link_id!r}")
    tool = store.get_tool(platform.db(), link["client_id"])
    if tool is None:
        raise NotFound(f"the tool of link {link_id!r} is no longer registered")
    return link, tool


def _session_user() -> store.DemoUser:
    user = store.USERS_BY_ID.get(request.args.get("user") or request.cookies.get(USER_COOKIE, ""))
    if user is None:
        raise AuthRequestInvalid("no demo user is signed in: choose a user and press a start button on the course page")
    return user


def view_embedded() -> Response:
    """Moodle's ``mod/lti/view.php`` with launch container "Embed": the activity page, the tool in an iframe."""
    link, _ = _link_and_tool(request.args.get("id", ""))
    user = _session_user()
    src = "/mod/lti/launch.php?" + urlencode({"id": link["id"], "triggerview": "0"})
    response = platform.page("demo_lms/embedded.html", link=link, src=src)
    response.set_cookie(USER_COOKIE, user.id, samesite="Lax", httponly=True)
    return response


def launch_page() -> Response:
    """Moodle's ``mod/lti/launch.php?id=<cmid>``: a fresh login initiation for the signed-in user (GET, so a link can open it)."""
    link, tool = _link_and_tool(request.args.get("id", ""))
    return _initiate(tool, _session_user(), "link", link["id"], link["url"])


def launch(link_id: str) -> Response:
    """A launch button: start the OIDC login at the tool (LTI Security Framework §5.1.1.1)."""
    link, tool = _link_and_tool(link_id)
    return _initiate(tool, _user_from_form(), "link", link_id, link["url"])


def deep_link_start() -> Response:
    tool = store.get_tool(platform.db(), request.form.get("client_id", ""))
    if tool is None:
        raise NotFound("no such tool: register it with `smeb demo`")
    return _initiate(tool, _user_from_form(), "deep_link", None, tool.deep_link_url)


def auth() -> Response:
    """The OIDC authorization endpoint: check the tool's authentication request, then form-post a signed id_token."""
    params = request.values
    tool = store.get_tool(platform.db(), params.get("client_id", ""))
    if tool is None:
        raise AuthRequestInvalid(f"unknown client_id {params.get('client_id')!r}")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in tool.redirect_uris:
        # Never send anything to an unregistered address (OIDC Core §3.1.2.1, LTI Security §5.1.1.2).
        raise AuthRequestInvalid(f"redirect_uri {redirect_uri!r} is not registered for this tool (registered: {', '.join(tool.redirect_uris)})")
    state = params.get("state", "")
    try:
        claims = _id_token_claims(tool, params)
    except AuthRequestInvalid as error:
        fields = {"error": "invalid_request", "error_description": error.message}
        if state:
            fields["state"] = state
        return platform.autopost(redirect_uri, fields, STRINGS[platform.lang()]["launch_refused"], status=400)
    kid, private_key, _ = platform.platform_key()
    return platform.autopost(redirect_uri, {"id_token": crypto.sign(claims, kid, private_key), "state": state},
                     STRINGS[platform.lang()]["launching"])


def _id_token_claims(tool: store.Tool, params: Mapping[str, str]) -> dict[str, Any]:
    checks = (
        ("openid" in params.get("scope", "").split(), "scope must contain 'openid'"),
        (params.get("response_type") == "id_token", "response_type must be 'id_token'"),
        (params.get("response_mode") == "form_post", "response_mode must be 'form_post'"),
        (params.get("prompt") == "none", "prompt must be 'none'"),
        (bool(params.get("nonce")), "nonce is required"),
        (bool(params.get("state")), "state is required"),
        (bool(params.get("login_hint")), "login_hint is required"),
    )
    for ok, message in checks:
        if not ok:
            raise AuthRequestInvalid(f"authentication request refused: {message} (LTI Security Framework §5.1.1.2)")
    launch_id = _launch_hint_id(params.get("lti_message_hint", ""))
    with store.transaction(platform.db()) as conn:  # one use only, as in Moodle's auth.php
        hint = conn.execute("SELECT * FROM launch_hints WHERE id = ?", (launch_id,)).fetchone()
        conn.execute("DELETE FROM launch_hints WHERE id = ? OR created_at < ?", (launch_id, time.time() - HINT_TTL))
    if hint is None or hint["created_at"] < time.time() - HINT_TTL:
        raise AuthRequestInvalid("lti_message_hint is unknown, used or expired: press the launch button again")
    if hint["user_id"] != params["login_hint"] or hint["client_id"] != tool.client_id:
        raise AuthRequestInvalid("login_hint does not belong to this launch: the tool must return it unchanged")
    user = store.USERS_BY_ID[hint["user_id"]]
    state = platform.state()
    now = int(time.time())
    locale = "nb-NO" if platform.lang() == "nb" else "en-GB"
    claims: dict[str, Any] = {
        "iss": state.base_url,
        "aud": tool.client_id,
        "azp": tool.client_id,
        "sub": user.id,
        "iat": now,
        "exp": now + ID_TOKEN_TTL,
        "nonce": params["nonce"],
        "name": user.name,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "email": user.email,
        "locale": locale,
        LTI + "version": "1.3.0",
        LTI + "deployment_id": tool.deployment_id,
        LTI + "roles": list(user.roles),
        LTI + "context": {"id": store.CONTEXT.id, "label": store.CONTEXT.label, "title": store.CONTEXT.title,
                          "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]},
        LTI + "tool_platform": {"guid": state.base_url, "name": "SMEB demo-LMS", "product_family_code": "smeb-demo", "version": "1"},
        LTI + "launch_presentation": {"document_target": "window", "locale": locale, "return_url": state.base_url + "/"},
        NRPS_CLAIM: {"context_memberships_url": state.memberships_url(store.CONTEXT.id), "service_versions": ["2.0"]},
    }
    if hint["kind"] == "deep_link":
        data = crypto.new_secret()
        with store.transaction(platform.db()) as conn:
            conn.execute("INSERT INTO deep_link_requests VALUES (?,?,?,?,?)", (data, store.CONTEXT.id, tool.client_id, user.id, time.time()))
        claims[LTI + "message_type"] = "LtiDeepLinkingRequest"
        claims[LTI + "target_link_uri"] = tool.deep_link_url
        claims[DL_SETTINGS] = {
            "deep_link_return_url": state.base_url + "/deep-link/return",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": True,
            "auto_create": True,
            "title": store.CONTEXT.title,
            "data": data,
        }
        claims[AGS_CLAIM] = {"scope": list(AGS_SCOPES), "lineitems": state.lineitems_url(store.CONTEXT.id)}
        return claims
    link = store.get_link(platform.db(), hint["link_id"])
    if link is None:
        raise AuthRequestInvalid("the resource link of this launch was removed")
    claims[LTI + "message_type"] = "LtiResourceLinkRequest"
    claims[LTI + "target_link_uri"] = link["url"]
    claims[LTI + "resource_link"] = {"id": link["id"], "title": link["title"], **({"description": link["text"]} if link["text"] else {})}
    claims[LTI + "custom"] = json.loads(link["custom"])
    ags: dict[str, Any] = {"scope": list(AGS_SCOPES), "lineitems": state.lineitems_url(store.CONTEXT.id)}
    item = store.line_item_for_link(platform.db(), link["id"])
    if item is not None:
        ags["lineitem"] = f"{state.lineitems_url(store.CONTEXT.id)}/{item['id']}"
    claims[AGS_CLAIM] = ags
    return claims


def jwks() -> Response:
    _, _, jwk = platform.platform_key()
    response = jsonify({"keys": [jwk]})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def openid_configuration() -> Response:
    state = platform.state()
    return jsonify({
        "issuer": state.base_url,
        "authorization_endpoint": state.auth_url,
        "token_endpoint": state.token_url,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": state.jwks_url,
        "scopes_supported": ["openid", *sorted(ALL_SCOPES)],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email", "locale"],
    })


# -- OAuth2 client credentials (LTI Security Framework §4.1, RFC 7523) -------------------------


def deep_link_return() -> Response:
    """Verify the tool's signed LtiDeepLinkingResponse and create the links and line items it carries."""
    token_text = request.form.get("JWT", "")
    if not token_text:
        raise DeepLinkInvalid("the deep-linking response has no JWT form field (Deep Linking 2.0 §4.2)")
    import jwt as pyjwt

    try:
        unverified = pyjwt.decode(token_text, options={"verify_signature": False})
    except pyjwt.PyJWTError as error:
        raise ToolTokenInvalid(f"the deep-linking response is not a JWT: {error}") from None
    tool = store.get_tool(platform.db(), str(unverified.get("iss", "")))
    if tool is None:
        raise ToolTokenInvalid(f"deep-linking response iss {unverified.get('iss')!r} is not a registered client_id")
    state = platform.state()
    claims = state.tool_keys.verify(token_text, tool.jwks_url, audience=state.base_url, issuer=tool.client_id)
    if claims.get(LTI + "message_type") != "LtiDeepLinkingResponse":
        raise DeepLinkInvalid(f"message_type must be LtiDeepLinkingResponse, got {claims.get(LTI + 'message_type')!r}")
    if claims.get(LTI + "version") != "1.3.0":
        raise DeepLinkInvalid("version must be 1.3.0")
    if claims.get(LTI + "deployment_id") != tool.deployment_id:
        raise DeepLinkInvalid(f"deployment_id {claims.get(LTI + 'deployment_id')!r} is not this tool's deployment")
    if not claims.get("nonce"):
        raise DeepLinkInvalid("the deep-linking response needs a nonce (Deep Linking 2.0 §4.2.1)")
    data = claims.get(DL_DATA)
    with store.transaction(platform.db()) as conn:
        request_row = conn.execute("SELECT * FROM deep_link_requests WHERE data = ?", (str(data or ""),)).fetchone()
        conn.execute("DELETE FROM deep_link_requests WHERE data = ? OR created_at < ?", (str(data or ""), time.time() - DL_REQUEST_TTL))
    if request_row is None or request_row["client_id"] != tool.client_id or request_row["created_at"] < time.time() - DL_REQUEST_TTL:
        raise DeepLinkInvalid("the 'data' claim does not match an open deep-linking request (it must be returned unchanged, once)")
    items = claims.get(DL_ITEMS) or []
    if not isinstance(items, list):
        raise DeepLinkInvalid("content_items must be a list")
    created = []
    with store.transaction(platform.db()) as conn:
        for index, item in enumerate(items):
            created.append(_create_item(conn, tool, request_row["context_id"], item, index))
    with store.transaction(platform.db()) as conn:
        store.log(conn, tool.client_id, "Deep Linking", "POST", "/deep-link/return", 200,
                  f"{len(created)} item(s): " + "; ".join(c["title"] for c in created))
    return platform.page("demo_lms/deep_link_done.html", created=created, message=claims.get(DL_MSG), log=claims.get(DL_LOG))


def _create_item(conn: sqlite3.Connection, tool: store.Tool, context_id: str, item: Any, index: int) -> dict[str, Any]:
    where = f"content_items[{index}]"
    if not isinstance(item, dict) or item.get("type") != "ltiResourceLink":
        raise DeepLinkInvalid(f"{where}: only type 'ltiResourceLink' is accepted here (accept_types)")
    url = item.get("url") or tool.launch_url
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise DeepLinkInvalid(f"{where}.url must be an http(s) URL")
    title = item.get("title") or tool.name
    custom = item.get("custom") or {}
    if not isinstance(title, str) or not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values()):
        raise DeepLinkInvalid(f"{where}: title must be a string and custom a map of strings")
    link_id = "rl-" + uuid.uuid4().hex[:12]
    text = item.get("text") if isinstance(item.get("text"), str) else None
    store.add_link(conn, link_id, tool.client_id, title, url, custom, "deep-link", text, context_id)
    result = {"id": link_id, "title": title, "custom": custom, "line_item": None}
    line = item.get("lineItem")
    if line is not None:
        if not isinstance(line, dict):
            raise DeepLinkInvalid(f"{where}.lineItem must be an object")
        try:
            maximum = float(line["scoreMaximum"])
        except (KeyError, TypeError, ValueError):
            maximum = 0.0
        if not maximum > 0:
            raise DeepLinkInvalid(f"{where}.lineItem.scoreMaximum must be a number > 0 (Deep Linking 2.0 §3.4.1)")
        label = line.get("label") or title
        item_id = store.add_line_item(conn, tool.client_id, str(label), maximum, resource_link_id=link_id,
                                      resource_id=line.get("resourceId"), tag=line.get("tag"), context_id=context_id)
        result["line_item"] = {"id": item_id, "label": label, "scoreMaximum": maximum}
    return result
