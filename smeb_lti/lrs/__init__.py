"""The embedded xAPI LRS (1.0.3 and 2.0.0): statements, documents, tenants, launch tokens, cmi5.

Mounted by :func:`init_app` at ``/lrs/<tenant>/xapi/``. Configuration (Flask config keys):

- ``SMEB_LRS_MAX_BODY``: largest request body in bytes (default 10 MB) → 413 beyond it.
- ``SMEB_LRS_PAGE_MAX``: most statements per GET page (default 100).
- ``SMEB_LRS_TOKEN_SECRET``: key for launch tokens (bytes or str). Unset: derived from the tool's
  ``SECRET_KEY`` / ``SMEB_SECRET_KEY``, else one random key kept in the database (``lrs_secrets``), so
  every worker process accepts the tokens of every other (see :func:`smeb_lti.lrs.auth.token_secret`).
"""

from __future__ import annotations

import os

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the LRS blueprint and its configuration defaults."""
    from smeb_lti.lrs.blueprint import bp
    from smeb_lti.lrs.cmi5 import cmi5_bp

    app.config.setdefault("SMEB_LRS_MAX_BODY", int(os.environ.get("SMEB_LRS_MAX_BODY", str(10 * 1024 * 1024))))
    app.config.setdefault("SMEB_LRS_PAGE_MAX", int(os.environ.get("SMEB_LRS_PAGE_MAX", "100")))
    secret = app.config.get("SMEB_LRS_TOKEN_SECRET") or os.environ.get("SMEB_LRS_TOKEN_SECRET")
    if secret:
        app.config["SMEB_LRS_TOKEN_SECRET"] = secret.encode("utf-8") if isinstance(secret, str) else secret
    # Otherwise resolved on first use (SECRET_KEY is set by modules initialised after this one).
    app.register_blueprint(bp)
    app.register_blueprint(cmi5_bp)
