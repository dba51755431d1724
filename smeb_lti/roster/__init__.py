"""The roster page of a course's members for instructors (:mod:`smeb_lti.roster.routes`; the NRPS client is :mod:`smeb_lti.lti.nrps`)."""

from __future__ import annotations

from flask import Flask

from smeb_lti.roster.routes import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
