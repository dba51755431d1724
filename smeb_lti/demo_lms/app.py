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

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

from smeb_lti import errors
from smeb_lti.demo_lms import crypto, platform, store
from smeb_lti.demo_lms.errors import PlatformError
from smeb_lti.demo_lms.routes import (
    auth,
    deep_link_return,
    deep_link_start,
    gradebook,
    home,
    jwks,
    launch,
    launch_page,
    openid_configuration,
    service_log,
    view_embedded,
)
from smeb_lti.demo_lms.services import lineitem, lineitems, memberships, results, scores, token


def create_platform_app(config: Mapping[str, Any]) -> Flask:
    """The demo platform. ``config``: ``PLATFORM_URL`` (its issuer, e.g. ``http://127.0.0.1:5001``),
    ``PLATFORM_DB`` (its SQLite file), optional ``PLATFORM_PAGE_SIZE`` (NRPS/line-item page size, default 50)
    and ``PLATFORM_HTTP_TIMEOUT`` (seconds for fetching the tool's JWKS, default 10)."""
    missing = [k for k in ("PLATFORM_URL", "PLATFORM_DB") if not config.get(k)]
    if missing:
        raise ValueError(f"create_platform_app needs {', '.join(missing)} (e.g. PLATFORM_URL='http://127.0.0.1:5001')")
    app = Flask(__name__)
    app.config.update(config)
    state = platform.PlatformState(
        base_url=str(config["PLATFORM_URL"]).rstrip("/"),
        db_path=Path(config["PLATFORM_DB"]),
        page_size=int(config.get("PLATFORM_PAGE_SIZE") or 50),
        tool_keys=crypto.ToolKeys(timeout=float(config.get("PLATFORM_HTTP_TIMEOUT") or 10)),
    )
    store.migrate(state.db_path)
    app.extensions[platform.EXTENSION] = state
    app.teardown_appcontext(platform.close_db)
    _register_routes(app)
    _register_errors(app)
    return app


def _register_errors(app: Flask) -> None:
    def handle(error: PlatformError) -> Response:
        if request.path.startswith(("/api/", "/token")):
            body = {"error": error.oauth_error, "error_description": error.message}
            response = jsonify(body)
            response.status_code = error.status
            if error.status in (401, 403):
                response.headers["WWW-Authenticate"] = f'Bearer error="{error.oauth_error}", error_description="{error.message[:200]}"'
            if request.path.startswith("/api/"):
                platform.log_call(error.status, error.message)
            return response
        return platform.page("demo_lms/error.html", status=error.status, message=error.message)

    errors.init_app(app)  # the demo LMS is its own app: it installs the tool's one handler for its own errors
    errors.answer_with(app, PlatformError, handle)


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


__all__ = ["create_platform_app"]
