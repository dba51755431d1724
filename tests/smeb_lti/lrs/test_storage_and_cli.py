"""The lrs Alembic branch (tables, indexes, downgrade) and the `smeb lrs` commands, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

INDEXED = {
    ("lrs_statements", ("tenant_id", "seq")),
    ("lrs_statements", ("tenant_id", "stored_us")),
    ("lrs_statements", ("tenant_id", "verb_id", "seq")),
    ("lrs_statements", ("tenant_id", "activity_id", "seq")),
    ("lrs_statements", ("tenant_id", "actor_ifi", "seq")),
    ("lrs_statements", ("tenant_id", "registration", "seq")),
    ("lrs_statement_links", ("tenant_id", "kind", "value", "seq")),
}


def test_the_lrs_branch_creates_indexes_for_the_common_filters(migrated_db_url):
    from smeb_lti.db import make_engine

    engine = make_engine(migrated_db_url)
    try:
        inspector = sa.inspect(engine)
        found = {(table, tuple(ix["column_names"])) for table in ("lrs_statements", "lrs_statement_links") for ix in inspector.get_indexes(table)}
        assert found >= INDEXED
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("lrs_statements")}
        assert ("tenant_id", "statement_id") in uniques
    finally:
        engine.dispose()


def test_the_lrs_branch_downgrades_cleanly(migrated_db_url):
    from alembic import command

    from smeb_lti.db import alembic_config, make_engine

    command.downgrade(alembic_config(migrated_db_url), "lrs@base")
    engine = make_engine(migrated_db_url)
    try:
        assert not [t for t in sa.inspect(engine).get_table_names() if t.startswith("lrs_")]
    finally:
        engine.dispose()
    command.upgrade(alembic_config(migrated_db_url), "heads")


def test_the_tables_in_code_match_the_migration(migrated_db_url):
    from smeb_lti.db import make_engine
    from smeb_lti.lrs import tables

    engine = make_engine(migrated_db_url)
    try:
        inspector = sa.inspect(engine)
        for table in (tables.tenants, tables.credentials, tables.statements, tables.statement_links, tables.attachments,
                      tables.activities, tables.documents, tables.cmi5_sessions, tables.cmi5_registrations, tables.secrets_table):
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
    finally:
        engine.dispose()


def test_cli_adds_a_tenant_and_a_credential_whose_secret_is_printed_once(migrated_db_url, monkeypatch, tmp_path):
    from smeb_lti.cli import main

    monkeypatch.setenv("SMEB_DATABASE_URL", migrated_db_url)
    monkeypatch.setenv("SMEB_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(main, ["lrs", "tenant", "add", "bht-nord", "--name", "BHT Nord"]).exit_code == 0
    assert "bht-nord" in runner.invoke(main, ["lrs", "tenant", "list"]).output
    added = runner.invoke(main, ["lrs", "credentials", "add", "bht-nord", "--scope", "statements/write", "--scope", "statements/read"])
    assert added.exit_code == 0, added.output
    key = added.output.split("key:")[1].split()[0]
    secret = added.output.split("secret:")[1].split()[0]
    listing = runner.invoke(main, ["lrs", "credentials", "list", "bht-nord"]).output
    assert key in listing and secret not in listing and "active" in listing
    assert runner.invoke(main, ["lrs", "credentials", "revoke", key]).exit_code == 0
    assert "revoked" in runner.invoke(main, ["lrs", "credentials", "list", "bht-nord"]).output


def test_cli_rejects_unknown_scopes_and_tenants(migrated_db_url, monkeypatch, tmp_path):
    from smeb_lti.cli import main

    monkeypatch.setenv("SMEB_DATABASE_URL", migrated_db_url)
    monkeypatch.setenv("SMEB_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    runner.invoke(main, ["lrs", "tenant", "add", "acme"])
    bad_scope = runner.invoke(main, ["lrs", "credentials", "add", "acme", "--scope", "everything"])
    assert bad_scope.exit_code != 0 and "unknown scope" in bad_scope.output
    no_tenant = runner.invoke(main, ["lrs", "credentials", "add", "nobody", "--scope", "all"])
    assert no_tenant.exit_code != 0 and "smeb lrs tenant add nobody" in no_tenant.output


def test_lrs_0002_gives_statements_stored_before_it_their_authority_link(migrated_db_url):
    """statements/read/mine for Basic credentials finds statements stored before the migration too."""
    import json

    from alembic import command

    from smeb_lti.db import alembic_config, make_engine
    from smeb_lti.lrs import tables

    command.downgrade(alembic_config(migrated_db_url), "lrs_0001")
    authority = {"objectType": "Agent", "account": {"homePage": "urn:smeb:lrs:acme", "name": "smeb_old"}}
    engine = make_engine(migrated_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(tables.statements).values(
                tenant_id=1, statement_id="8f87ccde-bb56-4c2e-ab83-44982ef22df0", stored_us=1, verb_id="http://e.com/v",
                activity_id=None, actor_ifi=None, registration=None, ref_id=None, voiding=False, voided=False,
                has_attachments=False, full_json=json.dumps({"authority": authority})))
        command.upgrade(alembic_config(migrated_db_url), "heads")
        with engine.connect() as conn:
            rows = conn.execute(sa.select(tables.statement_links.c.kind, tables.statement_links.c.value)).all()
        assert ("auth", "account:urn:smeb:lrs:acme|smeb_old") in [tuple(r) for r in rows]
    finally:
        engine.dispose()
