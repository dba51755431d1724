"""The embedded xAPI LRS (1.0.3 and 2.0.0): statements, documents, tenants, launch tokens, cmi5.

Mounted by :func:`init_app` at ``/lrs/<tenant>/xapi/`` (and ``/lrs/<tenant>/cmi5/``). Its settings
(:class:`smeb_lti.settings.Settings`, validated at start):

- ``SMEB_LRS_MAX_BODY``: largest request body in bytes (default 10 MB) → 413 beyond it.
- ``SMEB_LRS_PAGE_MAX``: most statements per GET page (default 100).
- ``SMEB_LRS_MAX_JSON_DEPTH`` (else the shared ``SMEB_MAX_JSON_DEPTH``): deepest nesting of arrays/objects
  in a statement body, a JSON document or a JSON parameter (default 32, allowed 16-512) → 400 beyond it.
- ``SMEB_LRS_TOKEN_SECRET``: key for launch tokens. Unset: derived from the tool's ``SECRET_KEY`` /
  ``SMEB_SECRET_KEY``, else one random key kept in the database (``lrs_secrets``), so every worker
  process accepts the tokens of every other (see :func:`smeb_lti.lrs.auth.token_secret`).

The LRS imports only the shared kernel (``smeb_lti.db``, ``settings``, ``web``) and pure packages;
the tool reaches it through :mod:`smeb_lti.lrs.forwarding` (upstream LRSs) and its tables.
"""

from __future__ import annotations

from flask import Flask

from smeb_lti.lrs import routes
from smeb_lti.lrs.cmi5_routes import cmi5_bp


def init_app(app: Flask) -> None:
    """Register the LRS blueprints."""
    routes.register(app)
    app.register_blueprint(cmi5_bp)
