"""ADL LRS conformance, document resources (xAPI 1.0.3 Communication 2.2-2.7, 3.1): State, Activity
Profile, Agent Profile, Activities, Agents; merging, listing with since, ETag concurrency.

Storage semantics run on SQLite and PostgreSQL (``storage_lrs``); every test uses its own
activity/agent/document ids, so the tests of a module share one database per engine.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime

import pytest

from tests.support.lrs_server import statement


@pytest.fixture
def lrs(storage_lrs):
    return storage_lrs


def fresh_activity() -> str:
    return f"http://example.com/conformance/activity/{uuid.uuid4()}"


def fresh_agent() -> str:
    return json.dumps({"objectType": "Agent", "mbox": f"mailto:{uuid.uuid4().hex[:12]}@example.com"})


RESOURCES = {
    "state": ("/activities/state", "stateId", lambda: {"activityId": fresh_activity(), "agent": fresh_agent()}),
    "activity profile": ("/activities/profile", "profileId", lambda: {"activityId": fresh_activity()}),
    "agent profile": ("/agents/profile", "profileId", lambda: {"agent": fresh_agent()}),
}


def doc(resource: str, name: str = "doc") -> tuple[str, dict[str, str], dict[str, str]]:
    """(path, scope parameters, single-document parameters) for a fresh scope."""
    path, key, scope = RESOURCES[resource]
    params = scope()
    return path, params, {**params, key: name}


def create(resource: str) -> dict[str, str]:
    """Headers for a PUT that creates a document: profiles need If-None-Match (Communication 3.1), state does not."""
    return {} if resource == "state" else {"If-None-Match": "*"}


def iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --------------------------------------------------------------------------- basic life cycle
@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00187_to_00190_00271_to_00274_00285_to_00293_put_post_get_delete_answer_as_specified(lrs, resource):
    path, _, one = doc(resource)
    document = {"car": "Honda", "colour": "blue"}
    assert lrs.request("PUT", path, params=one, json_body=document, headers=create(resource)).status_code == 204
    got = lrs.request("GET", path, params=one)
    assert got.status_code == 200 and got.get_json() == document
    etag = got.headers["ETag"]
    assert lrs.request("POST", path, params=one, json_body={"colour": "red"}, headers={"If-Match": etag}).status_code == 204
    assert lrs.request("GET", path, params=one).get_json() == {"car": "Honda", "colour": "red"}
    assert lrs.request("DELETE", path, params=one).status_code == 204
    assert lrs.request("GET", path, params=one).status_code == 404


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00233_00280_00310_post_of_a_new_document_stores_it_like_put(lrs, resource):
    path, _, one = doc(resource)
    assert lrs.request("POST", path, params=one, json_body={"a": 1}).status_code == 204
    assert lrs.request("GET", path, params=one).get_json() == {"a": 1}


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00183_to_00186_merge_overwrites_one_level_deep_and_replaces_whole_values(lrs, resource):
    path, _, one = doc(resource)
    lrs.request("POST", path, params=one, json_body={"x": {"a": 1, "b": 2}, "y": "keep", "z": [1]})
    etag = lrs.request("GET", path, params=one).headers["ETag"]
    lrs.request("POST", path, params=one, json_body={"x": {"c": 3}, "z": None}, headers={"If-Match": etag})
    assert lrs.request("GET", path, params=one).get_json() == {"x": {"c": 3}, "y": "keep", "z": None}


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00229_00232_00278_00281_00309_00313_merge_needs_json_objects_on_both_sides(lrs, resource):
    path, _, one = doc(resource)
    lrs.request("PUT", path, params=one, data=b"plain text", content_type="text/plain", headers=create(resource))
    refused = lrs.request("POST", path, params=one, json_body={"a": 1}, headers={"If-Match": "*"})
    assert refused.status_code == 400
    assert lrs.request("GET", path, params=one).get_data() == b"plain text"  # XAPI-00182: nothing changed
    path, _, other = doc(resource)
    lrs.request("POST", path, params=other, json_body={"a": 1})
    assert lrs.request("POST", path, params=other, data=b"text", content_type="text/plain", headers={"If-Match": "*"}).status_code == 400
    assert lrs.request("POST", path, params=other, json_body=[1, 2], headers={"If-Match": "*"}).status_code == 400
    assert lrs.request("GET", path, params=other).get_json() == {"a": 1}


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00235_00284_00314_invalid_json_sent_as_json_is_400(lrs, resource):
    path, _, one = doc(resource)
    assert lrs.request("POST", path, params=one, data=b'{"a": ', content_type="application/json").status_code == 400
    assert lrs.request("PUT", path, params=one, data=b"{not json}", content_type="application/json").status_code == 400
    assert lrs.request("GET", path, params=one).status_code == 404


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_non_json_documents_round_trip_byte_for_byte_with_their_content_type(lrs, resource):
    path, _, one = doc(resource)
    data = bytes(range(256))
    lrs.request("PUT", path, params=one, data=data, content_type="application/octet-stream", headers=create(resource))
    got = lrs.request("GET", path, params=one)
    assert got.get_data() == data and got.headers["Content-Type"] == "application/octet-stream"


# --------------------------------------------------------------------------- listing ids and since
@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00193_00270_00289_get_without_an_id_lists_the_ids_and_since_filters_them(lrs, resource):
    path, scope, first = doc(resource, "first")
    key = RESOURCES[resource][1]
    lrs.request("PUT", path, params=first, json_body={"n": 1}, headers=create(resource))
    time.sleep(0.01)
    between = iso_now()
    time.sleep(0.01)
    lrs.request("PUT", path, params={**scope, key: "second"}, json_body={"n": 2}, headers=create(resource))
    listed = lrs.request("GET", path, params=scope)
    assert listed.status_code == 200 and sorted(listed.get_json()) == ["first", "second"]
    assert lrs.request("GET", path, params={**scope, "since": between}).get_json() == ["second"]


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00204_00260_00295_since_must_be_a_timestamp(lrs, resource):
    path, scope, _ = doc(resource)
    assert lrs.request("GET", path, params={**scope, "since": "not a timestamp"}).status_code == 400


def test_xapi_00194_delete_without_state_id_deletes_every_state_of_that_scope_only(lrs):
    path, scope, one = doc("state", "a")
    lrs.request("PUT", path, params=one, json_body={})
    lrs.request("PUT", path, params={**scope, "stateId": "b"}, json_body={})
    elsewhere = {**scope, "activityId": fresh_activity(), "stateId": "a"}
    lrs.request("PUT", path, params=elsewhere, json_body={})
    assert lrs.request("DELETE", path, params=scope).status_code == 204
    assert lrs.request("GET", path, params=scope).get_json() == []
    assert lrs.request("GET", path, params=elsewhere).status_code == 200


def test_xapi_00218_to_00220_00227_state_is_scoped_by_registration(lrs):
    path, _, one = doc("state")
    registration = str(uuid.uuid4())
    with_reg = {**one, "registration": registration}
    assert lrs.request("PUT", path, params=with_reg, json_body={"r": 1}).status_code == 204
    assert lrs.request("POST", path, params=with_reg, json_body={"s": 2}).status_code == 204
    assert lrs.request("GET", path, params=with_reg).get_json() == {"r": 1, "s": 2}
    assert lrs.request("GET", path, params=one).status_code == 404
    assert lrs.request("DELETE", path, params=with_reg).status_code == 204
    assert lrs.request("GET", path, params=with_reg).status_code == 404


def test_state_of_an_agent_is_found_with_any_spelling_of_its_mbox_case(lrs):
    path, _, one = doc("state")
    lrs.request("PUT", path, params=one, json_body={"a": 1})
    agent = json.loads(one["agent"])
    agent["mbox"] = agent["mbox"].upper().replace("MAILTO:", "mailto:")
    assert lrs.request("GET", path, params={**one, "agent": json.dumps(agent)}).status_code == 200


# --------------------------------------------------------------------------- parameter validation
STATE_METHODS = ["GET", "PUT", "POST", "DELETE"]


@pytest.mark.parametrize("method", STATE_METHODS)
@pytest.mark.parametrize("missing", ["activityId", "agent"])
def test_xapi_00207_to_00215_state_without_activity_id_or_agent_is_400(lrs, method, missing):
    path, _, one = doc("state")
    del one[missing]
    body = {"a": 1} if method in ("PUT", "POST") else None
    assert lrs.request(method, path, params=one, json_body=body).status_code == 400


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_xapi_00206_00211_state_put_or_post_without_state_id_is_400(lrs, method):
    path, scope, _ = doc("state")
    assert lrs.request(method, path, params=scope, json_body={"a": 1}).status_code == 400


@pytest.mark.parametrize("method", STATE_METHODS)
@pytest.mark.parametrize("bad", [{"agent": "not JSON"}, {"agent": "1"}, {"agent": "true"}, {"agent": json.dumps({"name": "no ifi"})},
                                 {"registration": "not UUID"}, {"registration": "1"}, {"activityId": "1"}, {"activityId": "true"},
                                 {"activityId": "[object Object]"}])
def test_xapi_00196_to_00203_state_with_a_malformed_parameter_is_400(lrs, method, bad):
    path, _, one = doc("state")
    body = {"a": 1} if method in ("PUT", "POST") else None
    assert lrs.request(method, path, params={**one, **bad}, json_body=body).status_code == 400


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
@pytest.mark.parametrize("resource, missing", [("activity profile", "activityId"), ("activity profile", "profileId"),
                                               ("agent profile", "agent"), ("agent profile", "profileId")])
def test_xapi_00262_to_00267_00297_to_00302_profiles_without_a_required_parameter_are_400(lrs, method, resource, missing):
    path, _, one = doc(resource)
    del one[missing]
    body = {"a": 1} if method in ("PUT", "POST") else None
    assert lrs.request(method, path, params=one, json_body=body).status_code == 400


@pytest.mark.parametrize("resource, missing", [("activity profile", "activityId"), ("agent profile", "agent")])
def test_xapi_00261_00296_profile_get_without_its_scope_is_400(lrs, resource, missing):
    path, _, one = doc(resource)
    del one[missing]
    assert lrs.request("GET", path, params=one).status_code == 400


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
@pytest.mark.parametrize("agent", ["not JSON", json.dumps({"objectType": "Agent"}), json.dumps({"mbox": "a@example.com"}),
                                   json.dumps({"mbox": "mailto:a@example.com", "openid": "http://e.com"})])
def test_xapi_00255_to_00258_agent_profile_with_an_agent_that_is_not_an_agent_is_400(lrs, method, agent):
    path, _, one = doc("agent profile")
    body = {"a": 1} if method in ("PUT", "POST") else None
    assert lrs.request(method, path, params={**one, "agent": agent}, json_body=body).status_code == 400


# --------------------------------------------------------------------------- concurrency (XAPI-00322)
@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00322_get_gives_a_quoted_sha1_etag(lrs, resource):
    path, _, one = doc(resource)
    body = json.dumps({"a": 1}).encode()
    lrs.request("POST", path, params=one, data=body, content_type="application/json")
    etag = lrs.request("GET", path, params=one).headers["ETag"]
    assert etag == f'"{hashlib.sha1(body).hexdigest()}"'


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00322_if_match_with_the_current_etag_succeeds_and_a_stale_one_is_412(lrs, resource):
    path, _, one = doc(resource)
    lrs.request("POST", path, params=one, json_body={"v": 1})
    etag = lrs.request("GET", path, params=one).headers["ETag"]
    assert lrs.request("PUT", path, params=one, json_body={"v": 2}, headers={"If-Match": etag}).status_code == 204
    stale = lrs.request("PUT", path, params=one, json_body={"v": 3}, headers={"If-Match": etag})
    assert stale.status_code == 412
    bad = lrs.request("PUT", path, params=one, json_body={"v": 3}, headers={"If-Match": '"' + "1" * 40 + '"'})
    assert bad.status_code == 412
    assert lrs.request("GET", path, params=one).get_json() == {"v": 2}


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00322_if_none_match_star_creates_but_never_overwrites(lrs, resource):
    path, _, one = doc(resource)
    assert lrs.request("PUT", path, params=one, json_body={"v": 1}, headers={"If-None-Match": "*"}).status_code == 204
    assert lrs.request("PUT", path, params=one, json_body={"v": 2}, headers={"If-None-Match": "*"}).status_code == 412
    assert lrs.request("GET", path, params=one).get_json() == {"v": 1}


@pytest.mark.parametrize("resource", ["activity profile", "agent profile"])
def test_xapi_00322_a_profile_put_over_an_existing_document_without_precondition_is_409_and_changes_nothing(lrs, resource):
    path, _, one = doc(resource)
    lrs.request("POST", path, params=one, json_body={"v": 1})
    response = lrs.request("PUT", path, params=one, json_body={"v": 2})
    assert response.status_code == 409 and "If-Match" in response.get_json()["message"]
    assert lrs.request("GET", path, params=one).get_json() == {"v": 1}


@pytest.mark.parametrize("resource", ["activity profile", "agent profile"])
def test_xapi_00273_00287_00293_a_profile_put_creating_a_document_without_precondition_is_400_and_stores_nothing(lrs, resource):
    path, _, one = doc(resource)
    response = lrs.request("PUT", path, params=one, json_body={"v": 1})
    assert response.status_code == 400 and "If-None-Match: *" in response.get_json()["message"]
    assert lrs.request("GET", path, params=one).status_code == 404
    assert lrs.request("PUT", path, params=one, json_body={"v": 1}, headers={"If-None-Match": "*"}).status_code == 204


def test_a_state_put_without_precondition_still_creates_and_replaces_the_document(lrs):
    """Communication 3.1: the State resource permits PUT without concurrency headers (ADL suite state tests)."""
    path, _, one = doc("state")
    assert lrs.request("PUT", path, params=one, json_body={"v": 1}).status_code == 204
    assert lrs.request("PUT", path, params=one, json_body={"v": 2}).status_code == 204
    assert lrs.request("GET", path, params=one).get_json() == {"v": 2}


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00322_a_delete_with_a_stale_etag_is_412_and_keeps_the_document(lrs, resource):
    path, _, one = doc(resource)
    lrs.request("POST", path, params=one, json_body={"v": 1})
    assert lrs.request("DELETE", path, params=one, headers={"If-Match": '"' + "2" * 40 + '"'}).status_code == 412
    assert lrs.request("GET", path, params=one).status_code == 200


# --------------------------------------------------------------------------- Activities and Agents resources
def test_xapi_00250_activities_without_activity_id_is_400(lrs):
    assert lrs.request("GET", "/activities").status_code == 400


def test_xapi_00251_00254_activities_returns_every_language_learned_from_statements(lrs):
    activity = fresh_activity()
    first = statement(activity=activity)
    first["object"]["definition"] = {"name": {"en-US": "Meeting"}, "description": {"en-US": "A meeting"}}
    second = statement(activity=activity)
    second["object"]["definition"] = {"name": {"nb-NO": "Møte"}, "type": "http://adlnet.gov/expapi/activities/meeting"}
    lrs.post_statements([first, second])
    got = lrs.request("GET", "/activities", params={"activityId": activity})
    assert got.status_code == 200
    body = got.get_json()
    assert body["objectType"] == "Activity" and body["id"] == activity
    assert body["definition"]["name"] == {"en-US": "Meeting", "nb-NO": "Møte"}
    assert body["definition"]["description"] == {"en-US": "A meeting"}
    assert body["definition"]["type"] == "http://adlnet.gov/expapi/activities/meeting"


def test_xapi_00254_context_activities_and_substatement_activities_feed_the_canonical_definition_too(lrs):
    parent, inner = fresh_activity(), fresh_activity()
    s = statement(context={"contextActivities": {"parent": [{"id": parent, "definition": {"name": {"en-US": "Course"}}}]}},
                  object={"objectType": "SubStatement", "actor": {"mbox": "mailto:x@example.com"},
                          "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
                          "object": {"id": inner, "definition": {"name": {"en-US": "Inner"}}}})
    lrs.post_statements(s)
    assert lrs.request("GET", "/activities", params={"activityId": parent}).get_json()["definition"]["name"] == {"en-US": "Course"}
    assert lrs.request("GET", "/activities", params={"activityId": inner}).get_json()["definition"]["name"] == {"en-US": "Inner"}


def test_xapi_00243_agents_without_agent_is_400(lrs):
    assert lrs.request("GET", "/agents").status_code == 400


@pytest.mark.parametrize("agent", ["not JSON", json.dumps({"objectType": "Agent"}), json.dumps({"mbox": "not-mailto"})])
def test_xapi_00249_agents_with_an_invalid_agent_is_400(lrs, agent):
    assert lrs.request("GET", "/agents", params={"agent": agent}).status_code == 400


@pytest.mark.parametrize("agent", [
    {"objectType": "Agent", "name": "Ola", "mbox": "mailto:ola@example.com"},
    {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
    {"openid": "http://openid.example.com/ola"},
    {"account": {"homePage": "http://www.example.com", "name": "ola"}},
])
def test_xapi_00236_to_00248_agents_returns_a_person_with_array_values(lrs, agent):
    got = lrs.request("GET", "/agents", params={"agent": json.dumps(agent)})
    assert got.status_code == 200
    person = got.get_json()
    assert person["objectType"] == "Person"
    for key, value in agent.items():
        if key != "objectType":
            assert person[key] == [value]
    assert all(isinstance(v, list) for k, v in person.items() if k != "objectType")


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00322_of_concurrent_writers_holding_the_same_etag_exactly_one_wins(lrs, resource):
    """Compare-and-set on both engines: the others get 412, none is silently lost."""
    import threading

    path, _, one = doc(resource)
    lrs.request("PUT", path, params=one, json_body={"v": 0}, headers={"If-None-Match": "*"})
    etag = lrs.request("GET", path, params=one).headers["ETag"]
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def write(value: int) -> None:
        client = lrs.app.test_client()
        barrier.wait(timeout=30)
        response = client.open(lrs.base + path, method="PUT", query_string=one, data=json.dumps({"v": value}),
                               headers=lrs.headers({"If-Match": etag, "Content-Type": "application/json"}))
        statuses.append(response.status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses.count(204) == 1 and statuses.count(412) == 3, statuses
    winner = lrs.request("GET", path, params=one)
    assert winner.get_json()["v"] in (1, 2, 3, 4) and winner.headers["ETag"] != etag


# --------------------------------------------------------------------------- since with a single document (ADL suite H.Communication2.3/2.6/2.7)
@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00192_00217_00221_00268_00269_00288_00303_get_of_one_document_with_since_returns_the_document(lrs, resource):
    path, _, one = doc(resource)
    document = {"name": str(uuid.uuid4()), "location": {"name": "x"}}
    lrs.request("POST", path, params=one, json_body=document)
    got = lrs.request("GET", path, params={**one, "since": "2012-06-01T19:09:13.245Z"})
    assert got.status_code == 200 and got.get_json() == document
    assert lrs.request("GET", path, params={**one, "since": "not a timestamp"}).status_code == 400


def test_xapi_00191_00216_00223_00205_state_delete_of_one_document_accepts_a_valid_since_and_rejects_a_bad_one(lrs):
    path, _, one = doc("state")
    lrs.request("POST", path, params=one, json_body={"a": 1})
    assert lrs.request("DELETE", path, params={**one, "since": "1"}).status_code == 400
    assert lrs.request("GET", path, params=one).status_code == 200
    assert lrs.request("DELETE", path, params={**one, "since": "2012-06-01T19:09:13.245Z"}).status_code == 204
    assert lrs.request("GET", path, params=one).status_code == 404


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00141_00195_00222_00275_00294_listed_ids_all_changed_after_since(lrs, resource):
    path, scope, _ = doc(resource)
    key = RESOURCES[resource][1]
    lrs.request("POST", path, params={**scope, key: "old"}, json_body={})
    time.sleep(0.01)
    mark = iso_now()
    time.sleep(0.01)
    for name in ("new-1", "new-2"):
        lrs.request("POST", path, params={**scope, key: name}, json_body={})
    assert sorted(lrs.request("GET", path, params={**scope, "since": mark}).get_json()) == ["new-1", "new-2"]


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
@pytest.mark.parametrize("resource", list(RESOURCES))
def test_xapi_00224_to_00228_00276_00277_00305_to_00307_a_document_id_given_twice_is_400(lrs, method, resource):
    """A query parameter is one string; the closest the HTTP edge gets to 'not type String' is a repeated or empty one."""
    path, _, one = doc(resource)
    query = "&".join(f"{k}={v}" for k, v in one.items()) + f"&{RESOURCES[resource][1]}=second"
    body = {"a": 1} if method in ("PUT", "POST") else None
    assert lrs.request(method, path + "?" + query.replace("{", "%7B").replace("}", "%7D").replace('"', "%22").replace(" ", "%20"),
                       json_body=body).status_code == 400


@pytest.mark.parametrize("resource", ["activity profile", "agent profile"])
def test_xapi_00279_00308_00234_a_post_to_an_existing_json_document_merges_without_a_precondition(lrs, resource):
    path, _, one = doc(resource)
    lrs.request("POST", path, params=one, json_body={"car": "Honda"})
    assert lrs.request("POST", path, params=one, json_body={"type": "Civic"}).status_code == 204
    assert lrs.request("GET", path, params=one).get_json() == {"car": "Honda", "type": "Civic"}


@pytest.mark.parametrize("path", ["/activities/state", "/activities/profile", "/agents/profile", "/activities", "/agents"])
def test_xapi_00140_00230_00231_00252_00253_00282_00283_00311_00312_every_resource_exists_under_the_base_iri(lrs, path):
    response = lrs.request("GET", path)
    assert response.status_code == 400  # the resource exists and asks for its parameters (404 would mean it does not)


def test_xapi_00304_activity_profile_rejects_an_agent_parameter(lrs):
    path, _, one = doc("activity profile")
    assert lrs.request("GET", path, params={**one, "agent": "not JSON"}).status_code == 400


def test_xapi_00259_agent_profile_get_with_a_valid_agent_returns_the_profile(lrs):
    path, _, one = doc("agent profile")
    lrs.request("PUT", path, params=one, json_body={"p": 1}, headers=create("agent profile"))
    assert lrs.request("GET", path, params=one).get_json() == {"p": 1}
