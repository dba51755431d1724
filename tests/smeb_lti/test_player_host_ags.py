"""Grades leave through the outbox: :class:`smeb_lti.lti.ags.AgsSender` against the demo LMS over real HTTP.

The tool and the demo platform run on werkzeug servers on 127.0.0.1 (the platform fetches the
tool's JWKS to check its client assertions); the tool's database is SQLite or PostgreSQL. The demo
LMS judges scores like Moodle (409 for a timestamp not later in whole seconds than the result on
record, 400 for a teacher), so these tests catch what Moodle would refuse. Also the ``play`` and
``ags`` migration branches and the roster's pure helpers.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import inspect, select
from werkzeug.serving import make_server

from content import load_course
from smeb_lti.app import create_app
from smeb_lti.cli import main
from smeb_lti.courses import catalogue
from smeb_lti.db import alembic_config, make_engine, migrate, session_scope
from smeb_lti.demo_lms import (
    CONTEXT,
    Tool,
    add_course_link,
    create_platform_app,
    register_tool,
)
from smeb_lti.demo_lms import store as platform_store
from smeb_lti.lti import ags, launches, registrations
from smeb_lti.lti import claims as c
from smeb_lti.lti.nrps import parse_page, same_service, with_limit
from smeb_lti.lti.services import lti_services
from xapi.delivery import outbox

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "courses" / "valid"
COURSE_IRI = "https://smeb.no/courses/test-all-blocks"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
RIGHT_ANSWERS = [("q-single", ["a"]), ("q-multi", ["hierarki", "tidspress"]), ("q-tf", ["false"])]  # 4 of 5 points


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
    def __init__(self, tool_app: Flask, tool: Server, platform: Server, platform_db: Path, registration_id: int, db_url: str) -> None:
        self.tool_app, self.tool, self.platform, self.platform_db, self.registration_id = tool_app, tool, platform, platform_db, registration_id
        self.db_url = db_url

    @property
    def lineitem(self) -> str:
        return self.lineitem_url(1)

    def lineitem_url(self, item: int) -> str:
        return f"{self.platform.url}/api/contexts/{CONTEXT.id}/lineitems/{item}"

    def launch(self, user: str = "demo-ola", item: int = 1, roles: tuple[str, ...] = (LEARNER,)) -> str:
        """A launch as the LTI layer stores it after validating the platform's id_token for link ``rl-<item>``."""
        claims: dict[str, Any] = {
            "iss": self.platform.url, "sub": user, "aud": "client-1", "name": user,
            c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.VERSION: "1.3.0", c.DEPLOYMENT_ID: "dep-1",
            c.TARGET_LINK_URI: self.tool.url + "/lti/launch", c.RESOURCE_LINK: {"id": f"rl-{item}"}, c.ROLES: list(roles),
            c.CUSTOM: {"course": "all-blocks"}, c.CONTEXT: {"id": CONTEXT.id, "title": CONTEXT.title},
            c.AGS_ENDPOINT: {"scope": [c.SCOPE_SCORE, c.SCOPE_LINEITEM], "lineitems": f"{self.platform.url}/api/contexts/{CONTEXT.id}/lineitems",
                             "lineitem": self.lineitem_url(item)},
        }
        with session_scope(self.tool_app.extensions["smeb.sessions"]) as session:
            return launches.save_launch(session, launches.new_launch_id(), self.registration_id, "client-1", claims, 3600).launch_id

    def open_player(self, launch_id: str) -> None:
        assert self.tool_app.test_client().get(f"/play/{launch_id}").status_code == 200

    def event(self, launch_id: str, type_: str, data: dict[str, Any]) -> dict[str, Any]:
        client = self.tool_app.test_client()
        config = client.get(f"/play/{launch_id}/smeb-config.json").get_json()
        event = {"id": str(uuid.uuid4()), "type": type_, "courseId": COURSE_IRI, "data": data}
        response = client.post(config["eventsUrl"], json=event, headers={config["tokenHeader"]: config["token"]})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()  # type: ignore[no-any-return]

    def complete(self, launch_id: str) -> None:
        """The player's last steps: the last quiz answered (FullyGraded), then the outcome (Completed), in one second."""
        for block, answer in RIGHT_ANSWERS:
            self.event(launch_id, "answered", {"blockId": block, "response": answer})
        self.event(launch_id, "outcome", {"completed": True, "passed": True, "progress": 1})

    def result(self, item: int, user: str = "demo-ola") -> dict[str, Any] | None:
        """The platform's own record (its database, as an LMS administrator would look)."""
        conn = platform_store.connect(self.platform_db)
        try:
            rows = platform_store.results(conn, item, user)
        finally:
            conn.close()
        return dict(rows[0]) if rows else None

    def statuses(self) -> list[str]:
        return [r["status"] for r in self.rows()]

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
    tool_app = create_app({"SMEB_DATABASE_URL": migrated_db_url, "SMEB_DATA_DIR": str(tmp_path / "data"), "SMEB_ENV": "development",
                           "SMEB_LTI_HTTP_TIMEOUT": 5, "SMEB_COURSE_DIRS": str(FIXTURES), "TESTING": True})
    tool = Server(tool_app)
    platform_db = tmp_path / "platform.db"
    platform_app = create_platform_app({"PLATFORM_URL": "http://127.0.0.1:0", "PLATFORM_DB": str(platform_db)})
    platform = Server(platform_app)
    platform_app.extensions["demo_lms"].base_url = platform.url  # its issuer is its real address
    spec = Tool("client-1", "dep-1", "SMEB", tool.url + "/lti/login", tool.url + "/lti/launch", tool.url + "/.well-known/jwks.json",
                (tool.url + "/lti/launch",), tool.url + "/lti/launch")
    register_tool(platform_db, spec)
    add_course_link(platform_db, spec, "rl-1", "Kurs", {"course": "all-blocks"}, 5)
    add_course_link(platform_db, spec, "rl-2", "Kurs, andre gang", {"course": "all-blocks"}, 10)  # line item 2, same course
    with session_scope(tool_app.extensions["smeb.sessions"]) as session:
        catalogue.install(session, load_course(FIXTURES / "all-blocks"))
        row = registrations.add(session, registrations.RegistrationInput(
            issuer=platform.url, client_id="client-1", auth_login_url=platform.url + "/auth", auth_token_url=platform.url + "/token",
            key_set_url=platform.url + "/.well-known/jwks.json", deployment_ids=("dep-1",)))
        registration_id = row.id
    running = Setup(tool_app, tool, platform, platform_db, registration_id, migrated_db_url)
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
    setup.queue(user="demo-learner-01", given=5)
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


