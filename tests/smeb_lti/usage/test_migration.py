"""The ``usage`` Alembic branch: created by ``migrate`` (all heads), removable on its own."""

from __future__ import annotations

from sqlalchemy import inspect

from smeb_lti.db import alembic_config, make_engine, migrate


def test_the_usage_branch_creates_and_drops_only_its_own_tables(db_url: str) -> None:
    from alembic import command

    migrate(db_url)
    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"usage_company_terms", "usage_comparison_snapshots", "dashboard_members", "cert_certificates"} <= tables
        command.downgrade(alembic_config(db_url), "usage@base")
        after = set(inspect(engine).get_table_names())
        assert tables - after == {"usage_company_terms", "usage_comparison_snapshots"}
        migrate(db_url)
        assert {"usage_company_terms", "usage_comparison_snapshots"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
