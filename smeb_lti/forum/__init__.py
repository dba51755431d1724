"""The cross-company course forum (docs/forum.md)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from smeb_lti.forum import routes

    routes.init_app(app)
