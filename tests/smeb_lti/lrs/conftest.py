"""Fixtures for the LRS tests: an app on a migrated database (SQLite and PostgreSQL), a tenant, credentials.

``lrs`` is a fresh database per test (both engines). The conformance modules mostly use
``shared_lrs`` (one SQLite database per module: the tests use fresh UUIDs and IRIs, so they do
not see each other) and ``storage_lrs`` (the same, once per engine) for storage semantics.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.support.app import make_app
from tests.support.lrs_server import Lrs, LrsServer, basic

CONFIG = {"TESTING": True, "SMEB_LRS_MAX_BODY": 200_000, "SMEB_LRS_PAGE_MAX": 50}


def _make_app(url: str) -> Flask:
    return make_app(url, **CONFIG)


def _tenant_client(app: Flask) -> Lrs:
    from smeb_lti.db import session_scope
    from smeb_lti.lrs import auth, store

    with session_scope(app.extensions["smeb.sessions"]) as session:
        tenant = store.add_tenant(session, "acme")
        store.add_tenant(session, "other")
        issued = auth.add_credential(session, tenant, ["all"], label="acme admin")
    return Lrs(app, app.test_client(), "acme", basic(issued.key, issued.secret))


@pytest.fixture(scope="session")
def _migrated_templates() -> Iterator[dict[str, object]]:
    """One migrated database per engine, made once per session (keeps the suite fast)."""
    made: dict[str, object] = {}
    yield made
    server = made.get("_pg_server")
    if server is not None:
        server.drop_database(made["postgresql"])


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_db_url(request: pytest.FixtureRequest, tmp_path: Path, _migrated_templates: dict) -> Iterator[str]:
    """Overrides the shared fixture for the LRS tests: an empty, fully migrated database per test.

    Same contract as tests/conftest.py, but ``alembic upgrade heads`` runs once per engine per
    session: SQLite tests get a copy of a migrated file; PostgreSQL tests share one migrated
    database whose ``lrs_*`` tables are emptied (TRUNCATE ... RESTART IDENTITY) before each test.
    """
    import shutil

    from smeb_lti.db import migrate

    if request.param == "sqlite":
        if "sqlite" not in _migrated_templates:
            template = Path(request.getfixturevalue("tmp_path_factory").mktemp("lrs-template")) / "template.db"
            migrate(f"sqlite:///{template}")
            _migrated_templates["sqlite"] = str(template)
        shutil.copyfile(str(_migrated_templates["sqlite"]), tmp_path / "smeb.db")
        yield f"sqlite:///{tmp_path / 'smeb.db'}"
        return
    import psycopg

    if "postgresql" not in _migrated_templates:
        server = request.getfixturevalue("pg_server")
        url = server.create_database()
        _migrated_templates["_pg_server"] = server
        _migrated_templates["postgresql"] = url
        migrate(url)
    url = str(_migrated_templates["postgresql"])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '20s'")  # a leaked connection fails the test instead of hanging it
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'lrs%'")]
        if tables:
            conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
    yield url


@pytest.fixture
def app(migrated_db_url: str) -> Iterator[Flask]:
    app = _make_app(migrated_db_url)
    yield app
    app.extensions["smeb.engine"].dispose()


@pytest.fixture
def lrs(app: Flask) -> Lrs:
    return _tenant_client(app)


@pytest.fixture(scope="module")
def shared_lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lrs]:
    """One migrated SQLite LRS for a whole module (request/response rules that do not depend on the engine)."""
    from smeb_lti.db import migrate

    url = f"sqlite:///{Path(tmp_path_factory.mktemp('lrs')) / 'smeb.db'}"
    migrate(url)
    app = _make_app(url)
    yield _tenant_client(app)
    app.extensions["smeb.engine"].dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def storage_lrs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lrs]:
    """One migrated LRS per module and engine, for rules about what is stored and found."""
    from smeb_lti.db import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('lrs')) / 'smeb.db'}"
        server = None
    else:
        server = request.getfixturevalue("pg_server")
        url = server.create_database()
    migrate(url)
    app = _make_app(url)
    try:
        yield _tenant_client(app)
    finally:
        app.extensions["smeb.engine"].dispose()
        if server is not None:
            server.drop_database(url)


@pytest.fixture(scope="module")
def http_lrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LrsServer]:
    """The LRS over real HTTP on 127.0.0.1 (one SQLite database per module): where the transport matters."""
    from smeb_lti.db import migrate
    from tests.support.lrs_server import start_lrs_server

    url = f"sqlite:///{Path(tmp_path_factory.mktemp('lrs-http')) / 'smeb.db'}"
    migrate(url)
    server = start_lrs_server(url, config=CONFIG)
    try:
        yield server
    finally:
        server.stop()