# -- issue 11: Moodle's rules for scores ---------------------------------------------------------


def _scores(setup: Setup, status: str | None = None) -> list[dict[str, Any]]:
    return [json.loads(r["payload"])["score"] for r in setup.rows() if status is None or r["status"] == status]


def _seconds(score: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(score["timestamp"].replace("Z", "+00:00")).timestamp())


def _drained(setup: Setup) -> None:
    assert outbox.PENDING not in setup.statuses() and outbox.PARKED not in setup.statuses(), setup.rows()


def test_completing_a_course_gets_fullygraded_and_completed_accepted_by_a_platform_that_refuses_equal_seconds(setup: Setup) -> None:
    launch_id = setup.launch()
    for block, answer in RIGHT_ANSWERS:
        setup.event(launch_id, "answered", {"blockId": block, "response": answer})
    assert setup.sender().run_once().delivered == 1  # FullyGraded is at the platform ...
    setup.event(launch_id, "outcome", {"completed": True, "passed": True, "progress": 1})  # ... and Completed follows at once
    stats = setup.sender().run_once()
    assert (stats.delivered, stats.parked, stats.rescheduled) == (1, 0, 0), stats.errors
    _drained(setup)
    result = setup.result(1)
    assert result is not None and (result["score_given"], result["activity_progress"], result["grading_progress"]) == (4.0, "Completed", "FullyGraded")
    sent = [_seconds(s) for s in _scores(setup, outbox.DELIVERED)]
    assert len(sent) == 2 and sent[0] < sent[1]


