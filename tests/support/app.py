"""The one way tests build the tool: :func:`make_app` (``create_app`` with test settings, courses installed).

Presets that several tests share (the all-blocks course with the dashboard companies, the journal's two
platforms) call it with their settings; the ``app`` fixture of tests/conftest.py is the common case.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask

from content import load_course
from smeb_lti.app import create_app
from smeb_lti.courses import catalogue
from smeb_lti.db import session_scope
from smeb_lti.lti import registrations
from tests.support.paths import COURSE_FIXTURES

PUBLIC_URL = "https://kurs.smeb.example"

# The settings of a tool that serves the test courses to learners: development keys, the fixture courses.
COURSE_SETTINGS: dict[str, Any] = {"SMEB_ENV": "development", "SMEB_COURSE_DIRS": str(COURSE_FIXTURES)}


def make_app(db_url: str | None = None, data_dir: Path | None = None, *, courses: Iterable[str] = (), **config: Any) -> Flask:
    """``create_app`` on ``db_url`` (already migrated) in TESTING mode, with ``config`` on top.

    ``data_dir``: SMEB_DATA_DIR (keys, uploads); ``courses``: names under tests/fixtures/courses/valid
    installed into the catalogue, as an operator's ``smeb courses install`` would.
    """
    settings: dict[str, Any] = {"TESTING": True}
    if db_url is not None:
        settings["SMEB_DATABASE_URL"] = db_url
    if data_dir is not None:
        settings["SMEB_DATA_DIR"] = str(data_dir)
    app = create_app({**settings, **config})
    names = list(courses)
    if names:
        with session_scope(app.extensions["smeb.sessions"]) as session:
            for name in names:
                catalogue.install(session, load_course(COURSE_FIXTURES / name))
    return app


def course_app(db_url: str, tmp_path: Path, **config: Any) -> Flask:
    """The tool serving the all-blocks course to learners (the ``app`` fixture; data in ``tmp_path``/data)."""
    return make_app(db_url, tmp_path / "data", courses=["all-blocks"], **{**COURSE_SETTINGS, "SMEB_PUBLIC_URL": PUBLIC_URL, **config})


def register_platform(app: Flask, issuer: str, client_id: str = "client-1", deployment_ids: tuple[str, ...] = ("dep-1",)) -> None:
    """Register an LMS at ``issuer`` with the tool (its endpoints are ``issuer`` + /auth, /token, /jwks)."""
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registrations.add(session, registrations.RegistrationInput(
            issuer=issuer, client_id=client_id, auth_login_url=issuer + "/auth", auth_token_url=issuer + "/token",
            key_set_url=issuer + "/jwks", deployment_ids=deployment_ids))


def dispose(app: Flask) -> None:
    """Close the app's database connections (PostgreSQL databases are dropped after the test)."""
    app.extensions["smeb.engine"].dispose()
