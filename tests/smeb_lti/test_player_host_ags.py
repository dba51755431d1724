"""Grades leave through the outbox: :class:`smeb_lti.ags.AgsSender` against the demo LMS over real HTTP.

The tool and the demo platform run on werkzeug servers on 127.0.0.1 (the platform fetches the
tool's JWKS to check its client assertions); the tool's database is SQLite or PostgreSQL. Also the
``play`` migration branch and the roster's pure helpers.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from alembic import command
from flask import Flask
from sqlalchemy import inspect, select
from werkzeug.serving import make_server

from smeb_lti import ags
from smeb_lti.db import alembic_config, make_engine, migrate, session_scope
from smeb_lti.demo_platform import (
    CONTEXT,
    Tool,
    add_course_link,
    create_platform_app,
    register_tool,
)
from smeb_lti.lti import registrations
from smeb_lti.lti.services import lti_services
from smeb_lti.roster import parse_page, same_service, with_limit
from xapi import outbox


class Server:
    """A WSGI app on 127.0.0.1 in a thread; :meth:`stop` shuts it down (and it can start again on its port)."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class Setup:
    def __init__(self, tool_app: Flask, tool: Server, platform: Server, platform_db: Path, registration_id: int) -> None:
        self.tool_app, self.tool, self.platform, self.platform_db, self.registration_id = tool_app, tool, platform, platform_db, registration_id

    @property
    def lineitem(self) -> str:
        return f"{self.platform.url}/api/contexts/{CONTEXT.id}/lineitems/1"

    def restart_platform(self) -> None:
        self.platform = Server(self.platform.app, self.platform.port)

    def queue(self, user: str = "demo-ola", given: float = 3, timestamp: str = "2026-11-21T10:00:00.000Z") -> None:
        score = {"userId": user, "scoreGiven": given, "scoreMaximum": 5, "activityProgress": "Completed",
                 "gradingProgress": "FullyGraded", "timestamp": timestamp}
        with session_scope(self.tool_app.extensions["smeb.sessions"]) as session:
            ags.enqueue_score(session, self.registration_id, self.lineitem, score)

    def sender(self) -> ags.AgsSender:
        return ags.AgsSender(self.tool_app.extensions["smeb.engine"], lti_services(self.tool_app))

    def rows(self) -> list[dict[str, Any]]:
        with self.tool_app.extensions["smeb.engine"].connect() as conn:
            return [dict(r) for r in conn.execute(select(outbox.outbox_table).order_by(outbox.outbox_table.c.id)).mappings()]

    def gradebook(self) -> str:
        return httpx.get(self.platform.url + "/gradebook", timeout=10).text


@pytest.fixture
def setup(migrated_db_url: str, tmp_path: Path) -> Iterator[Setup]:
    from smeb_lti.app import create_app

    tool_app = create_app({"SMEB_DATABASE_URL": migrated_db_url, "SMEB_DATA_DIR": str(tmp_path / "data"), "SMEB_ENV": "development",
                           "SMEB_LTI_HTTP_TIMEOUT": 5, "TESTING": True})
    tool = Server(tool_app)
    platform_db = tmp_path / "platform.db"
    platform_app = create_platform_app({"PLATFORM_URL": "http://127.0.0.1:0", "PLATFORM_DB": str(platform_db)})
    platform = Server(platform_app)
    platform_app.extensions["demo_platform"].base_url = platform.url  # its issuer is its real address
    spec = Tool("client-1", "dep-1", "SMEB", tool.url + "/lti/login", tool.url + "/lti/launch", tool.url + "/.well-known/jwks.json",
                (tool.url + "/lti/launch",), tool.url + "/lti/launch")
    register_tool(platform_db, spec)
    add_course_link(platform_db, spec, "rl-1", "Kurs", {"course": "all-blocks"}, 5)
    with session_scope(tool_app.extensions["smeb.sessions"]) as session:
        row = registrations.add(session, registrations.RegistrationInput(
            issuer=platform.url, client_id="client-1", auth_login_url=platform.url + "/auth", auth_token_url=platform.url + "/token",
            key_set_url=platform.url + "/.well-known/jwks.json", deployment_ids=("dep-1",)))
        registration_id = row.id
    running = Setup(tool_app, tool, platform, platform_db, registration_id)
    yield running
    running.platform.stop()
    tool.stop()
    tool_app.extensions["smeb.engine"].dispose()


def test_a_queued_score_is_posted_to_the_platform_and_marked_delivered(setup: Setup) -> None:
    setup.queue()
    stats = setup.sender().run_once()
    assert (stats.delivered, stats.parked, stats.rescheduled) == (1, 0, 0)
    assert [r["status"] for r in setup.rows()] == [outbox.DELIVERED]
    assert '<td class="grade">3 / 5</td>' in setup.gradebook()
    assert setup.sender().run_once().requests == 0  # nothing is sent twice


