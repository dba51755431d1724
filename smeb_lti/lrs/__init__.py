"""The embedded xAPI LRS (1.0.3 and 2.0.0): statements, documents, tenants, launch tokens, cmi5.

Mounted by :func:`init_app` at ``/lrs/<tenant>/xapi/``. Configuration (Flask config keys):

- ``SMEB_LRS_MAX_BODY``: largest request body in bytes (default 10 MB) → 413 beyond it.
- ``SMEB_LRS_PAGE_MAX``: most statements per GET page (default 100).
- ``SMEB_LRS_MAX_JSON_DEPTH`` (else the shared ``SMEB_MAX_JSON_DEPTH``): deepest nesting of arrays/objects
  in a statement body, a JSON document or a JSON parameter (default 32, allowed 16-512) → 400 beyond it.
- ``SMEB_LRS_TOKEN_SECRET``: key for launch tokens (bytes or str). Unset: derived from the tool's
  ``SECRET_KEY`` / ``SMEB_SECRET_KEY``, else one random key kept in the database (``lrs_secrets``), so
  every worker process accepts the tokens of every other (see :func:`smeb_lti.lrs.auth.token_secret`).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

# Depth: a statement's own structure is at most 9 levels (batch array > statement > SubStatement >
# context > contextActivities > parent list > activity > definition > extensions), so 32 leaves an
# extension value 23 levels of its own; real xAPI data (cmi5, SCORM-derived, our player) stays under 12.
# Below 16 real statements would be refused; above ~900 the json module itself runs out of recursion.
MIN_JSON_DEPTH, DEFAULT_JSON_DEPTH, MAX_JSON_DEPTH = 16, 32, 512


class LrsSettingError(ValueError):
    """An SMEB_LRS_* setting is not usable; the message names the variable and what is expected."""


def _json_depth(app: Flask) -> int:
    """SMEB_LRS_MAX_JSON_DEPTH, else SMEB_MAX_JSON_DEPTH (shared with the player's events), else 32."""
    for name in ("SMEB_LRS_MAX_JSON_DEPTH", "SMEB_MAX_JSON_DEPTH"):
        raw: Any = app.config.get(name, os.environ.get(name))
        if raw is None or raw == "":
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            value = None
        if value is None or isinstance(raw, bool) or not MIN_JSON_DEPTH <= value <= MAX_JSON_DEPTH:
            hint = "; the shared value also bounds the LRS, or set SMEB_LRS_MAX_JSON_DEPTH for the LRS alone" if name == "SMEB_MAX_JSON_DEPTH" else ""
            raise LrsSettingError(
                f"{name}={raw!r}: the embedded LRS needs a whole number of nesting levels from {MIN_JSON_DEPTH} "
                f"(a statement alone nests 9) to {MAX_JSON_DEPTH} (default {DEFAULT_JSON_DEPTH}){hint}"
            )
        return value
    return DEFAULT_JSON_DEPTH


def init_app(app: Flask) -> None:
    """Register the LRS blueprint and its configuration defaults."""
    from smeb_lti.lrs.blueprint import bp, http_error_json, is_lrs_path
    from smeb_lti.lrs.cmi5 import cmi5_bp

    app.config.setdefault("SMEB_LRS_MAX_BODY", int(os.environ.get("SMEB_LRS_MAX_BODY", str(10 * 1024 * 1024))))
    app.config.setdefault("SMEB_LRS_PAGE_MAX", int(os.environ.get("SMEB_LRS_PAGE_MAX", "100")))
    app.config["SMEB_LRS_MAX_JSON_DEPTH"] = _json_depth(app)
    secret = app.config.get("SMEB_LRS_TOKEN_SECRET") or os.environ.get("SMEB_LRS_TOKEN_SECRET")
    if secret:
        app.config["SMEB_LRS_TOKEN_SECRET"] = secret.encode("utf-8") if isinstance(secret, str) else secret
    # Otherwise resolved on first use (SECRET_KEY is set by modules initialised after this one).
    app.register_blueprint(bp)
    app.register_blueprint(cmi5_bp)

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
