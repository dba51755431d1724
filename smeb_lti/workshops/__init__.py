"""Workshop series ("kundeverksted") under ``/app/<launch_id>/workshops`` (the pages: :mod:`smeb_lti.workshops.routes`)."""

from __future__ import annotations

from flask import Flask

from smeb_lti.privacy import registry as privacy_registry
from smeb_lti.surveys import series as survey_series
from smeb_lti.workshops import privacy as part_privacy
from smeb_lti.workshops.routes import bp
from smeb_lti.workshops.store import SurveySeries


def init_app(app: Flask) -> None:
    privacy_registry.register(*part_privacy.STORES)
    survey_series.provide(app, SurveySeries())
    app.register_blueprint(bp)
