"""Fixtures of the whole suite: the databases every storage test runs on (SQLite and PostgreSQL), the tool.

The servers' fixtures (Redis, Ralph, scripted LRSs, the embedded LRS over HTTP, ``smeb demo``, gunicorn) live
beside their starters in tests/support/ and are registered here for every test: a test asks for them by name,
never imports them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import pg
from tests.support.paths import SHARED

if TYPE_CHECKING:
    from flask import Flask

pytest_plugins = ["tests.support.servers", "tests.support.ralph", "tests.support.lrs_server", "tests.support.demo"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    server = pg.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL: a fresh SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'smeb.db'}"
        return
    server: pg.PgServer = request.getfixturevalue("pg_server")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)


@pytest.fixture
def migrated_db_url(db_url: str) -> str:
    """``db_url`` with every migration applied."""
    # Imported here, not at the top: the pure packages' tests (content, scorm_export, xapi) must collect
    # and run without importing the tool.
    from smeb_lti.db import migrate

    migrate(db_url)
    return db_url


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Settings a test module adds to ``app``: override this fixture in the module."""
    return {}


@pytest.fixture
def app(migrated_db_url: str, tmp_path: Path, app_config: dict[str, Any]) -> Iterator[Flask]:
    """The tool on a migrated database (SQLite and PostgreSQL) serving the all-blocks course.

    A module that needs more (a destination saved, learners seeded) overrides ``app`` with a fixture of the
    same name that asks for this one.
    """
    from tests.support.app import course_app, dispose  # see migrated_db_url

    app = course_app(migrated_db_url, tmp_path, **app_config)
    yield app
    dispose(app)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    assert SHARED.is_dir(), f"reference material expected at {SHARED} (../shared beside the repo)"
    return SHARED