def test_two_scores_queued_in_the_same_millisecond_get_strictly_later_whole_seconds(setup: Setup) -> None:
    now = datetime.now(UTC)
    sessions = setup.tool_app.extensions["smeb.sessions"]
    for given, progress in ((4, "InProgress"), (4, "Completed")):
        with session_scope(sessions) as session:  # two transactions, as two worker processes would
            score = {"userId": "demo-ola", "scoreGiven": given, "scoreMaximum": 5, "activityProgress": progress,
                     "gradingProgress": "FullyGraded", "timestamp": "ignored"}
            assert ags.queue_score(session, setup.registration_id, setup.lineitem, score, now) is not None
    first, second = _scores(setup)
    assert first["timestamp"] == ags._timestamp(now.replace(microsecond=now.microsecond // 1000 * 1000))
    assert _seconds(second) == _seconds(first) + 1
    assert setup.statuses() == [outbox.SUPERSEDED, outbox.PENDING]  # the older one waited: it need not be sent
    assert setup.sender().run_once().requests == 1
    assert setup.result(1)["activity_progress"] == "Completed"  # type: ignore[index]


def test_scores_queued_at_once_by_concurrent_transactions_never_share_a_second(setup: Setup) -> None:
    sessions = setup.tool_app.extensions["smeb.sessions"]
    now = datetime.now(UTC)
    barrier, errors = threading.Barrier(4), []

    def queue(given: int) -> None:
        try:
            barrier.wait()
            with session_scope(sessions) as session:
                score = {"userId": "demo-ola", "scoreGiven": given, "scoreMaximum": 5, "activityProgress": "InProgress",
                         "gradingProgress": "Pending", "timestamp": "ignored"}
                ags.queue_score(session, setup.registration_id, setup.lineitem, score, now)
        except Exception as error:  # reported below: a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=queue, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seconds = [_seconds(s) for s in _scores(setup)]
    assert len(seconds) == 4 and len(set(seconds)) == 4
    assert setup.statuses().count(outbox.PENDING) == 1
    latest = max(_scores(setup), key=_seconds)
    assert setup.sender().run_once().delivered == 1
    assert setup.result(1)["score_given"] == latest["scoreGiven"]  # type: ignore[index]


def test_a_learners_last_steps_queued_before_any_delivery_send_only_the_latest_grade(setup: Setup) -> None:
    setup.complete(setup.launch())
    assert setup.statuses()[-1] == outbox.PENDING and set(setup.statuses()[:-1]) == {outbox.SUPERSEDED}
    stats = setup.sender().run_once()
    assert (stats.requests, stats.delivered) == (1, 1)
    _drained(setup)
    assert setup.result(1)["activity_progress"] == "Completed"  # type: ignore[index]


def test_scores_from_before_the_rule_refused_with_409_are_requeued_once_with_a_later_timestamp(setup: Setup) -> None:
    # Two rows queued in one second by an older version of the tool: the second one used to be retried forever.
    setup.queue(given=4, timestamp="2026-11-21T10:00:00.100Z")
    score = {"userId": "demo-ola", "scoreGiven": 4, "scoreMaximum": 5, "activityProgress": "Completed", "gradingProgress": "FullyGraded",
             "timestamp": "2026-11-21T10:00:00.900Z"}
    with session_scope(setup.tool_app.extensions["smeb.sessions"]) as session:
        ags.enqueue_score(session, setup.registration_id, setup.lineitem, score)
    stats = setup.sender().run_once()
    assert (stats.delivered, stats.parked, stats.rescheduled) == (2, 0, 0), stats.errors
    assert setup.statuses() == [outbox.DELIVERED, outbox.SUPERSEDED, outbox.DELIVERED]
    assert "409" in setup.rows()[1]["last_error"] and "re-queued" in setup.rows()[1]["last_error"]
    assert setup.result(1)["activity_progress"] == "Completed"  # type: ignore[index]


def test_a_late_score_older_than_one_of_ours_at_the_platform_is_superseded_not_retried(setup: Setup) -> None:
    setup.complete(setup.launch())
    assert setup.sender().run_once().delivered == 1
    setup.queue(given=1, timestamp="2026-11-21T10:00:00.000Z")  # an old score arriving late (e.g. a worker that was stuck)
    stats = setup.sender().run_once()
    assert (stats.requests, stats.parked, stats.rescheduled) == (1, 0, 0)
    assert setup.statuses()[-1] == outbox.SUPERSEDED and "newer" in setup.rows()[-1]["last_error"]
    _drained(setup)
    assert setup.result(1)["score_given"] == 4.0  # type: ignore[index]


def test_refused_scores_are_parked_with_the_platforms_answer_and_listed_by_smeb_outbox_parked(setup: Setup) -> None:
    conn = platform_store.connect(setup.platform_db)  # a teacher set a grade at the platform, "in the future"
    with platform_store.transaction(conn):
        platform_store.put_result(conn, 1, {"userId": "demo-ola", "scoreGiven": 5, "scoreMaximum": 5, "activityProgress": "Completed",
                                            "gradingProgress": "FullyGraded", "timestamp": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    conn.close()
    setup.complete(setup.launch())
    setup.queue(user="demo-kari", given=5)  # a teacher's score (an older tool queued those): Moodle answers 400
    stats = setup.sender().run_once()
    assert (stats.parked, stats.rescheduled) == (2, 0), stats.errors
    assert setup.sender().run_once().requests == 0  # never retried by itself
    parked = [r for r in setup.rows() if r["status"] == outbox.PARKED]
    assert {r["attempts"] for r in parked} == {1}
    env = {"SMEB_DATABASE_URL": setup.db_url, "SMEB_DATA_DIR": str(setup.platform_db.parent / "data")}
    listing = CliRunner().invoke(main, ["outbox", "parked"], env=env)
    assert listing.exit_code == 0, listing.output
    assert "answered 409" in listing.output and "earlier timestamp" in listing.output and "newer grade was set at the platform" in listing.output
    assert "answered 400" in listing.output and "not gradable" in listing.output
    assert "user demo-kari" in listing.output and setup.lineitem in listing.output
    status = CliRunner().invoke(main, ["outbox", "status"], env=env)
    assert "2 parked" in status.output and "superseded" in status.output


def test_a_second_activity_for_a_course_finished_under_another_gets_the_grade_at_launch(setup: Setup) -> None:
    setup.complete(setup.launch(item=1))
    assert setup.sender().run_once().delivered == 1
    second = setup.launch(item=2)
    setup.open_player(second)  # the learner only looks: the player shows 100 %
    stats = setup.sender().run_once()
    assert (stats.delivered, stats.parked) == (1, 0)
    result = setup.result(2)
    assert result is not None and (result["score_given"], result["score_maximum"], result["activity_progress"]) == (4.0, 5.0, "Completed")
    before = len(setup.rows())
    setup.open_player(setup.launch(item=2))
    setup.open_player(setup.launch(item=1))
    assert len(setup.rows()) == before  # a line item that has the grade gets nothing again


def test_a_learner_without_progress_gets_no_score_at_launch(setup: Setup) -> None:
    setup.open_player(setup.launch(item=2))
    assert setup.rows() == []


@pytest.mark.parametrize("roles", [(INSTRUCTOR,), ("http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator",
                                                   "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"),
                                   ("http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",)])
def test_staff_launches_queue_no_scores(setup: Setup, roles: tuple[str, ...]) -> None:
    launch_id = setup.launch(user="demo-kari", roles=roles)
    setup.open_player(launch_id)
    for block, answer in RIGHT_ANSWERS:
        assert setup.event(launch_id, "answered", {"blockId": block, "response": answer})["gradeQueued"] is False
    assert setup.event(launch_id, "outcome", {"completed": True, "passed": True, "progress": 1})["gradeQueued"] is False
    setup.open_player(setup.launch(user="demo-kari", item=2, roles=roles))
    assert setup.rows() == []


def test_the_ags_branch_migrates_down_and_up_again(db_url: str) -> None:
    migrate(db_url)
    command.downgrade(alembic_config(db_url), "ags@base")
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    assert "ags_line_item_scores" not in tables and "xapi_outbox" in tables
    engine.dispose()
    migrate(db_url)
    engine = make_engine(db_url)
    assert "ags_line_item_scores" in set(inspect(engine).get_table_names())
    engine.dispose()


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
    from datetime import datetime

    now = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    started = ags.grade_for("u", 0, 0, 0.0, False, False, now)
    assert (started["scoreGiven"], started["scoreMaximum"], started["activityProgress"], started["gradingProgress"]) == (0.0, 1.0, "Started", "Pending")
    done = ags.grade_for("u", 0, 0, 1.0, True, False, now)
    assert (done["scoreGiven"], done["activityProgress"], done["gradingProgress"]) == (1.0, "Completed", "FullyGraded")
    assert json.loads(json.dumps(done))["timestamp"] == "2026-11-21T10:00:00.000Z"
