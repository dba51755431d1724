"""The demo LMS: a small LTI 1.3 *platform* that speaks real LTI over HTTP with signed JWTs.

It is what ``smeb demo`` starts next to the tool, so a customer (or a test) can try the whole
flow without Moodle or Canvas: OIDC login, resource-link and deep-linking launches, the OAuth2
client-credentials token endpoint, Assignment and Grade Services 2.0, Names and Role
Provisioning Services 2.0 and the deep-linking return. Pages: home (demo users and course links),
gradebook, and a log of every AGS/NRPS call the tool made.

Specs: LTI Core 1.3 and the Security Framework 1.0 (https://www.imsglobal.org/spec/lti/v1p3/,
https://www.imsglobal.org/spec/security/v1p0/), AGS 2.0, NRPS 2.0, Deep Linking 2.0.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, g, jsonify, render_template, request

from smeb_lti.demo_platform import crypto, store
from smeb_lti.demo_platform.errors import (
    AuthRequestInvalid,
    DeepLinkInvalid,
    NotFound,
    PlatformError,
    ScoreConflict,
    ScoreInvalid,
    ServiceForbidden,
    ServiceUnauthorized,
    TokenRequestInvalid,
    ToolTokenInvalid,
    UnsupportedMediaType,
)
from smeb_lti.demo_platform.i18n import STRINGS

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DL_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
DL_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
DL_LOG = "https://purl.imsglobal.org/spec/lti-dl/claim/log"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
ALL_SCOPES = frozenset(AGS_SCOPES + (SCOPE_NRPS,))

MT_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MT_LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MT_SCORE = "application/vnd.ims.lis.v1.score+json"
MT_RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
MT_MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")

HINT_TTL = 300  # a launch button press must reach the auth endpoint within 5 minutes
ID_TOKEN_TTL = 300
ACCESS_TOKEN_TTL = 3600
DL_REQUEST_TTL = 3600


@dataclass
class PlatformState:
    base_url: str
    db_path: Path
    page_size: int
    tool_keys: crypto.ToolKeys
    _key: tuple[str, Any, dict[str, Any]] | None = field(default=None)

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    @property
    def auth_url(self) -> str:
        return self.base_url + "/auth"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/.well-known/jwks.json"

    def lineitems_url(self, context_id: str) -> str:
        return f"{self.base_url}/api/contexts/{context_id}/lineitems"

    def memberships_url(self, context_id: str) -> str:
        return f"{self.base_url}/api/contexts/{context_id}/memberships"


def create_platform_app(config: Mapping[str, Any]) -> Flask:
    """The demo platform. ``config``: ``PLATFORM_URL`` (its issuer, e.g. ``http://127.0.0.1:5001``),
    ``PLATFORM_DB`` (its SQLite file), optional ``PLATFORM_PAGE_SIZE`` (NRPS/line-item page size, default 50)
    and ``PLATFORM_HTTP_TIMEOUT`` (seconds for fetching the tool's JWKS, default 10)."""
    missing = [k for k in ("PLATFORM_URL", "PLATFORM_DB") if not config.get(k)]
    if missing:
        raise ValueError(f"create_platform_app needs {', '.join(missing)} (e.g. PLATFORM_URL='http://127.0.0.1:5001')")
    app = Flask(__name__)
    app.config.update(config)
    state = PlatformState(
        base_url=str(config["PLATFORM_URL"]).rstrip("/"),
        db_path=Path(config["PLATFORM_DB"]),
        page_size=int(config.get("PLATFORM_PAGE_SIZE") or 50),
        tool_keys=crypto.ToolKeys(timeout=float(config.get("PLATFORM_HTTP_TIMEOUT") or 10)),
    )
    store.migrate(state.db_path)
    app.extensions["demo_platform"] = state
    app.teardown_appcontext(_close_db)
    _register_routes(app)
    _register_errors(app)
    return app


# -- plumbing --------------------------------------------------------------------------------


def _state() -> PlatformState:
    from flask import current_app

    return current_app.extensions["demo_platform"]  # type: ignore[no-any-return]


def _db() -> sqlite3.Connection:
    if "demo_db" not in g:
        g.demo_db = store.connect(_state().db_path)
    return g.demo_db  # type: ignore[no-any-return]


def _close_db(_error: BaseException | None) -> None:
    conn = g.pop("demo_db", None)
    if conn is not None:
        conn.close()


def _platform_key() -> tuple[str, Any, dict[str, Any]]:
    """``(kid, private key object, public JWK)``, loaded once per process."""
    state = _state()
    if state._key is None:
        with store.transaction(_db()) as conn:
            kid, private_pem, jwk = crypto.ensure_key(conn)
        state._key = (kid, crypto.load_private(private_pem), jwk)
    return state._key


def _lang() -> str:
    wanted = request.args.get("lang") or request.cookies.get("demo_lang") or "nb"
    return wanted if wanted in STRINGS else "nb"


def _page(template: str, status: int = 200, **values: Any) -> Response:
    lang = _lang()
    response = Response(render_template(template, t=STRINGS[lang], lang=lang, **values), status=status, mimetype="text/html")
    if request.args.get("lang") in STRINGS:
        response.set_cookie("demo_lang", lang, samesite="Lax", httponly=True)
    response.headers["Cache-Control"] = "no-store"
    return response


def _autopost(action: str, fields: Mapping[str, str], title: str, status: int = 200) -> Response:
    return _page("demo_platform/autopost.html", status=status, action=action, fields=fields, title=title)


def _register_errors(app: Flask) -> None:
    def handle(error: PlatformError) -> Response:
        if request.path.startswith(("/api/", "/token")):
            body = {"error": error.oauth_error, "error_description": error.message}
            response = jsonify(body)
            response.status_code = error.status
            if error.status in (401, 403):
                response.headers["WWW-Authenticate"] = f'Bearer error="{error.oauth_error}", error_description="{error.message[:200]}"'
            if request.path.startswith("/api/"):
                _log_call(error.status, error.message)
            return response
        return _page("demo_platform/error.html", status=error.status, message=error.message)

    app.register_error_handler(PlatformError, handle)


def _log_call(status: int, detail: str) -> None:
    service = "NRPS" if "/memberships" in request.path else "AGS"
    with store.transaction(_db()) as conn:
        store.log(conn, g.get("client_id"), service, request.method, request.full_path.rstrip("?"), status, detail)


# -- routes ----------------------------------------------------------------------------------


def _register_routes(app: Flask) -> None:
    app.add_url_rule("/", "home", home)
    app.add_url_rule("/gradebook", "gradebook", gradebook)
    app.add_url_rule("/log", "log", service_log)
    app.add_url_rule("/launch/<link_id>", "launch", launch, methods=["POST"])
    # Moodle's activity page (launch container "Embed") and its launch page, at Moodle's paths: the tool
    # finds the launch page from the message hint when an embedded launch needs a new window.
    app.add_url_rule("/mod/lti/view.php", "view_embedded", view_embedded)
    app.add_url_rule("/mod/lti/launch.php", "launch_page", launch_page)
    app.add_url_rule("/deep-link/start", "deep_link_start", deep_link_start, methods=["POST"])
    app.add_url_rule("/deep-link/return", "deep_link_return", deep_link_return, methods=["POST"])
    app.add_url_rule("/auth", "auth", auth, methods=["GET", "POST"])
    app.add_url_rule("/token", "token", token, methods=["POST"])
    app.add_url_rule("/.well-known/jwks.json", "jwks", jwks)
    app.add_url_rule("/.well-known/openid-configuration", "openid_configuration", openid_configuration)
    ctx = "/api/contexts/<context_id>"
    app.add_url_rule(ctx + "/lineitems", "lineitems", lineitems, methods=["GET", "POST"])
    app.add_url_rule(ctx + "/lineitems/<int:item_id>", "lineitem", lineitem, methods=["GET", "PUT", "DELETE"])
    app.add_url_rule(ctx + "/lineitems/<int:item_id>/scores", "scores", scores, methods=["POST"])
    app.add_url_rule(ctx + "/lineitems/<int:item_id>/results", "results", results, methods=["GET"])
    app.add_url_rule(ctx + "/memberships", "memberships", memberships, methods=["GET"])


# -- pages -----------------------------------------------------------------------------------


def home() -> Response:
    conn = _db()
    tools = store.tools(conn)
    links = []
    for row in store.links(conn):
        item = store.line_item_for_link(conn, row["id"])
        links.append({"row": row, "custom": json.loads(row["custom"]), "line_item": item})
    learners = [u for u in store.USERS if u.role_label == "learner"]
    return _page("demo_platform/home.html", tools=tools, links=links, users=store.MAIN_USERS, learners=learners, context=store.CONTEXT,
                 notice=request.args.get("added"))


def gradebook() -> Response:
    rows = []
    for r in store.gradebook(_db()):
        user = store.USERS_BY_ID.get(r["user_id"])
        grade = None
        if r["score_given"] is not None and r["score_maximum"]:
            grade = r["score_given"] / r["score_maximum"] * r["item_maximum"]
        rows.append({"r": r, "name": user.name if user else r["user_id"], "grade": grade})
    items = store.line_items(_db(), store.CONTEXT.id)
    return _page("demo_platform/gradebook.html", rows=rows, items=items, context=store.CONTEXT)


def service_log() -> Response:
    return _page("demo_platform/log.html", entries=store.log_entries(_db()), fmt_time=_fmt_time)


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
    with store.transaction(_db()) as conn:
        conn.execute("INSERT INTO launch_hints VALUES (?,?,?,?,?,?,?)",
                     (launch_id, user.id, kind, link_id, store.CONTEXT.id, tool.client_id, time.time()))
    # Moodle's shape (lti_build_login_request): the course module and a launch id that the auth endpoint
    # accepts once. A tool cannot reuse this hint; it can find the activity's launch page from "cmid".
    hint = {"cmid": link_id, "launchid": launch_id} if link_id else {"launchid": launch_id}
    fields = {
        "iss": _state().base_url,
        "login_hint": user.id,
        "target_link_uri": target,
        "lti_message_hint": json.dumps(hint),
        "client_id": tool.client_id,
        "lti_deployment_id": tool.deployment_id,
    }
    response = _autopost(tool.login_url, fields, STRINGS[_lang()]["launching"])
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
    link = store.get_link(_db(), link_id)
    if link is None:
        raise NotFound(f"no resource link {link_id!r}")
    tool = store.get_tool(_db(), link["client_id"])
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
    response = _page("demo_platform/embedded.html", link=link, src=src)
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
    tool = store.get_tool(_db(), request.form.get("client_id", ""))
    if tool is None:
        raise NotFound("no such tool: register it with `smeb demo`")
    return _initiate(tool, _user_from_form(), "deep_link", None, tool.deep_link_url)


def auth() -> Response:
    """The OIDC authorization endpoint: check the tool's authentication request, then form-post a signed id_token."""
    params = request.values
    tool = store.get_tool(_db(), params.get("client_id", ""))
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
        return _autopost(redirect_uri, fields, STRINGS[_lang()]["launch_refused"], status=400)
    kid, private_key, _ = _platform_key()
    return _autopost(redirect_uri, {"id_token": crypto.sign(claims, kid, private_key), "state": state},
                     STRINGS[_lang()]["launching"])


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
    with store.transaction(_db()) as conn:  # one use only, as in Moodle's auth.php
        hint = conn.execute("SELECT * FROM launch_hints WHERE id = ?", (launch_id,)).fetchone()
        conn.execute("DELETE FROM launch_hints WHERE id = ? OR created_at < ?", (launch_id, time.time() - HINT_TTL))
    if hint is None or hint["created_at"] < time.time() - HINT_TTL:
        raise AuthRequestInvalid("lti_message_hint is unknown, used or expired: press the launch button again")
    if hint["user_id"] != params["login_hint"] or hint["client_id"] != tool.client_id:
        raise AuthRequestInvalid("login_hint does not belong to this launch: the tool must return it unchanged")
    user = store.USERS_BY_ID[hint["user_id"]]
    state = _state()
    now = int(time.time())
    locale = "nb-NO" if _lang() == "nb" else "en-GB"
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
        with store.transaction(_db()) as conn:
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
    link = store.get_link(_db(), hint["link_id"])
    if link is None:
        raise AuthRequestInvalid("the resource link of this launch was removed")
    claims[LTI + "message_type"] = "LtiResourceLinkRequest"
    claims[LTI + "target_link_uri"] = link["url"]
    claims[LTI + "resource_link"] = {"id": link["id"], "title": link["title"], **({"description": link["text"]} if link["text"] else {})}
    claims[LTI + "custom"] = json.loads(link["custom"])
    ags: dict[str, Any] = {"scope": list(AGS_SCOPES), "lineitems": state.lineitems_url(store.CONTEXT.id)}
    item = store.line_item_for_link(_db(), link["id"])
    if item is not None:
        ags["lineitem"] = f"{state.lineitems_url(store.CONTEXT.id)}/{item['id']}"
    claims[AGS_CLAIM] = ags
    return claims


def jwks() -> Response:
    _, _, jwk = _platform_key()
    response = jsonify({"keys": [jwk]})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def openid_configuration() -> Response:
    state = _state()
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
    tool = store.get_tool(_db(), str(unverified.get("iss", "")))
    if tool is None:
        raise ToolTokenInvalid(f"client_assertion iss {unverified.get('iss')!r} is not a registered client_id")
    state = _state()
    claims = state.tool_keys.verify(assertion, tool.jwks_url, audience=[state.token_url, state.base_url], issuer=tool.client_id)
    if claims.get("sub") != tool.client_id:
        raise ToolTokenInvalid("client_assertion sub must equal iss (the client_id)")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise ToolTokenInvalid("client_assertion needs a jti (RFC 7523 §3)")
    with store.transaction(_db()) as conn:
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
    with store.transaction(_db()) as conn:
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
    row = _db().execute("SELECT * FROM access_tokens WHERE token_hash = ?", (crypto.token_hash(header[7:].strip()),)).fetchone()
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
    body: dict[str, Any] = {"id": f"{_state().lineitems_url(row['context_id'])}/{row['id']}", "label": row["label"],
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
    if body.get("resourceLinkId") and store.get_link(_db(), body["resourceLinkId"]) is None:
        raise ScoreInvalid(f"resourceLinkId {body['resourceLinkId']!r} is not a resource link of this context")


def _page_args() -> tuple[int, int]:
    try:
        limit = int(request.args.get("limit") or _state().page_size)
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
    return {"Link": f'<{_state().base_url}{request.path}?{urlencode(args)}>; rel="next"'}


def lineitems(context_id: str) -> Response:
    _context(context_id)
    if request.method == "POST":
        client_id = _require(SCOPE_LINEITEM)
        body = _json_body(MT_LINEITEM, "application/json")
        _check_lineitem(body)
        with store.transaction(_db()) as conn:
            item_id = store.add_line_item(conn, client_id, body["label"].strip(), float(body["scoreMaximum"]),
                                          resource_link_id=body.get("resourceLinkId"), resource_id=body.get("resourceId"),
                                          tag=body.get("tag"), start=body.get("startDateTime"), end=body.get("endDateTime"),
                                          context_id=context_id)
            row = store.get_line_item(conn, context_id, item_id)
        _log_call(201, f"created line item {item_id} {body['label']!r} (max {body['scoreMaximum']})")
        return _json(_lineitem_json(row), MT_LINEITEM, 201)  # type: ignore[arg-type]
    client_id = _require(SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
    rows = store.line_items(_db(), context_id, client_id, resource_link_id=request.args.get("resource_link_id"),
                            resource_id=request.args.get("resource_id"), tag=request.args.get("tag"))
    limit, offset = _page_args()
    page = rows[offset : offset + limit]
    _log_call(200, f"{len(page)} of {len(rows)} line items")
    return _json([_lineitem_json(r) for r in page], MT_LINEITEMS, headers=_next_link(len(rows), limit, offset))


def _item(context_id: str, item_id: int, client_id: str) -> sqlite3.Row:
    _context(context_id)
    row = store.get_line_item(_db(), context_id, item_id)
    if row is None or row["client_id"] != client_id:
        raise NotFound(f"no line item {item_id} in context {context_id!r} for this tool")
    return row


def lineitem(context_id: str, item_id: int) -> Response:
    if request.method == "GET":
        row = _item(context_id, item_id, _require(SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY))
        _log_call(200, f"line item {item_id}")
        return _json(_lineitem_json(row), MT_LINEITEM)
    _item(context_id, item_id, _require(SCOPE_LINEITEM))
    if request.method == "DELETE":
        with store.transaction(_db()) as conn:
            conn.execute("DELETE FROM line_items WHERE id = ?", (item_id,))
        _log_call(204, f"deleted line item {item_id}")
        return Response(status=204)
    body = _json_body(MT_LINEITEM, "application/json")
    _check_lineitem(body, partial=True)
    with store.transaction(_db()) as conn:
        store.update_line_item(conn, item_id, body)
        updated = store.get_line_item(conn, context_id, item_id)
    assert updated is not None
    _log_call(200, f"updated line item {item_id}")
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
    with store.transaction(_db()) as conn:
        stored = store.put_result(conn, item_id, body)
    given = f"{body.get('scoreGiven')}/{body.get('scoreMaximum')}" if body.get("scoreGiven") is not None else "no score"
    if not stored:
        # Moodle's answer and wording (scores.php): the tool must send strictly later timestamps per line item and user.
        raise ScoreConflict(f"Refusing score with an earlier timestamp for item {item_id} and user {body['userId']}"
                            f" ({body['timestamp']}: not later, in whole seconds, than the result on record)")
    _log_call(200, f"score for {body['userId']}: {given}, {body['activityProgress']}, {body['gradingProgress']}")
    return Response(status=200)


def results(context_id: str, item_id: int) -> Response:
    _item(context_id, item_id, _require(SCOPE_RESULT_READONLY))
    item_url = f"{_state().lineitems_url(context_id)}/{item_id}"
    rows = store.results(_db(), item_id, request.args.get("user_id"))
    limit, offset = _page_args()
    body = [
        {"id": f"{item_url}/results/{r['user_id']}", "scoreOf": item_url, "userId": r["user_id"],
         **({"resultScore": r["score_given"], "resultMaximum": r["score_maximum"]} if r["score_given"] is not None else {}),
         **({"comment": r["comment"]} if r["comment"] else {})}
        for r in rows[offset : offset + limit]
    ]
    _log_call(200, f"{len(body)} results of line item {item_id}")
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
        "id": _state().base_url + request.full_path.rstrip("?"),
        "context": {"id": context.id, "label": context.label, "title": context.title},
        "members": [
            {"status": "Active", "user_id": u.id, "roles": list(u.roles), "name": u.name, "given_name": u.given_name,
             "family_name": u.family_name, "email": u.email}
            for u in page
        ],
    }
    _log_call(200, f"{len(page)} of {len(people)} members (offset {offset}, limit {limit})")
    return _json(body, MT_MEMBERSHIPS, headers=_next_link(len(people), limit, offset))


# -- Deep Linking 2.0 return -----------------------------------------------------------------


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
    tool = store.get_tool(_db(), str(unverified.get("iss", "")))
    if tool is None:
        raise ToolTokenInvalid(f"deep-linking response iss {unverified.get('iss')!r} is not a registered client_id")
    state = _state()
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
    with store.transaction(_db()) as conn:
        request_row = conn.execute("SELECT * FROM deep_link_requests WHERE data = ?", (str(data or ""),)).fetchone()
        conn.execute("DELETE FROM deep_link_requests WHERE data = ? OR created_at < ?", (str(data or ""), time.time() - DL_REQUEST_TTL))
    if request_row is None or request_row["client_id"] != tool.client_id or request_row["created_at"] < time.time() - DL_REQUEST_TTL:
        raise DeepLinkInvalid("the 'data' claim does not match an open deep-linking request (it must be returned unchanged, once)")
    items = claims.get(DL_ITEMS) or []
    if not isinstance(items, list):
        raise DeepLinkInvalid("content_items must be a list")
    created = []
    with store.transaction(_db()) as conn:
        for index, item in enumerate(items):
            created.append(_create_item(conn, tool, request_row["context_id"], item, index))
    with store.transaction(_db()) as conn:
        store.log(conn, tool.client_id, "Deep Linking", "POST", "/deep-link/return", 200,
                  f"{len(created)} item(s): " + "; ".join(c["title"] for c in created))
    return _page("demo_platform/deep_link_done.html", created=created, message=claims.get(DL_MSG), log=claims.get(DL_LOG))


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


__all__ = ["PlatformState", "create_platform_app"]
