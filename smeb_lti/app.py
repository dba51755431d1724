"""The Flask app factory: the one composition root of the web tool."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from smeb_lti import certificates, dashboard, errors, forum, journal, lrs, roster, surveys, usage, workshops
from smeb_lti.db import make_engine, session_factory
from smeb_lti.lrs.forwarding import on_statement_stored
from smeb_lti.lti import routes as lti
from smeb_lti.lti.framing import PLATFORMS
from smeb_lti.play import routes as play
from smeb_lti.routing import queue_statement
from smeb_lti.settings import Settings
from smeb_lti.web import headers, limits, sessions


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the tool: defaults, then the ``SMEB_*`` environment, then ``test_config`` overrides."""
    app = Flask(__name__)
    # Every SMEB_* setting, validated before anything is served: a bad value stops the start naming the variable.
    settings = Settings.from_env(overrides=test_config).with_development_secrets()
    app.extensions["smeb.settings"] = settings
    if test_config:
        app.config.update(test_config)
    app.config.update(SMEB_DATABASE_URL=settings.database_url, SMEB_DATA_DIR=str(settings.data_dir))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key
    request_limits = limits.Limits(settings.max_request_bytes, settings.max_event_bytes, settings.max_json_depth)
    engine = make_engine(settings.database_url)
    app.extensions["smeb.engine"] = engine
    sessions.install(app, session_factory(engine))
    # Before every part, so their checks run before every other before_request and their headers after every other
    # after_request (Flask runs after_request functions in the reverse order of registration).
    limits.init_app(app, request_limits)
    headers.init_app(app, PLATFORMS)  # which LMS may frame which page: the LTI part knows the platforms
    errors.init_app(app)
    # The parts, in the order of the flow. Flask picks error handlers by exception class and routes by rule, so
    # among the parts the order only decides when their own after_request functions run (the reverse order). What
    # must hold: the LRS imports nothing else of the tool (first, with its hook to the tool's routing right after);
    # the LTI services and the staff_link Jinja global exist before any part's page can use them; the surveys
    # register the error page of /app/<launch_id>/ that the workshops share.
    lrs.init_app(app)
    # The embedded LRS knows no upstream LRSs: its cmi5 statements reach them through the tool's routing.
    on_statement_stored(queue_statement)
    lti.init_app(app)
    play.init_app(app)
    roster.init_app(app)
    certificates.init_app(app)
    journal.init_app(app)
    forum.init_app(app)
    surveys.init_app(app)
    workshops.init_app(app)
    dashboard.init_app(app)
    usage.init_app(app)
    if settings.trusted_proxies:
        # Only the hops the operator declared: request.remote_addr then is the client's address (login rate limit),
        # and url_for builds https URLs (cookies' Secure flag, LTI redirect URIs) from the proxy's headers.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]  # wrapping wsgi_app is Flask's documented way to add middleware
    return app
