"""``smeb demo``'s set-up: shipped courses installed, tool and demo LMS registered with each other, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from content import discover, shipped_courses_dir
from smeb_lti.cli.demo import DEMO_CLIENT_ID, DEMO_DEPLOYMENT_ID, prepare
from smeb_lti.courses import catalogue
from smeb_lti.db import make_engine
from smeb_lti.demo_lms import store
from smeb_lti.lti import registrations
from xapi.delivery.destinations import load_destinations


def test_prepare_installs_the_shipped_courses_and_registers_both_sides_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMEB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SMEB_DATABASE_URL", raising=False)
    monkeypatch.delenv("SMEB_LRS_UPSTREAMS", raising=False)
    platform_db = tmp_path / "demo-platform.db"
    first = prepare("http://127.0.0.1:5000", "http://127.0.0.1:5001", platform_db)
    again = prepare("http://127.0.0.1:5000", "http://127.0.0.1:5001", platform_db)
    shipped = sorted(folder.name for folder in discover([shipped_courses_dir()]))
    assert len(shipped) == 4 and list(first.courses) == shipped and again == first

    engine = make_engine(f"sqlite:///{tmp_path / 'smeb.db'}")
    with sessionmaker(engine)() as session:
        assert [r.slug for r in catalogue.installed(session)] == shipped
        rows = registrations.all_registrations(session)
        assert [(r.issuer, r.client_id, r.deployment_ids, r.auth_token_url) for r in rows] == [
            ("http://127.0.0.1:5001", DEMO_CLIENT_ID, (DEMO_DEPLOYMENT_ID,), "http://127.0.0.1:5001/token")]
    with engine.connect() as connection:
        lrs = load_destinations(connection)
    engine.dispose()
    assert lrs["demo-lrs"].endpoint == "http://127.0.0.1:5000/lrs/demo/xapi/" and lrs["demo-lrs"].password

    conn = store.connect(platform_db)
    try:
        tool = store.get_tool(conn, DEMO_CLIENT_ID)
        assert tool is not None and tool.redirect_uris == ("http://127.0.0.1:5000/lti/launch",)
        assert tool.jwks_url == "http://127.0.0.1:5000/.well-known/jwks.json"
        links = store.links(conn)
        assert sorted(row["id"] for row in links) == sorted("rl-" + slug for slug in shipped)  # once, not twice
        assert all(store.line_item_for_link(conn, row["id"]) is not None for row in links)
    finally:
        conn.close()
