"""Document resources (Communication 2.2-2.8, 3.1): State, Activity Profile, Agent Profile, Activities, Agents."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC

import pytest

from tests.support.lrs_server import statement

ACTIVITY = "https://smeb.no/xapi/course/a"
AGENT = json.dumps({"objectType": "Agent", "mbox": "mailto:ola@example.com"})


def state_params(**extra: str) -> dict[str, str]:
    return {"activityId": ACTIVITY, "agent": AGENT, **extra}


def test_state_put_get_returns_the_document_with_sha1_etag_and_last_modified(lrs):
    body = b'{"bookmark": "lesson-2"}'
    assert lrs.request("PUT", "/activities/state", params=state_params(stateId="s1"), data=body, content_type="application/json").status_code == 204
    response = lrs.request("GET", "/activities/state", params=state_params(stateId="s1"))
    assert response.status_code == 200
    assert response.get_data() == body
    assert response.headers["ETag"] == f'"{hashlib.sha1(body).hexdigest()}"'
    assert response.headers["Last-Modified"].endswith("GMT")
    assert response.headers["Content-Type"].startswith("application/json")


def test_state_is_scoped_by_registration(lrs):
    reg = str(uuid.uuid4())
    lrs.request("PUT", "/activities/state", params=state_params(stateId="s", registration=reg), data=b"a", content_type="text/plain")
    assert lrs.request("GET", "/activities/state", params=state_params(stateId="s")).status_code == 404
    assert lrs.request("GET", "/activities/state", params=state_params(stateId="s", registration=reg)).get_data() == b"a"


def test_a_missing_state_document_is_404(lrs):
    assert lrs.request("GET", "/activities/state", params=state_params(stateId="nope")).status_code == 404


def test_post_merges_json_objects_at_the_top_level(lrs):
    params = state_params(stateId="vars")
    lrs.request("PUT", "/activities/state", params=params, json_body={"x": "foo", "y": "bar"})
    assert lrs.request("POST", "/activities/state", params=params, json_body={"x": "bash", "z": "faz"}).status_code == 204
    assert lrs.request("GET", "/activities/state", params=params).get_json() == {"x": "bash", "y": "bar", "z": "faz"}


def test_post_merge_refuses_a_non_object_on_either_side(lrs):
    params = state_params(stateId="vars")
    lrs.request("PUT", "/activities/state", params=params, json_body={"x": 1})
    assert lrs.request("POST", "/activities/state", params=params, json_body=[1, 2]).status_code == 400
    lrs.request("PUT", "/activities/state", params=state_params(stateId="text"), data=b"hello", content_type="text/plain")
    assert lrs.request("POST", "/activities/state", params=state_params(stateId="text"), json_body={"x": 1}).status_code == 400
    assert lrs.request("GET", "/activities/state", params=params).get_json() == {"x": 1}


def test_listing_state_ids_honours_since(lrs):
    import time
    from datetime import datetime

    lrs.request("PUT", "/activities/state", params=state_params(stateId="one"), data=b"1", content_type="text/plain")
    time.sleep(0.05)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.05)
    lrs.request("PUT", "/activities/state", params=state_params(stateId="two"), data=b"2", content_type="text/plain")
    response = lrs.request("GET", "/activities/state", params=state_params())
    assert response.get_json() == ["one", "two"]
    assert response.headers["Last-Modified"].endswith("GMT")
    assert lrs.request("GET", "/activities/state", params=state_params(since=between)).get_json() == ["two"]


def test_delete_without_state_id_deletes_all_matching_state(lrs):
    for name in ("a", "b"):
        lrs.request("PUT", "/activities/state", params=state_params(stateId=name), data=b"x", content_type="text/plain")
    other = {"activityId": "https://smeb.no/xapi/course/b", "agent": AGENT, "stateId": "keep"}
    lrs.request("PUT", "/activities/state", params=other, data=b"x", content_type="text/plain")
    assert lrs.request("DELETE", "/activities/state", params=state_params()).status_code == 204
    assert lrs.request("GET", "/activities/state", params=state_params()).get_json() == []
    assert lrs.request("GET", "/activities/state", params=other).status_code == 200


def test_state_needs_activity_id_and_agent(lrs):
    assert lrs.request("GET", "/activities/state", params={"agent": AGENT, "stateId": "x"}).status_code == 400
    assert lrs.request("GET", "/activities/state", params={"activityId": ACTIVITY, "stateId": "x"}).status_code == 400
    bad_agent = {"activityId": ACTIVITY, "agent": '{"name": "no ifi"}', "stateId": "x"}
    assert lrs.request("GET", "/activities/state", params=bad_agent).status_code == 400
    assert lrs.request("GET", "/activities/state", params=state_params(registration="not-a-uuid")).status_code == 400


def test_malformed_json_documents_are_rejected(lrs):
    response = lrs.request("PUT", "/activities/state", params=state_params(stateId="s"), data=b"{oops", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("resource,params", [
    ("/activities/profile", {"activityId": ACTIVITY, "profileId": "p"}),
    ("/agents/profile", {"agent": AGENT, "profileId": "p"}),
])
def test_profile_put_over_an_existing_document_needs_a_precondition(lrs, resource, params):
    assert lrs.request("PUT", resource, params=params, json_body={"v": 1}, headers={"If-None-Match": "*"}).status_code == 204
    response = lrs.request("PUT", resource, params=params, json_body={"v": 2})
    assert response.status_code == 409
    assert "If-Match" in response.get_json()["message"]
    etag = lrs.request("GET", resource, params=params).headers["ETag"]
    assert lrs.request("PUT", resource, params=params, json_body={"v": 3}, headers={"If-Match": etag}).status_code == 204
    assert lrs.request("GET", resource, params=params).get_json() == {"v": 3}


@pytest.mark.parametrize("resource,params", [
    ("/activities/profile", {"activityId": ACTIVITY, "profileId": "p"}),
    ("/agents/profile", {"agent": AGENT, "profileId": "p"}),
    ("/activities/state", {"activityId": ACTIVITY, "agent": AGENT, "stateId": "p"}),
])
def test_wrong_etags_fail_with_412_and_change_nothing(lrs, resource, params):
    lrs.request("PUT", resource, params=params, json_body={"v": 1}, headers={"If-None-Match": "*"})
    wrong = {"If-Match": '"' + "0" * 40 + '"'}
    assert lrs.request("PUT", resource, params=params, json_body={"v": 2}, headers=wrong).status_code == 412
    assert lrs.request("POST", resource, params=params, json_body={"w": 2}, headers=wrong).status_code == 412
    assert lrs.request("DELETE", resource, params=params, headers=wrong).status_code == 412
    assert lrs.request("PUT", resource, params=params, json_body={"v": 2}, headers={"If-None-Match": "*"}).status_code == 412
    assert lrs.request("GET", resource, params=params).get_json() == {"v": 1}


def test_if_match_on_a_missing_document_is_412(lrs):
    params = {"activityId": ACTIVITY, "profileId": "new"}
    assert lrs.request("PUT", "/activities/profile", params=params, json_body={}, headers={"If-Match": '"abc"'}).status_code == 412


def test_profile_ids_are_listed(lrs):
    for name in ("p1", "p2"):
        lrs.request("PUT", "/activities/profile", params={"activityId": ACTIVITY, "profileId": name}, json_body={}, headers={"If-None-Match": "*"})
    response = lrs.request("GET", "/activities/profile", params={"activityId": ACTIVITY})
    assert response.get_json() == ["p1", "p2"]
    assert response.headers["Last-Modified"]


def test_activities_returns_the_merged_canonical_definition(lrs):
    first = statement()
    first["object"]["definition"] = {"name": {"en-US": "Course A"}, "type": "http://adlnet.gov/expapi/activities/course"}
    second = statement()
    second["object"]["definition"] = {"name": {"nb-NO": "Kurs A"}}
    lrs.post_statements([first, second])
    got = lrs.request("GET", "/activities", params={"activityId": ACTIVITY}).get_json()
    assert got == {"objectType": "Activity", "id": ACTIVITY, "definition": {
        "name": {"en-US": "Course A", "nb-NO": "Kurs A"}, "type": "http://adlnet.gov/expapi/activities/course"}}


def test_activities_answers_for_an_unknown_activity(lrs):
    got = lrs.request("GET", "/activities", params={"activityId": "https://smeb.no/unknown"}).get_json()
    assert got == {"objectType": "Activity", "id": "https://smeb.no/unknown"}


def test_agents_returns_a_person_object(lrs):
    agent = json.dumps({"objectType": "Agent", "name": "Ola", "mbox": "mailto:ola@example.com"})
    got = lrs.request("GET", "/agents", params={"agent": agent}).get_json()
    assert got == {"objectType": "Person", "name": ["Ola"], "mbox": ["mailto:ola@example.com"]}


def test_head_on_a_document_gives_its_etag_without_the_body(lrs):
    params = state_params(stateId="h")
    lrs.request("PUT", "/activities/state", params=params, data=b"abc", content_type="text/plain")
    response = lrs.request("HEAD", "/activities/state", params=params)
    assert response.status_code == 200
    assert response.get_data() == b""
    assert response.headers["ETag"] == f'"{hashlib.sha1(b"abc").hexdigest()}"'
