"""cmi5 launcher (LMS side): launch data, one-time fetch, LMS statements, AU rule enforcement (403 + requirement id)."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from smeb_lti.lrs import cmi5, cmi5_launch

ACTOR = {"objectType": "Agent", "name": "Ola", "account": {"homePage": "https://smeb.no", "name": "ola-1"}}
PUBLISHER_AU = "https://smeb.no/cmi5/fra-stille-feil/au/1"


class Au:
    """Plays the AU side of a launch through the Flask test client."""

    def __init__(self, lrs, publisher: str = PUBLISHER_AU, actor: dict | None = None, **options):
        self.lrs = lrs
        self.launch = cmi5_launch.create_launch_for_app(lrs.app, "acme", actor or ACTOR, publisher, "http://localhost/packages/p0/index.html",
                                                 "http://localhost", **options)
        query = parse_qs(urlsplit(self.launch.url).query)
        self.query = {k: v[0] for k, v in query.items()}
        self.auth: str | None = None

    def fetch(self):
        parts = urlsplit(self.query["fetch"])
        return self.lrs.client.post(parts.path + "?" + parts.query)

    def login(self) -> None:
        self.auth = "Basic " + self.fetch().get_json()["auth-token"]

    def launch_data(self) -> dict:
        params = {"activityId": self.query["activityId"], "agent": self.query["actor"], "registration": self.query["registration"], "stateId": "LMS.LaunchData"}
        return self.lrs.request("GET", "/activities/state", params=params, auth=self.auth).get_json()

    def statement(self, verb: str, result: dict | None = None, moveon: bool = False, session: str | None = None,
                  category: bool = True) -> dict:
        context = json.loads(json.dumps(self.launch_data()["contextTemplate"]))
        context["registration"] = self.query["registration"]
        if session:
            context["extensions"][cmi5.EXT_SESSION] = session
        categories = ([{"id": cmi5.CATEGORY_CMI5}] if category else []) + ([{"id": cmi5.CATEGORY_MOVEON}] if moveon else [])
        if categories:
            context["contextActivities"]["category"] = categories
        body = {"id": str(uuid.uuid4()), "actor": json.loads(self.query["actor"]), "verb": {"id": verb},
                "object": {"objectType": "Activity", "id": self.query["activityId"]}, "context": context,
                "timestamp": "2026-11-21T12:00:00.000Z"}
        if result is not None:
            body["result"] = result
        return body

    def send(self, *statements: dict):
        return self.lrs.post_statements(list(statements), auth=self.auth)

    def verbs(self) -> list[str]:
        response = self.lrs.get_statements(registration=self.query["registration"], ascending="true")
        return [s["verb"]["id"].rsplit("/", 1)[-1] for s in response.get_json()["statements"]]


def test_the_launch_url_carries_endpoint_fetch_actor_registration_and_activity_id(lrs):
    au = Au(lrs)
    assert au.launch.url.startswith("http://localhost/packages/p0/index.html?")
    assert au.query["endpoint"] == "http://localhost/lrs/acme/xapi/"
    assert json.loads(au.query["actor"])["account"] == ACTOR["account"]
    assert uuid.UUID(au.query["registration"])
    assert au.query["activityId"] != PUBLISHER_AU  # 8.1.5: generated, not the publisher's id


def test_launch_data_and_learner_preferences_are_written_before_launch(lrs):
    au = Au(lrs, mastery_score=0.8, move_on="Passed", launch_parameters="level=2", return_url="https://lms.example/back")
    au.login()
    data = au.launch_data()
    assert data["launchMode"] == "Normal"
    assert data["masteryScore"] == 0.8
    assert data["moveOn"] == "Passed"
    assert data["launchParameters"] == "level=2"
    assert data["returnURL"] == "https://lms.example/back"
    assert data["contextTemplate"]["extensions"][cmi5.EXT_SESSION] == au.launch.session_id
    grouping = data["contextTemplate"]["contextActivities"]["grouping"]
    assert grouping[0] == {"id": PUBLISHER_AU, "objectType": "Activity"}  # 9.6.2.3
    assert grouping[1]["definition"]["type"] == cmi5.TYPE_COURSE and grouping[1]["id"] != PUBLISHER_AU  # the course, generated id (9.4)
    prefs = lrs.request("GET", "/agents/profile", params={"agent": au.query["actor"], "profileId": "cmi5LearnerPreferences"}, auth=au.auth)
    assert prefs.get_json()["languagePreference"].startswith("nb")


def test_the_lms_records_launched_with_the_launch_extensions(lrs):
    au = Au(lrs, mastery_score=0.5)
    launched = lrs.get_statements(registration=au.query["registration"]).get_json()["statements"][0]
    assert launched["verb"]["id"] == cmi5.VERB_LAUNCHED
    extensions = launched["context"]["extensions"]
    assert extensions[cmi5.EXT_LAUNCH_MODE] == "Normal"
    assert extensions[cmi5.EXT_MASTERY] == 0.5
    assert extensions[cmi5.EXT_SESSION] == au.launch.session_id


def test_the_fetch_url_hands_out_the_token_once(lrs):
    au = Au(lrs)
    first = au.fetch()
    assert first.status_code == 200 and "auth-token" in first.get_json()
    second = au.fetch()
    assert second.status_code == 200
    assert second.get_json()["error-code"] == "1"


def test_a_fetch_url_with_a_wrong_key_is_a_security_error(lrs):
    au = Au(lrs)
    parts = urlsplit(au.query["fetch"])
    response = lrs.client.post(parts.path + "?k=guess")
    assert response.get_json()["error-code"] == "2"


def test_a_normal_session_completes_passes_and_is_satisfied(lrs):
    au = Au(lrs, mastery_score=0.8, move_on="CompletedAndPassed")
    au.login()
    assert au.send(au.statement(cmi5.VERB_INITIALIZED)).status_code == 200
    assert au.send(au.statement(cmi5.VERB_COMPLETED, {"completion": True, "duration": "PT1M"}, moveon=True)).status_code == 200
    passed = au.statement(cmi5.VERB_PASSED, {"success": True, "score": {"scaled": 0.9}, "duration": "PT2M"}, moveon=True)
    assert au.send(passed).status_code == 200
    assert au.send(au.statement(cmi5.VERB_TERMINATED, {"duration": "PT3M"})).status_code == 200
    assert au.verbs() == ["launched", "initialized", "completed", "passed", "satisfied", "terminated"]


def rejected(response, requirement: str) -> bool:
    body = response.get_json()
    return response.status_code == 403 and body.get("requirement") == requirement and requirement in body["message"]


def test_the_first_statement_must_be_initialized(lrs):
    au = Au(lrs)
    au.login()
    assert rejected(au.send(au.statement(cmi5.VERB_COMPLETED, {"completion": True}, moveon=True)), "9.3.2-1")


def test_nothing_may_follow_terminated(lrs):
    au = Au(lrs)
    au.login()
    au.send(au.statement(cmi5.VERB_INITIALIZED))
    au.send(au.statement(cmi5.VERB_TERMINATED, {"duration": "PT1S"}))
    assert rejected(au.send(au.statement("http://adlnet.gov/expapi/verbs/experienced", category=False)), "9.3.8-1")


def test_completed_is_accepted_once_per_registration(lrs):
    au = Au(lrs, move_on="Passed")
    au.login()
    au.send(au.statement(cmi5.VERB_INITIALIZED))
    assert au.send(au.statement(cmi5.VERB_COMPLETED, {"completion": True}, moveon=True)).status_code == 200
    assert rejected(au.send(au.statement(cmi5.VERB_COMPLETED, {"completion": True}, moveon=True)), "9.3.3-1")


def test_a_completed_video_is_a_cmi5_allowed_statement_and_changes_nothing(lrs):
    """Verbs of cmi5 about another object, without the cmi5 category, are "cmi5 allowed" statements."""
    au = Au(lrs, move_on="Completed")
    au.login()
    au.send(au.statement(cmi5.VERB_INITIALIZED))
    video = au.statement(cmi5.VERB_COMPLETED, category=False)
    video["object"] = {"objectType": "Activity", "id": au.query["activityId"] + "/video/intro"}
    assert au.send(video).status_code == 200
    assert "satisfied" not in au.verbs()  # the AU itself is not completed by its video
    assert au.send(au.statement(cmi5.VERB_COMPLETED, {"completion": True}, moveon=True)).status_code == 200
    # ... and the AU's own "completed" without the category is still refused
    bare = au.statement(cmi5.VERB_COMPLETED, category=False)
    assert rejected(au.send(bare), "9.6.2.1-1")


def test_passed_below_mastery_score_is_rejected(lrs):
    au = Au(lrs, mastery_score=0.8)
    au.login()
    au.send(au.statement(cmi5.VERB_INITIALIZED))
    low = au.statement(cmi5.VERB_PASSED, {"success": True, "score": {"scaled": 0.5}}, moveon=True)
    assert rejected(au.send(low), "9.3.4-1")


def test_failed_after_passed_is_rejected(lrs):
    au = Au(lrs)
    au.login()
    au.send(au.statement(cmi5.VERB_INITIALIZED))
    au.send(au.statement(cmi5.VERB_PASSED, {"success": True}, moveon=True))
    assert rejected(au.send(au.statement(cmi5.VERB_FAILED, {"success": False}, moveon=True)), "9.3-6")


@pytest.mark.parametrize("mode", ["Browse", "Review"])
def test_no_completion_statements_in_browse_or_review_mode(lrs, mode):
    au = Au(lrs, launch_mode=mode)
    au.login()
    assert au.send(au.statement(cmi5.VERB_INITIALIZED)).status_code == 200
    assert rejected(au.send(au.statement(cmi5.VERB_COMPLETED, {"completion": True}, moveon=True)), "10.2.2-1")


def test_statements_need_the_session_id_and_the_cmi5_category(lrs):
    au = Au(lrs)
    au.login()
    assert rejected(au.send(au.statement(cmi5.VERB_INITIALIZED, session=str(uuid.uuid4()))), "9.6.3.1-1")
    assert rejected(au.send(au.statement(cmi5.VERB_INITIALIZED, category=False)), "9.6.2.1-1")


def test_results_with_success_need_the_moveon_category(lrs):
    au = Au(lrs)
    au.login()
    au.send(au.statement(cmi5.VERB_INITIALIZED))
    assert rejected(au.send(au.statement(cmi5.VERB_PASSED, {"success": True})), "9.6.2.2-1")


def test_the_au_may_not_send_lms_verbs_or_void(lrs):
    au = Au(lrs)
    au.login()
    au.send(au.statement(cmi5.VERB_INITIALIZED))
    assert rejected(au.send(au.statement(cmi5.VERB_SATISFIED)), "9.3-7")


def test_a_rejected_batch_leaves_the_session_unchanged(lrs):
    au = Au(lrs)
    au.login()
    bad = au.statement(cmi5.VERB_COMPLETED, {"completion": True}, moveon=True)
    assert au.send(au.statement(cmi5.VERB_INITIALIZED), bad, bad).status_code == 400  # duplicate id in batch
    assert au.send(au.statement(cmi5.VERB_INITIALIZED)).status_code == 200


def test_a_relaunch_abandons_the_active_session(lrs):
    first = Au(lrs)
    first.login()
    first.send(first.statement(cmi5.VERB_INITIALIZED))
    second = Au(lrs, registration=first.query["registration"])
    assert "abandoned" in second.verbs()
    assert rejected(first.send(first.statement("http://adlnet.gov/expapi/verbs/experienced", category=False)), "9.3.8-1")


def test_move_on_not_applicable_is_satisfied_at_launch(lrs):
    au = Au(lrs, move_on="NotApplicable")
    assert au.verbs() == ["launched", "satisfied"]


def test_waive_records_waived_and_satisfied(lrs):
    from smeb_lti.db import session_scope

    au = Au(lrs, move_on="Passed")
    with session_scope(lrs.app.extensions["smeb.sessions"]) as session:
        cmi5_launch.waive(session, "acme", au.query["registration"], reason="Tested Out")
    assert au.verbs()[-2:] == ["waived", "satisfied"]
