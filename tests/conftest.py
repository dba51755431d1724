"""Shared fixtures: the databases every storage test runs on (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests import pg

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
    from smeb_lti.db import migrate

    migrate(db_url)
    return db_url


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    assert SHARED.is_dir(), f"reference material expected at {SHARED} (../shared beside the repo)"
    return SHARED
