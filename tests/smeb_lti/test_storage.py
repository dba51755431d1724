"""Storage runs on SQLite and PostgreSQL: migrations, the course catalogue, transactions."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from content import load_course
from smeb_lti.cli import main
from smeb_lti.courses.catalogue import CatalogueConflictError, InstalledCourse, install, installed, remove
from smeb_lti.db import make_engine, migrate, session_scope

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "courses"


@pytest.fixture
def factory(migrated_db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated_db_url)
    yield sessionmaker(engine)
    engine.dispose()


def test_migrations_create_the_schema_and_can_run_twice(db_url: str) -> None:
    migrate(db_url)
    migrate(db_url)  # idempotent: an operator may run it on every start
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    assert {"courses", "alembic_version"} <= tables
    engine.dispose()


def test_installing_a_course_stores_it_and_reinstalling_is_a_no_op(factory: sessionmaker[Session]) -> None:
    course = load_course(FIXTURES / "valid" / "all-blocks")
    with session_scope(factory) as session:
        assert install(session, course).changed
    with session_scope(factory) as session:
        assert not install(session, course).changed
        rows = installed(session)
        assert [(r.slug, r.version, r.title_nb) for r in rows] == [("all-blocks", "1.0.0", "Testkurs med alle blokktyper")]
        assert '"maxPoints":5' in rows[0].model_json
    with session_scope(factory) as session:
        assert remove(session, "all-blocks") and not remove(session, "all-blocks")


def test_a_changed_course_is_updated(factory: sessionmaker[Session], tmp_path: Path) -> None:
    target = tmp_path / "all-blocks"
    shutil.copytree(FIXTURES / "valid" / "all-blocks", target)
    with session_scope(factory) as session:
        install(session, load_course(target))
    (target / "media" / "clip.nb.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nNy tekst\n", "utf-8")
    with session_scope(factory) as session:
        assert install(session, load_course(target)).changed


def test_two_courses_cannot_share_an_iri(factory: sessionmaker[Session], tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(FIXTURES / "valid" / "all-blocks", twin)
    with session_scope(factory) as session:
        install(session, load_course(FIXTURES / "valid" / "all-blocks"))
    with pytest.raises(CatalogueConflictError, match="already installed as 'all-blocks'"), session_scope(factory) as session:
        install(session, load_course(twin))


def test_a_failed_transaction_leaves_nothing_behind(factory: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), session_scope(factory) as session:
        install(session, load_course(FIXTURES / "valid" / "all-blocks"))
        session.flush()
        raise RuntimeError("the learner event failed")
    with factory() as session:
        assert session.scalars(select(InstalledCourse)).all() == []


def test_smeb_courses_install_refuses_invalid_courses_and_writes_nothing(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMEB_DATABASE_URL", db_url)
    runner = CliRunner()
    bad = runner.invoke(main, ["courses", "install", str(FIXTURES / "valid" / "all-blocks"), str(FIXTURES / "invalid" / "004-dangling-branch")])
    assert bad.exit_code == 1 and "dangling-branch" in bad.output and "nothing installed" in bad.output
    listing = runner.invoke(main, ["courses"])
    assert listing.exit_code == 0 and "No courses installed" in listing.output
    good = runner.invoke(main, ["courses", "install", str(FIXTURES / "valid" / "all-blocks")])
    assert good.exit_code == 0 and "installed  all-blocks 1.0.0" in good.output
    assert "all-blocks" in runner.invoke(main, ["courses"]).output
