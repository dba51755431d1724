"""ADL LRS conformance for xAPI 2.0.0 where it differs from 1.0.3 (adlnet/lrs-conformance-test-suite
test/v2_0): version negotiation, State concurrency, statement versions and data-model additions,
Last-Modified, the removed alternate request syntax.
"""

from __future__ import annotations

import json
import uuid
from email.utils import parsedate_to_datetime

import pytest

from smeb_lti.lrs.statements import parse_timestamp
from tests.support.lrs_server import statement

V2 = "2.0.0"


@pytest.fixture
def lrs(storage_lrs):
    return storage_lrs


def state_params() -> dict[str, str]:
    return {"activityId": f"http://example.com/v2/{uuid.uuid4()}",
            "agent": json.dumps({"mbox": f"mailto:{uuid.uuid4().hex[:10]}@example.com"}), "stateId": "s"}


def test_a_2_0_request_is_answered_as_2_0_0_and_a_1_0_request_as_1_0_3(lrs):
    assert lrs.get_statements(limit=1, headers={"X-Experience-API-Version": "2.0"}).headers["X-Experience-API-Version"] == V2
    assert lrs.request("GET", "/statements", params={"limit": "1"}, version=V2).headers["X-Experience-API-Version"] == V2
    assert lrs.get_statements(limit=1).headers["X-Experience-API-Version"] == "1.0.3"


def test_about_lists_2_0_0(lrs):
    assert "2.0.0" in lrs.request("GET", "/about").get_json()["version"]


def test_a_2_0_statement_without_version_is_stored_as_2_0_0(lrs):
    s = statement(timestamp="2026-01-01T12:00:00.000Z")
    assert lrs.request("POST", "/statements", json_body=s, version=V2).status_code == 200
    got = lrs.request("GET", "/statements", params={"statementId": s["id"]}, version=V2).get_json()
    assert got["version"] == "2.0.0"


def test_4_2_4_2_a_2_0_timestamp_needs_a_time_zone(lrs):
    s = statement(timestamp="2026-01-01T12:00:00.000")
    assert lrs.request("POST", "/statements", json_body=s, version=V2).status_code == 400


def test_context_agents_and_groups_are_2_0_only(lrs):
    context = {"contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:i@example.com"},
                                  "relevantTypes": ["http://example.com/types/instructor"]}]}
    assert lrs.request("POST", "/statements", json_body=statement(context=context), version=V2).status_code == 200
    assert lrs.post_statements(statement(context=context)).status_code == 400


def test_4_1_6_1_last_modified_matches_stored_to_the_second(lrs):
    s = statement()
    lrs.request("POST", "/statements", json_body=s, version=V2)
    response = lrs.request("GET", "/statements", params={"statementId": s["id"]}, version=V2)
    stored = parse_timestamp(response.get_json()["stored"]) // 1_000_000
    assert int(parsedate_to_datetime(response.headers["Last-Modified"]).timestamp()) == stored


def test_4_1_4_under_2_0_a_state_put_over_an_existing_document_without_precondition_is_409(lrs):
    params = state_params()
    assert lrs.request("POST", "/activities/state", params=params, json_body={"v": 1}, version=V2).status_code == 204
    response = lrs.request("PUT", "/activities/state", params=params, json_body={"v": 2}, version=V2)
    assert response.status_code == 409 and response.get_json()["message"]
    assert lrs.request("GET", "/activities/state", params=params, version=V2).get_json() == {"v": 1}
    etag = lrs.request("GET", "/activities/state", params=params, version=V2).headers["ETag"]
    assert lrs.request("PUT", "/activities/state", params=params, json_body={"v": 2}, version=V2,
                       headers={"If-Match": etag}).status_code == 204


def test_under_1_0_3_a_state_put_without_precondition_still_replaces_the_document(lrs):
    params = state_params()
    lrs.request("PUT", "/activities/state", params=params, json_body={"v": 1})
    assert lrs.request("PUT", "/activities/state", params=params, json_body={"v": 2}).status_code == 204


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_4_1_4_an_unquoted_wrong_etag_is_412_for_every_write_method(lrs, method):
    params = state_params()
    lrs.request("POST", "/activities/state", params=params, json_body={"v": 1}, version=V2)
    body = {"v": 2} if method != "DELETE" else None
    assert lrs.request(method, "/activities/state", params=params, json_body=body, version=V2,
                       headers={"If-Match": "1234"}).status_code == 412
    assert lrs.request("GET", "/activities/state", params=params, version=V2).get_json() == {"v": 1}


def test_2_0_removed_the_alternate_request_syntax(lrs):
    s = statement()
    response = lrs.request("POST", "/statements?method=PUT", data=f"statementId={s['id']}&content={json.dumps(s)}",
                           content_type="application/x-www-form-urlencoded", version=V2)
    assert response.status_code == 400
