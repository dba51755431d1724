"""The ``cert`` Alembic branch: creates its tables on both databases and downgrades cleanly."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from smeb_lti.db import alembic_config, make_engine, migrate

TABLES = {"cert_signing_keys", "cert_certificates"}


def test_the_cert_branch_upgrades_and_downgrades(db_url: str) -> None:
    migrate(db_url)
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("cert_certificates")}
        assert {"ix_cert_certificates_tenant", "ix_cert_certificates_learner"} <= indexes
        # cert_0002: each certificate's bit in the revocation status list, never shared.
        unique = {ix["name"]: ix["unique"] for ix in inspect(engine).get_indexes("cert_certificates")}
        assert unique.get("ux_cert_certificates_status_list_index") in (True, 1)
        assert "status_list_index" in {c["name"] for c in inspect(engine).get_columns("cert_certificates")}
        command.downgrade(alembic_config(db_url), "cert_0001")
        assert "status_list_index" not in {c["name"] for c in inspect(engine).get_columns("cert_certificates")}
        migrate(db_url)
        command.downgrade(alembic_config(db_url), "cert@base")
        assert not TABLES & set(inspect(engine).get_table_names())
        migrate(db_url)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()
