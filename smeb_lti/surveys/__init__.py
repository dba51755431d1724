"""Pulse surveys and course evaluations under ``/app/<launch_id>/surveys`` (the pages: :mod:`smeb_lti.surveys.routes`)."""

from __future__ import annotations

from flask import Flask

from smeb_lti.errors import answer_with
from smeb_lti.privacy import registry as privacy_registry
from smeb_lti.surveys import privacy as part_privacy
from smeb_lti.surveys.errors import AppError
from smeb_lti.surveys.pages import error_page
from smeb_lti.surveys.routes import bp


def init_app(app: Flask) -> None:
    privacy_registry.register(*part_privacy.STORES)
    app.register_blueprint(bp)
    answer_with(app, AppError, error_page)
