"""The lti Alembic branch creates its tables on SQLite and PostgreSQL and can be taken down alone."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from smeb_lti.db import alembic_config, make_engine, migrate

LTI_TABLES = {"lti_registrations", "lti_deployments", "lti_tool_keys", "lti_kv", "lti_launches"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_lti_branch_creates_its_tables_and_downgrades_without_touching_other_branches(db_url: str) -> None:
    migrate(db_url)
    assert _tables(db_url) >= LTI_TABLES
    command.downgrade(alembic_config(db_url), "lti@base")
    remaining = _tables(db_url)
    assert not (LTI_TABLES & remaining) and "courses" in remaining
    migrate(db_url)
    assert _tables(db_url) >= LTI_TABLES
