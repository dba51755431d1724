"""The Flask app factory: the one composition root of the web tool."""

from __future__ import annotations

import importlib
import os
from typing import Any, Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from sqlalchemy.orm import sessionmaker

from smeb_lti.config import Settings
from smeb_lti.db import make_engine
from smeb_lti.web import headers, limits

# Modules that define ``init_app(app)`` (blueprints, error handlers); each part of the tool adds itself here.
APP_MODULES: list[str] = [
    "smeb_lti.lrs",
    "smeb_lti.lti",
    "smeb_lti.player_host",
    "smeb_lti.roster",
    "smeb_lti.certificates",
    "smeb_lti.journal",
    "smeb_lti.forum",
    "smeb_lti.surveys",
    "smeb_lti.workshops",
    "smeb_lti.dashboard",
    "smeb_lti.usage",
]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the tool: defaults, then the ``SMEB_*`` environment, then ``test_config`` overrides."""
    app = Flask(__name__)
    settings = Settings.from_env()
    app.config.update(SMEB_DATABASE_URL=settings.database_url, SMEB_DATA_DIR=str(settings.data_dir))
    if test_config:
        app.config.update(test_config)
    # Request limits: the environment, then test_config's SMEB_MAX_* values; validated here, before serving anything.
    request_limits = limits.Limits.from_mapping({**os.environ, **{k: v for k, v in (test_config or {}).items() if k.startswith("SMEB_MAX_")}})
    engine = make_engine(app.config["SMEB_DATABASE_URL"])
    app.extensions["smeb.engine"] = engine
    app.extensions["smeb.sessions"] = sessionmaker(engine, expire_on_commit=False)
    # First, so their checks run before every other before_request and their headers after every other after_request.
    limits.init_app(app, request_limits)
    headers.init_app(app)
    for name in APP_MODULES:
        importlib.import_module(name).init_app(app)
    if settings.trusted_proxies:
        # Only the hops the operator declared: request.remote_addr then is the client's address (login rate limit),
        # and url_for builds https URLs (cookies' Secure flag, LTI redirect URIs) from the proxy's headers.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
    return app
