"""The player host serves the player to a stored launch and turns checked learner events into progress,
xAPI statements (outbox) and AGS scores (outbox), on SQLite and PostgreSQL.

Launches are stored with :func:`smeb_lti.lti.launches.save_launch` (what the LTI layer does after
validating an id_token); the launch flow itself over HTTP is in tests/e2e/test_demo_flow.py.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from content import UnknownModuleError, course_view, load_course
from content.export import course_to_json
from content.model import Course
from content.reader import course_from_json
from smeb_lti.db import session_scope
from smeb_lti.lti import ags, launches, registrations
from smeb_lti.lti import claims as c
from smeb_lti.play.answers import quiz_points
from smeb_lti.play.errors import EventInvalid
from smeb_lti.play.events import parse_event
from smeb_lti.play.routes import player_assets
from smeb_lti.play.store import Progress
from tests.support.app import COURSE_SETTINGS, dispose, make_app, register_platform
from xapi.delivery import outbox
from xapi.delivery.destinations import Destination, save_destination
from xapi.profile import match_templates
from xapi.validation import validate_statement

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "courses" / "valid"
ISSUER = "https://lms.example.no"
LINEITEM = ISSUER + "/api/contexts/c1/lineitems/7?tenant=a"
COURSE_IRI = "https://smeb.no/courses/test-all-blocks"


@pytest.fixture
def app(migrated_db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(migrated_db_url, tmp_path / "data", courses=["all-blocks"], **COURSE_SETTINGS)
    register_platform(app, ISSUER)
    yield app
    dispose(app)


def _launch(app: Flask, *, sub: str = "learner-1", roles: tuple[str, ...] = ("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",),
            custom: dict[str, str] | None = None, ags_claim: bool = True) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER, "sub": sub, "aud": "client-1", "name": "Ola Nordmann",
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.VERSION: "1.3.0", c.DEPLOYMENT_ID: "dep-1",
        c.TARGET_LINK_URI: "https://tool.example/lti/launch", c.RESOURCE_LINK: {"id": "rl-1"}, c.ROLES: list(roles),
        c.CUSTOM: custom if custom is not None else {"course": "all-blocks"}, c.CONTEXT: {"id": "c1", "title": "Elektro"},
        c.LAUNCH_PRESENTATION: {"locale": "nb-NO", "return_url": ISSUER + "/course/1"},
        c.NRPS: {"context_memberships_url": ISSUER + "/api/contexts/c1/memberships", "service_versions": ["2.0"]},
    }
    if ags_claim:
        claims[c.AGS_ENDPOINT] = {"scope": [c.SCOPE_SCORE, c.SCOPE_LINEITEM], "lineitems": ISSUER + "/api/contexts/c1/lineitems", "lineitem": LINEITEM}
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registration = registrations.find(session, ISSUER, "client-1")
        assert registration is not None
        return launches.save_launch(session, launches.new_launch_id(), registration.id, "client-1", claims, 3600).launch_id


def _status(client: Any, url: str) -> int:
    with client.get(url) as response:  # file responses hold the file open until closed
        return int(response.status_code)


def _config(app: Flask, launch_id: str) -> dict[str, Any]:
    response = app.test_client().get(f"/play/{launch_id}/smeb-config.json")
    assert response.status_code == 200
    return response.get_json()  # type: ignore[no-any-return]


def _post(app: Flask, launch_id: str, type_: str, data: dict[str, Any], *, token: str | None = None, event_id: str | None = None,
          course_id: str = COURSE_IRI) -> Any:
    config = _config(app, launch_id)
    event = {"id": event_id or str(uuid.uuid4()), "type": type_, "time": "2026-11-21T10:00:00.000Z", "courseId": course_id, "data": data}
    return app.test_client().post(config["eventsUrl"], json=event, headers={config["tokenHeader"]: config["token"] if token is None else token})


def _outbox(app: Flask, kind: str) -> list[dict[str, Any]]:
    with app.extensions["smeb.engine"].connect() as conn:
        rows = conn.execute(select(outbox.outbox_table).where(outbox.outbox_table.c.kind == kind).order_by(outbox.outbox_table.c.id)).mappings()
        return [dict(r) for r in rows]


def _with_lrs(app: Flask) -> None:
    with app.extensions["smeb.engine"].begin() as conn:
        save_destination(conn, Destination(name="bht-lrs", endpoint="https://lrs.example.no/xapi/"))


# -- the page and its files --------------------------------------------------------------------


def test_the_player_page_loads_the_same_assets_as_the_players_index_under_the_launch(app: Flask) -> None:
    launch_id = _launch(app)
    response = app.test_client().get(f"/play/{launch_id}")
    page = response.get_data(as_text=True)
    styles, scripts = player_assets()
    assert {"core.js", "player.js"} <= set(scripts) and styles
    assert response.status_code == 200 and f'<base href="/play/{launch_id}/">' in page and '<div id="app">' in page
    for asset in styles + scripts:
        assert f'"{asset}"' in page
        assert _status(app.test_client(), f"/play/{launch_id}/{asset}") == 200
    assert '<html lang="nb">' in page and "smeb-roster-link" not in page
    # Framed by the launch's LMS, and only by it (issue 13; the other page types: tests/smeb_lti/test_headers.py).
    assert response.headers["Cache-Control"] == "no-store" and "frame-ancestors https://lms.example.no" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers


def test_instructors_see_a_link_to_the_roster_and_learners_do_not(app: Flask) -> None:
    staff = _launch(app, sub="teacher", roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",))
    page = app.test_client().get(f"/play/{staff}").get_data(as_text=True)
    assert f'href="/roster/{staff}" id="smeb-roster-link"' in page
    registered = {rule.rule for rule in app.url_map.iter_rules()}
    # Every other facilitator link points at a route this app really has.
    for href in re.findall(r'<nav class="smeb-staff".*?</nav>', page, re.S)[0].split('href="')[1:]:
        path = href.split('"', 1)[0].replace(staff, "<launch_id>")
        assert path in registered, path
    assert f'href="/app/{staff}/dashboard" id="smeb-dashboard-link"' in page
    learner = _launch(app)
    learner_page = app.test_client().get(f"/play/{learner}").get_data(as_text=True)
    assert "/roster/" not in learner_page and "/dashboard" not in learner_page


def test_learners_find_their_journal_and_the_forum_from_the_player(app: Flask) -> None:
    learner = _launch(app)
    page = app.test_client().get(f"/play/{learner}").get_data(as_text=True)
    assert f'href="/app/{learner}/journal" id="smeb-journal-link"' in page
    assert f'href="/app/{learner}/forum" id="smeb-forum-link"' in page


def test_an_unknown_launch_or_course_is_a_404_that_says_what_to_do(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/play/no-such-launch").status_code == 404
    missing = _launch(app, custom={"course": "not-installed"})
    response = client.get(f"/play/{missing}")
    assert response.status_code == 404 and "smeb courses install" in response.get_data(as_text=True)
    unnamed = _launch(app, custom={})
    assert "custom parameter course" in client.get(f"/play/{unnamed}").get_data(as_text=True)


def test_only_player_files_and_referenced_media_are_served(app: Flask) -> None:
    launch_id = _launch(app)
    client = app.test_client()
    with client.get(f"/play/{launch_id}/media/clip.mp4", headers={"Range": "bytes=0-9"}) as video:
        assert video.status_code == 206 and len(video.data) == 10
    assert _status(client, f"/play/{launch_id}/media/clip.nb.vtt") == 200
    for path in ("media/../course.yaml", "media/not-referenced.png", "..%2fcourse.yaml", "index.html", "../../smeb_lti/app.py"):
        assert _status(client, f"/play/{launch_id}/{path}") == 404, path


def test_the_config_carries_the_events_url_token_locale_and_return_url(app: Flask) -> None:
    launch_id = _launch(app)
    config = _config(app, launch_id)
    assert config["runtime"] == "lti" and config["eventsUrl"] == f"/play/{launch_id}/events" and config["courseId"] == COURSE_IRI
    assert config["tokenHeader"] == "X-SMEB-Launch-Token" and len(config["token"]) == 64
    assert config["locale"] == "nb" and config["state"] is None and config["returnURL"] == ISSUER + "/course/1"
    assert config["learner"]["id"] != "learner-1"  # an opaque id: the platform's sub stays on the server
    assert config["token"] != _config(app, _launch(app))["token"]


def test_a_module_link_serves_only_that_module(app: Flask) -> None:
    launch_id = _launch(app, custom={"course": "all-blocks", "module": "m2"})
    course = app.test_client().get(f"/play/{launch_id}/course.json").get_json()
    assert [m["id"] for m in course["modules"]] == ["m2"]
    every = {b["id"] for m in course["modules"] for lesson in m["lessons"] for b in lesson["blocks"]}
    assert set(course["required"]) <= every


# -- events ------------------------------------------------------------------------------------


def test_events_need_this_launchs_token(app: Flask) -> None:
    launch_id, other = _launch(app), _launch(app, sub="learner-2")
    assert _post(app, launch_id, "initialized", {}, token="").status_code == 401
    assert _post(app, launch_id, "initialized", {}, token=_config(app, other)["token"]).status_code == 401
    assert _post(app, launch_id, "initialized", {}).status_code == 200


@pytest.mark.parametrize(
    "type_, data, field",
    [
        ("answered", {"blockId": "nope", "response": ["a"]}, "data.blockId"),
        ("answered", {"blockId": "q-single", "response": ["z"]}, "data.response"),
        ("answered", {"blockId": "q-single", "response": ["a", "b"]}, "data.response"),
        ("answered", {"blockId": "q-multi", "response": "hierarki"}, "data.response"),
        ("answered", {"blockId": "tavla", "response": ["si-fra"]}, "data.blockId"),
        ("answered", {"blockId": "tavla.s9", "response": ["si-fra"]}, "data.blockId"),
        ("answered", {"blockId": "tavla.s1", "response": ["ferdig"]}, "data.response"),
        ("answered", {"blockId": "s-scale", "response": ["11"]}, "data.response"),
        ("answered", {"blockId": "r1", "response": ["my private thoughts"]}, "data.response"),
        ("answered", {"blockId": "intro", "response": ["a"]}, "data.blockId"),
        ("progressed", {"lesson": "l1", "progress": 1.5}, "data.progress"),
        ("progressed", {"lesson": "l99", "progress": 0.5}, "data.lesson"),
        ("outcome", {"completed": "yes"}, "data.completed"),
        ("state", {"state": 42}, "data.state"),
        ("launched", {}, "type"),
        ("video", {"blockId": "intro", "verb": "played", "sessionId": str(uuid.UUID(int=1)), "time": 0}, "data.blockId"),
        ("video", {"blockId": "film", "verb": "watched", "sessionId": str(uuid.UUID(int=1)), "time": 0}, "data.verb"),
        ("video", {"blockId": "film", "verb": "played", "sessionId": "s-1", "time": 0}, "data.sessionId"),
        ("video", {"blockId": "film", "verb": "played", "sessionId": str(uuid.UUID(int=1)), "time": -1}, "data.time"),
        ("video", {"blockId": "film", "verb": "seeked", "sessionId": str(uuid.UUID(int=1)), "timeFrom": 1}, "data.timeTo"),
        ("video", {"blockId": "film", "verb": "paused", "sessionId": str(uuid.UUID(int=1)), "time": 1, "length": 2, "progress": 1.5,
                   "segments": "0[.]1"}, "data.progress"),
        ("video", {"blockId": "film", "verb": "paused", "sessionId": str(uuid.UUID(int=1)), "time": 1, "length": 2, "progress": 0.5,
                   "segments": "0-1"}, "data.segments"),
    ],
)
def test_an_event_that_does_not_fit_the_course_is_refused_and_changes_nothing(app: Flask, type_: str, data: dict[str, Any], field: str) -> None:
    _with_lrs(app)
    launch_id = _launch(app)
    response = _post(app, launch_id, type_, data)
    assert response.status_code == 400 and f"event {field}:" in response.get_json()["message"]
    assert _outbox(app, "lrs") == [] and _outbox(app, "ags") == []
    with app.extensions["smeb.sessions"]() as session:
        assert session.scalars(select(Progress)).first() is None


def test_an_event_for_another_course_is_refused(app: Flask) -> None:
    response = _post(app, _launch(app), "initialized", {}, course_id="https://smeb.no/courses/other")
    assert response.status_code == 400 and "courseId" in response.get_json()["message"]


def test_a_replayed_event_answers_409_and_is_applied_once(app: Flask) -> None:
    _with_lrs(app)
    launch_id, event_id = _launch(app), str(uuid.uuid4())
    first = _post(app, launch_id, "answered", {"blockId": "q-single", "response": ["a"]}, event_id=event_id)
    assert first.status_code == 200 and first.get_json()["points"] == 2
    assert _post(app, launch_id, "answered", {"blockId": "q-single", "response": ["a"]}, event_id=event_id).status_code == 409
    assert len(_outbox(app, "lrs")) == 1


def test_quiz_points_are_decided_by_the_server_not_by_the_browser(app: Flask) -> None:
    launch_id = _launch(app)
    wrong = _post(app, launch_id, "answered", {"blockId": "q-multi", "response": ["hierarki"], "result": "correct", "points": 2})
    assert wrong.get_json()["points"] == 0
    right = _post(app, launch_id, "answered", {"blockId": "q-multi", "response": ["tidspress", "hierarki"]})
    assert right.get_json()["points"] == 2 and right.get_json()["maxPoints"] == 5


def test_answers_become_valid_xapi_statements_in_the_outbox(app: Flask) -> None:
    _with_lrs(app)
    launch_id = _launch(app)
    events: list[tuple[str, dict[str, Any]]] = [
        ("initialized", {}),
        ("answered", {"blockId": "q-tf", "response": ["true"]}),
        ("answered", {"blockId": "q-single", "response": ["b"]}),
        ("answered", {"blockId": "tavla.s1", "response": ["si-fra"]}),
        ("answered", {"blockId": "s-likert", "response": ["4"]}),
        ("answered", {"blockId": "r1"}),
        ("progressed", {"lesson": "l1", "progress": 0.5}),
    ]
    for type_, data in events:
        assert _post(app, launch_id, type_, data).status_code == 200
    rows = _outbox(app, "lrs")
    statements = [json.loads(r["payload"]) for r in rows]
    verbs = [s["verb"]["id"].rsplit("/", 1)[-1] for s in statements]
    assert verbs == ["initialized", "answered", "answered", "answered", "answered", "reflected", "progressed"]
    for statement in statements:
        validate_statement(statement)
        assert statement["actor"]["account"]["homePage"] == ISSUER and statement["actor"]["account"]["name"] != "learner-1"
        assert statement["context"]["registration"] == statements[0]["context"]["registration"]
    assert statements[1]["result"]["success"] is True and statements[2]["result"]["success"] is False
    assert "r1" in statements[5]["object"]["id"] and "response" not in statements[5].get("result", {})
    assert {r["destination"] for r in rows} == {"bht-lrs"}


def test_video_events_become_adl_video_profile_statements_that_match_the_smeb_templates(app: Flask) -> None:
    _with_lrs(app)
    launch_id, session = _launch(app), str(uuid.uuid4())
    base = {"blockId": "film", "sessionId": session, "ccEnabled": True, "ccLang": "nb"}
    events: list[dict[str, Any]] = [
        {"verb": "played", "time": 0, "length": 8},
        {"verb": "paused", "time": 3, "length": 8, "progress": 0.375, "segments": "0[.]3"},
        {"verb": "seeked", "timeFrom": 3, "timeTo": 6, "length": 8},
        {"verb": "completed", "time": 8, "length": 8, "progress": 1, "segments": "0[.]8", "duration": "PT9.5S"},
    ]
    for data in events:
        assert _post(app, launch_id, "video", {**base, **data}).status_code == 200
    statements = [json.loads(r["payload"]) for r in _outbox(app, "lrs")]
    templates = [match_templates(s) for s in statements]
    assert [t[-1].rsplit("/", 1)[-1] if t else None for t in templates] == ["video-played", "video-paused", "video-seeked", "video-completed"]
    for statement in statements:
        validate_statement(statement)
        assert statement["object"]["id"] == COURSE_IRI + "/film"
        assert statement["context"]["extensions"]["https://w3id.org/xapi/video/extensions/session-id"] == session
    assert statements[1]["result"]["extensions"]["https://w3id.org/xapi/video/extensions/played-segments"] == "0[.]3"
    assert statements[3]["result"]["completion"] is True and statements[3]["result"]["duration"] == "PT9.5S"


def test_completion_and_pass_are_reported_once_and_the_grade_follows(app: Flask) -> None:
    _with_lrs(app)
    launch_id = _launch(app)
    for block, answer in [("q-single", ["a"]), ("q-multi", ["hierarki", "tidspress"]), ("q-tf", ["false"])]:
        _post(app, launch_id, "answered", {"blockId": block, "response": answer})
    done = _post(app, launch_id, "outcome", {"completed": True, "passed": True, "progress": 1}).get_json()
    assert done["completed"] and done["points"] == 4
    _post(app, launch_id, "outcome", {"completed": True, "passed": True, "progress": 1})
    verbs = [json.loads(r["payload"])["verb"]["id"].rsplit("/", 1)[-1] for r in _outbox(app, "lrs")]
    assert verbs.count("completed") == 1 and verbs.count("passed") == 1 and "failed" not in verbs
    scores = [json.loads(r["payload"]) for r in _outbox(app, "ags")]
    assert {s["lineitem"] for s in scores} == {LINEITEM}
    last = scores[-1]["score"]
    assert last == {**last, "userId": "learner-1", "scoreGiven": 4.0, "scoreMaximum": 5.0, "activityProgress": "Completed",
                    "gradingProgress": "FullyGraded"}
    with app.extensions["smeb.sessions"]() as session:
        registration = registrations.find(session, ISSUER, "client-1")
        assert registration is not None
    assert {r["destination"] for r in _outbox(app, "ags")} == {ags.destination_for(registration.id)}


def test_an_unchanged_grade_is_not_posted_again(app: Flask) -> None:
    launch_id = _launch(app)
    _post(app, launch_id, "progressed", {"lesson": "l1", "progress": 0.5})
    before = len(_outbox(app, "ags"))
    assert _post(app, launch_id, "state", {"state": "abc", "location": "l1"}).get_json()["gradeQueued"] is False
    assert _post(app, launch_id, "progressed", {"lesson": "l1", "progress": 0.5}).get_json()["gradeQueued"] is False
    assert len(_outbox(app, "ags")) == before == 1


def test_no_grade_is_queued_when_the_platform_offers_no_line_item(app: Flask) -> None:
    launch_id = _launch(app, ags_claim=False)
    assert _post(app, launch_id, "outcome", {"completed": True, "passed": None}).get_json()["gradeQueued"] is False
    assert _outbox(app, "ags") == []


def test_saved_state_comes_back_in_the_next_launchs_config(app: Flask) -> None:
    first = _launch(app)
    _post(app, first, "state", {"state": "v1.AbC-_", "location": "l2"})
    assert _config(app, _launch(app))["state"] == "v1.AbC-_"  # resume: same platform, user and course
    assert _config(app, _launch(app, sub="learner-2"))["state"] is None


def test_progress_is_kept_per_registration_user_and_course(app: Flask) -> None:
    _post(app, _launch(app), "progressed", {"lesson": "l1", "progress": 0.25})
    _post(app, _launch(app, sub="learner-2"), "progressed", {"lesson": "l1", "progress": 0.75})
    _post(app, _launch(app), "progressed", {"lesson": "l1", "progress": 0.1})  # progress never goes back
    with app.extensions["smeb.sessions"]() as session:
        rows = {(r.subject, r.course_key): r.progress for r in session.scalars(select(Progress))}
    assert rows == {("learner-1", "all-blocks"): 0.25, ("learner-2", "all-blocks"): 0.75}


# -- pure parts --------------------------------------------------------------------------------


def _course() -> Course:
    """The course as the tool has it installed: written to JSON and read back."""
    return course_from_json(course_to_json(load_course(FIXTURES / "all-blocks")))


def test_quiz_points_count_only_exactly_right_answers() -> None:
    course = _course()
    assert quiz_points(course, {}) == (0, False)
    assert quiz_points(course, {"q-single": ["a"], "q-multi": ["hierarki"], "q-tf": ["true"]}) == (3, True)


def test_media_paths_include_html_images_and_video_files() -> None:
    paths = _course().media_paths()
    assert {"media/diagram.png", "media/clip.mp4", "media/clip.nb.vtt", "media/poster.png"} <= paths


def test_course_view_of_an_unknown_module_names_it() -> None:
    with pytest.raises(UnknownModuleError, match="no module 'm9'"):
        course_view(_course(), "m9")


def test_an_event_time_from_the_future_is_replaced_by_the_server_time() -> None:
    from datetime import datetime

    now = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    course = _course()
    event = parse_event({"id": str(uuid.uuid4()), "type": "initialized", "time": "2030-01-01T00:00:00Z", "data": {}}, course, now)
    assert event.time == now
    with pytest.raises(EventInvalid, match="event id"):
        parse_event({"id": "1", "type": "initialized"}, course, now)


def test_scores_url_keeps_the_line_items_query() -> None:
    assert ags.scores_url(LINEITEM) == ISSUER + "/api/contexts/c1/lineitems/7/scores?tenant=a"


def test_answers_arriving_at_once_are_all_kept(app: Flask) -> None:
    import threading

    launch_id = _launch(app)
    config = _config(app, launch_id)
    barrier, statuses = threading.Barrier(3), []

    def answer(block: str, response: list[str]) -> None:
        event = {"id": str(uuid.uuid4()), "type": "answered", "courseId": COURSE_IRI, "data": {"blockId": block, "response": response}}
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(config["eventsUrl"], json=event, headers={config["tokenHeader"]: config["token"]}).status_code)

    threads = [threading.Thread(target=answer, args=a) for a in (("q-single", ["a"]), ("q-multi", ["hierarki", "tidspress"]), ("q-tf", ["true"]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200, 200]
    assert _post(app, launch_id, "state", {"state": "x"}).get_json()["points"] == 5  # no answer lost to another
