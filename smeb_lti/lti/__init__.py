"""The LTI 1.3 Advantage tool: OIDC login, launch, JWKS, deep linking, dynamic registration.

A validated launch becomes a :class:`~smeb_lti.lti.context.LaunchContext` stored server-side;
other parts read it with :func:`smeb_lti.lti.launches.get_launch`. Settings: see
:mod:`smeb_lti.lti.settings`.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from smeb_lti.lti.context import LaunchContext
from smeb_lti.lti.launches import get_launch

__all__ = ["LaunchContext", "get_launch", "init_app"]


def init_app(app: Flask) -> None:
    """Validate the LTI settings (fail fast with the variable's name), build the services, register routes."""
    from smeb_lti.lti import settings as lti_settings
    from smeb_lti.lti.dynamic_registration import bp as registration_bp
    from smeb_lti.lti.routes import bp, register_error_handlers
    from smeb_lti.lti.services import LtiServices

    data_dir = Path(str(app.config.get("SMEB_DATA_DIR") or "var")).absolute()
    settings = lti_settings.load(app.config, data_dir=data_dir)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key
    app.extensions["smeb.lti"] = LtiServices.build(settings, app.extensions["smeb.sessions"])
    app.register_blueprint(bp)
    app.register_blueprint(registration_bp)
    register_error_handlers(app)
    # Staff pages of every part render their links and forms with these (smeb_lti.lti.binding).
    from smeb_lti.lti import binding

    app.jinja_env.globals.update(staff_link=binding.staff_link, staff_ticket_field=binding.ticket_field)
