"""The company dashboard and the learner's certificate page under ``/app/<launch_id>/`` (:mod:`smeb_lti.dashboard.routes`)."""

from __future__ import annotations

from flask import Flask

from smeb_lti.dashboard import privacy as part_privacy
from smeb_lti.dashboard.errors import DashboardError
from smeb_lti.dashboard.routes import bp, error_page, record_player_launch
from smeb_lti.errors import answer_with
from smeb_lti.privacy import registry as privacy_registry


def init_app(app: Flask) -> None:
    privacy_registry.register(*part_privacy.STORES)
    app.register_blueprint(bp)
    answer_with(app, DashboardError, error_page)
    app.after_request(record_player_launch)
