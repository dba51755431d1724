"""The Flask app factory: the one composition root of the web tool."""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from flask import Flask
from sqlalchemy.orm import sessionmaker

from smeb_lti.config import Settings
from smeb_lti.db import make_engine

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
]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the tool: defaults, then the ``SMEB_*`` environment, then ``test_config`` overrides."""
    app = Flask(__name__)
    settings = Settings.from_env()
    app.config.update(SMEB_DATABASE_URL=settings.database_url, SMEB_DATA_DIR=str(settings.data_dir))
    if test_config:
        app.config.update(test_config)
    engine = make_engine(app.config["SMEB_DATABASE_URL"])
    app.extensions["smeb.engine"] = engine
    app.extensions["smeb.sessions"] = sessionmaker(engine, expire_on_commit=False)
    for name in APP_MODULES:
        importlib.import_module(name).init_app(app)
    return app
