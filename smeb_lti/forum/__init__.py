"""The cross-company course forum (docs/forum.md)."""

from __future__ import annotations

from flask import Flask

from smeb_lti.forum import privacy as part_privacy
from smeb_lti.forum import routes
from smeb_lti.privacy import registry as privacy_registry


def init_app(app: Flask) -> None:
    privacy_registry.register(*part_privacy.STORES)

    routes.init_app(app)
