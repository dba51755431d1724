"""``smeb forum moderator add|list|remove`` maps LTI users to the provider's moderator role, in the configured database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from smeb_lti.cli import main
from smeb_lti.db import make_engine
from smeb_lti.forum import store


def test_a_moderator_is_added_listed_and_removed(migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMEB_DATABASE_URL", migrated_db_url)
    monkeypatch.setenv("SMEB_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    added = runner.invoke(main, ["forum", "moderator", "add", "--issuer", "https://lms.smeb.no", "--subject", "staff-1", "--note", "Kari"])
    assert added.exit_code == 0 and "added" in added.output
    again = runner.invoke(main, ["forum", "moderator", "add", "--issuer", "https://lms.smeb.no", "--subject", "staff-1"])
    assert again.exit_code == 0 and "already" in again.output
    listed = runner.invoke(main, ["forum", "moderator", "list"])
    assert listed.output.splitlines() == ["https://lms.smeb.no\tstaff-1\tKari"]
    engine = make_engine(migrated_db_url)
    try:
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            assert store.is_moderator(session, "https://lms.smeb.no", "staff-1")
            assert not store.is_moderator(session, "https://lms.other.no", "staff-1")
    finally:
        engine.dispose()
    assert runner.invoke(main, ["forum", "moderator", "remove", "--issuer", "https://lms.smeb.no", "--subject", "staff-1"]).exit_code == 0
    missing = runner.invoke(main, ["forum", "moderator", "remove", "--issuer", "https://lms.smeb.no", "--subject", "staff-1"])
    assert missing.exit_code != 0 and "is not a moderator" in missing.output
