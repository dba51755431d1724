"""The surveys and workshops Alembic branches create exactly the tables their models describe, and come down alone."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from smeb_lti.db import Base, alembic_config, make_engine, migrate

TABLES = {
    "surveys": {"survey_surveys", "survey_answers"},
    "workshops": {"workshop_series", "workshop_companies", "workshop_sessions", "workshop_participants", "workshop_attendance",
                  "workshop_submissions"},
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("branch", sorted(TABLES))
def test_the_branch_creates_its_tables_and_downgrades_without_touching_the_others(db_url: str, branch: str) -> None:
    migrate(db_url)
    assert TABLES[branch] <= _tables(db_url)
    command.downgrade(alembic_config(db_url), f"{branch}@base")
    remaining = _tables(db_url)
    assert not (TABLES[branch] & remaining) and "lti_registrations" in remaining and "play_progress" in remaining
    migrate(db_url)
    assert TABLES[branch] <= _tables(db_url)


def test_the_models_match_the_migrated_schema(migrated_db_url: str) -> None:
    import smeb_lti.surveys.store
    import smeb_lti.workshops.store  # noqa: F401

    ours = set().union(*TABLES.values())
    engine = make_engine(migrated_db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()

    def table_of(entry: object) -> str | None:
        item = entry[0] if isinstance(entry, list) else entry
        for part in item[1:] if isinstance(item, tuple) else ():
            name = getattr(part, "name", None) if not isinstance(part, str) else None
            table = getattr(part, "table", None)
            if table is not None and getattr(table, "name", None):
                return str(table.name)
            if hasattr(part, "columns") and name:
                return str(name)
            if isinstance(part, str) and part in ours:
                return part
        return None

    mine = [d for d in diff if table_of(d) in ours]
    assert mine == [], mine