def test_a_score_the_platform_refuses_is_parked_with_its_reason(setup: Setup) -> None:
    setup.queue(user="not-a-member")
    setup.queue(user="demo-kari", given=5)
    stats = setup.sender().run_once()
    assert (stats.delivered, stats.parked) == (1, 1)
    parked = [r for r in setup.rows() if r["status"] == outbox.PARKED]
    assert len(parked) == 1 and "400" in parked[0]["last_error"] and "is not a member" in parked[0]["last_error"]


def test_scores_wait_while_the_platform_is_down_and_go_when_it_is_back(setup: Setup) -> None:
    setup.platform.stop()
    setup.queue()
    stats = setup.sender().run_once()
    assert stats.delivered == 0 and stats.rescheduled == 1
    assert [(r["status"], r["attempts"]) for r in setup.rows()] == [(outbox.PENDING, 1)]
    setup.restart_platform()
    with setup.tool_app.extensions["smeb.engine"].begin() as conn:
        outbox.retry(conn)  # due now instead of after the backoff
    assert setup.sender().run_once().delivered == 1
    assert '<td class="grade">3 / 5</td>' in setup.gradebook()


def test_a_token_the_platform_no_longer_knows_is_dropped_and_a_new_one_fetched(setup: Setup) -> None:
    import sqlite3

    setup.queue()
    assert setup.sender().run_once().delivered == 1  # the access token is now cached in the shared store
    conn = sqlite3.connect(setup.platform_db)
    conn.execute("DELETE FROM access_tokens")  # the LMS restarted and forgot its tokens
    conn.commit()
    conn.close()
    setup.queue(given=4, timestamp="2026-11-21T11:00:00.000Z")
    first = setup.sender().run_once()
    assert first.rescheduled == 1 and "401" in first.errors[0]
    with setup.tool_app.extensions["smeb.engine"].begin() as c:
        outbox.retry(c)
    assert setup.sender().run_once().delivered == 1
    assert '<td class="grade">4 / 5</td>' in setup.gradebook()


def test_the_play_branch_migrates_down_and_up_again(db_url: str) -> None:
    migrate(db_url)
    engine = make_engine(db_url)
    assert {"play_progress", "play_events"} <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(db_url), "play@base")
    engine.dispose()
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    assert "play_progress" not in tables and "lti_registrations" in tables
    engine.dispose()
    migrate(db_url)
    engine = make_engine(db_url)
    assert "play_progress" in set(inspect(engine).get_table_names())
    engine.dispose()


# -- roster helpers (pure) ---------------------------------------------------------------------


def test_a_roster_page_keeps_members_with_ids_and_marks_staff() -> None:
    page = parse_page({
        "context": {"title": "Elektro"},
        "members": [
            {"user_id": "u1", "given_name": "Ola", "family_name": "Nordmann", "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]},
            {"user_id": "u2", "name": "Kari", "roles": ["Instructor"], "status": "Inactive"},
            {"name": "no id"},
            "garbage",
        ],
    }, "https://lms/next")
    assert [(m.user_id, m.name, m.is_staff, m.status) for m in page.members] == [("u1", "Ola Nordmann", False, "Active"), ("u2", "Kari", True, "Inactive")]
    assert page.context_title == "Elektro" and page.next_url == "https://lms/next"


def test_only_pages_of_the_same_membership_service_are_followed() -> None:
    service = "https://lms.example/api/contexts/c1/memberships?x=1"
    assert same_service("https://lms.example/api/contexts/c1/memberships?offset=5", service)
    assert not same_service("https://lms.example/api/contexts/c2/memberships", service)
    assert not same_service("http://lms.example/api/contexts/c1/memberships", service)
    assert not same_service("https://evil.example/api/contexts/c1/memberships", service)
    assert with_limit(service, 5) == "https://lms.example/api/contexts/c1/memberships?x=1&limit=5"


def test_grades_without_quizzes_are_completion() -> None:
    from datetime import datetime, timezone

    now = datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)
    started = ags.grade_for("u", 0, 0, 0.0, False, False, now)
    assert (started["scoreGiven"], started["scoreMaximum"], started["activityProgress"], started["gradingProgress"]) == (0.0, 1.0, "Started", "Pending")
    done = ags.grade_for("u", 0, 0, 1.0, True, False, now)
    assert (done["scoreGiven"], done["activityProgress"], done["gradingProgress"]) == (1.0, "Completed", "FullyGraded")
    assert json.loads(json.dumps(done))["timestamp"] == "2026-11-21T10:00:00.000Z"
