"""The LTI edge: OIDC login, launch, JWKS; errors translated to HTTP in one place; the part's ``init_app``.

Deep linking is in :mod:`smeb_lti.lti.deep_linking`, dynamic registration in :mod:`smeb_lti.lti.dynamic_registration`.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    jsonify,
    redirect,
    render_template,
    request,
)
from pylti1p3.exception import LtiException, LtiServiceException, OIDCException
from werkzeug.wrappers import Response as BaseResponse

from smeb_lti import errors
from smeb_lti.db import session_scope
from smeb_lti.lti import binding, deep_linking, keys, launches, registrations, relaunch
from smeb_lti.lti import privacy as part_privacy
from smeb_lti.lti.dynamic_registration import bp as registration_bp
from smeb_lti.lti.dynamic_registration import refused_page
from smeb_lti.lti.errors import (
    InvalidToken,
    LoginError,
    LtiError,
    PlatformUnreachable,
    RateLimited,
    ReplayedToken,
    StateError,
    TokenTooLarge,
)
from smeb_lti.lti.pages import PAGE_CSP, same_text
from smeb_lti.lti.services import LtiServices, lti_services
from smeb_lti.lti.storage import DbStore
from smeb_lti.lti.validation import STATE_TTL, StateRecord, make_request
from smeb_lti.privacy import registry as privacy_registry
from smeb_lti.settings import get_settings
from smeb_lti.web import headers
from smeb_lti.web.sessions import sessions

bp = Blueprint("lti", __name__, template_folder="templates")
headers.policy(bp, PAGE_CSP, cache=None)

STATE_COOKIE = "lti_state_"
LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id", "lti_deployment_id")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _secure(services: LtiServices) -> bool:
    return request.is_secure or (services.settings.public_url or "").startswith("https://")


def _set_state_cookie(response: BaseResponse, services: LtiServices, state: str) -> None:
    # Over HTTPS the cookie must cross sites (the launch is a cross-site form POST, often in an iframe):
    # SameSite=None; Secure; Partitioned (CHIPS) so Chrome keeps it in the LMS's partition.
    if _secure(services):
        response.set_cookie(STATE_COOKIE + state, state, max_age=STATE_TTL, path="/lti/", secure=True, httponly=True, samesite="None", partitioned=True)
    else:
        response.set_cookie(STATE_COOKIE + state, state, max_age=STATE_TTL, path="/lti/", httponly=True, samesite="Lax")


def _clear_state_cookie(response: BaseResponse, services: LtiServices, state: str) -> None:
    if _secure(services):
        response.delete_cookie(STATE_COOKIE + state, path="/lti/", secure=True, httponly=True, samesite="None", partitioned=True)
    else:
        response.delete_cookie(STATE_COOKIE + state, path="/lti/", httponly=True, samesite="Lax")


def launch_url(services: LtiServices) -> str:
    return services.public_url(request.url_root) + "/lti/launch"


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> BaseResponse:
    """OIDC third-party initiated login (LTI Security Framework §5.1.1): answer with the authentication request."""
    services = lti_services()
    params = {k: v for k in LOGIN_PARAMS if (v := request.values.get(k))}
    missing = [k for k in ("iss", "login_hint", "target_link_uri") if k not in params]
    if missing:
        raise LoginError(f"the OIDC login initiation lacks {', '.join(missing)}; the platform must send iss, login_hint and target_link_uri")
    if urlsplit(params["target_link_uri"]).scheme not in ("http", "https"):
        raise LoginError(f"target_link_uri {params['target_link_uri']!r} is not an http(s) URL")
    with services.sessions() as session:
        registration = registrations.resolve(session, params["iss"], params.get("client_id"))
        if "lti_deployment_id" in params:
            registrations.require_deployment(registration, params["lti_deployment_id"])
        reg_id, client_id, auth_login_url = registration.id, registration.client_id, registration.auth_login_url
    # Counted only now: a login for an unregistered issuer or client was answered from a read and wrote nothing.
    services.login_limiter.check(request.remote_addr, params["iss"])

    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    storage_target = request.values.get("lti_storage_target") or None
    record = StateRecord(
        nonce=nonce,
        registration_id=reg_id,
        storage_secret=secrets.token_urlsafe(32) if storage_target else None,
        storage_target=storage_target,
        platform_origin=_origin(auth_login_url),
        login_params=params,
    )
    # One row per login: the nonce lives in the state record (no row of its own). The state is single-use
    # (the launch consumes it atomically), so the nonce bound to it can be used once only as well.
    services.store.put("state:" + state, record.to_json(), STATE_TTL)
    if isinstance(services.store, DbStore) and secrets.randbelow(50) == 0:
        services.store.purge_expired()  # now and then, so table lti_kv does not grow with old states and counters

    auth = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": client_id,
        "redirect_uri": launch_url(services),
        "state": state,
        "nonce": nonce,
        "login_hint": params["login_hint"],
    }
    if "lti_message_hint" in params:
        auth["lti_message_hint"] = params["lti_message_hint"]
    target = auth_login_url + ("&" if "?" in auth_login_url else "?") + urlencode(auth)
    response: BaseResponse
    if storage_target:
        # Platform storage (LTI Client Side postMessages): the state secret goes into the platform's frame,
        # so the launch can be bound to this browser without any third-party cookie.
        response = Response(
            render_template(
                "lti/put_data.html",
                auth_url=auth_login_url,
                auth_params=auth,
                storage_target=storage_target,
                platform_origin=record.platform_origin,
                key="state_" + state,
                value=record.storage_secret,
            )
        )
    else:
        response = redirect(target, code=302)
    _set_state_cookie(response, services, state)
    response.headers["Cache-Control"] = "no-store"
    return response


def _load_state(services: LtiServices, state: str) -> StateRecord:
    raw = services.store.get("state:" + state)
    if not isinstance(raw, dict):
        if services.store.get("state-used:" + state) is not None:
            raise ReplayedToken("this launch was already used (its state and nonce are single-use): start the activity again from the LMS")
        raise StateError("the launch's state is unknown or has expired (a login must complete within 10 minutes): start the activity again from the LMS")
    return StateRecord.from_json(raw)


def _new_window_url(services: LtiServices, record: StateRecord) -> str:
    return relaunch.new_window_url(services.public_url(request.url_root), record.login_params, record.platform_origin)


def _repost(services: LtiServices, state: str, id_token: str) -> Response:
    """Post the authentication response once more, now from the tool's own page.

    Over plain HTTP the state cookie is ``SameSite=Lax``, which a browser does not send with the
    platform's cross-site form POST even in a top-level window; sent again from this page the POST
    is same-site and the cookie comes along (Moodle's ``auth.php`` reposts for the same reason).
    The cookie is still required: this only gives it a chance to arrive.
    """
    return Response(
        render_template("lti/repost.html", action=launch_url(services), state=state, id_token=id_token),
        headers={"Cache-Control": "no-store"},
    )


def _check_size(services: LtiServices) -> None:
    """Refuse an oversized launch before its form or token is parsed (``SMEB_MAX_ID_TOKEN_BYTES``)."""
    limit = services.settings.max_id_token_bytes
    too_large = TokenTooLarge(
        f"the id_token is larger than {limit} bytes (SMEB_MAX_ID_TOKEN_BYTES); an LTI launch is a few kilobytes: "
        "check what the platform puts into its claims"
    )
    # The whole body first (state, id_token and a few small fields): the form is not even read.
    if request.content_length is not None and request.content_length > limit + 8192:
        raise too_large
    if len((request.form.get("id_token") or "").encode("utf-8")) > limit:
        raise too_large


@bp.post("/lti/launch")
def launch() -> BaseResponse:
    """The OIDC authentication response: validate the id_token and hand the learner to the player."""
    services = lti_services()
    _check_size(services)
    if request.form.get("error"):
        raise LoginError(f"the platform refused the login: {request.form.get('error')}: {request.form.get('error_description') or ''}".strip())
    state = request.form.get("state") or ""
    id_token = request.form.get("id_token") or ""
    if not state:
        raise StateError("the launch has no 'state': start the activity again from the LMS")
    if not id_token:
        raise InvalidToken("the launch has no id_token")
    record = _load_state(services, state)

    cookie = request.cookies.get(STATE_COOKIE + state) or ""
    proof = request.form.get("lti_storage_proof")
    holds_state = via_cookie = same_text(cookie, state)
    if not holds_state and proof is None and not request.form.get("lti_repost") and not _secure(services):
        return _repost(services, state, id_token)
    if not holds_state and record.storage_target and record.storage_secret:
        if proof is None:
            # No cookie came back (third-party cookies blocked): ask the platform's storage.
            return Response(
                render_template(
                    "lti/get_data.html",
                    action=launch_url(services),
                    storage_target=record.storage_target,
                    platform_origin=record.platform_origin,
                    key="state_" + state,
                    state=state,
                    id_token=id_token,
                    new_window_url=_new_window_url(services, record),
                ),
                headers={"Cache-Control": "no-store"},
            )
        holds_state = same_text(proof, record.storage_secret)
    if not holds_state:
        services.store.delete("state:" + state)
        raise StateError(
            "this browser did not start this launch (its state cookie is missing: third-party cookies may be blocked). "
            "Open the activity in a new window.",
            retry_url=_new_window_url(services, record),
        )
    # The single-use gate: an atomic add of the "used" mark, written before the state is removed, so a
    # concurrent or later replay always finds one of the two and is told the launch was already used.
    if not services.store.add("state-used:" + state, True, STATE_TTL) or services.store.consume("state:" + state) is None:
        raise ReplayedToken("this launch was already used (its state and nonce are single-use): start the activity again from the LMS")

    message_launch = services.message_launch(make_request(request.form))
    message_launch.validate_with_state(record)
    claims = message_launch.claims
    with session_scope(services.sessions) as session:
        context = launches.save_launch(
            session,
            launches.new_launch_id(),
            message_launch.registration_id or 0,
            message_launch.get_client_id(),
            claims,
            services.settings.launch_ttl,
        )
    base = services.public_url(request.url_root)
    where = "/deep-link/" if context.is_deep_linking else "/play/"
    target = base + where + context.launch_id
    if context.is_instructor and not via_cookie:
        # This browser sends no cookie to the tool (it proved the launch through the platform's storage):
        # the first page gets a single-use ticket instead, and hands fresh ones to its staff links.
        target += f"?{binding.TICKET}={binding.issue_ticket(context.launch_id)}"
    response = redirect(target, code=303)
    if context.is_instructor:
        binding.bind(response, context.launch_id, secure=_secure(services), max_age=services.settings.launch_ttl)
    _clear_state_cookie(response, services, state)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The tool's public keys (active and recently retired) for platforms verifying our signatures."""
    services = lti_services()
    with session_scope(services.sessions) as session:
        keys.ensure_key(session, services.fernet)
        body = keys.jwks(session)
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# --- errors --------------------------------------------------------------------------------


def _error_response(error: LtiError) -> Response:
    services = lti_services()
    wants_json = request.accept_mimetypes.best == "application/json" or request.path.startswith("/.well-known/")
    if wants_json:
        response = jsonify({"error": type(error).__name__, "message": error.message})
    elif isinstance(error, binding.BrowserNotBound):
        response = Response(render_template("lti/not_bound.html"), mimetype="text/html")
    else:
        response = Response(
            render_template("lti/error.html", message=error.message, retry_url=getattr(error, "retry_url", None)),
            mimetype="text/html",
        )
    response.status_code = error.status
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    # Nothing of a failed launch stays behind in the browser either. (An oversized launch is not read at all.)
    state = request.form.get("state") if request.method == "POST" and not isinstance(error, TokenTooLarge) else None
    if state and STATE_COOKIE + state in request.cookies:
        _clear_state_cookie(response, services, state)
    response.headers["Cache-Control"] = "no-store"
    return response


def register_error_handlers(app: Flask) -> None:
    """How LTI errors look (the one handler of :mod:`smeb_lti.errors` answers them); pylti1p3's are mapped to ours."""
    errors.answer_with(app, LtiError, _error_response)
    app.register_error_handler(LtiServiceException, lambda e: _error_response(PlatformUnreachable(str(e))))
    app.register_error_handler(OIDCException, lambda e: _error_response(LoginError(str(e))))
    app.register_error_handler(LtiException, lambda e: _error_response(LtiError(str(e))))


def init_app(app: Flask) -> None:
    """Build the services from the app's settings, register routes."""
    privacy_registry.register(*part_privacy.STORES)
    app.extensions["smeb.lti"] = LtiServices.build(get_settings(app), sessions(app))
    app.register_blueprint(bp)
    app.register_blueprint(deep_linking.bp)
    app.register_blueprint(registration_bp)
    register_error_handlers(app)
    errors.answer_with(app, LtiError, refused_page, blueprint=registration_bp.name)
    # Staff pages of every part render their links and forms with these (smeb_lti.lti.binding).
    app.jinja_env.globals.update(staff_link=binding.staff_link, staff_ticket_field=binding.ticket_field)
