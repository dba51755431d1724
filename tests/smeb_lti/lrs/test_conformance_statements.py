"""ADL LRS conformance, Statement Resource (xAPI 1.0.3 Communication 2.1, Data 2.3-2.5): PUT/POST/GET,
immutability, voiding, filters, formats, paging, consistency headers.

Storage semantics run on SQLite and PostgreSQL (``storage_lrs``: one database per module and engine;
every test uses fresh ids and IRIs so tests do not see each other's statements).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from email.utils import parsedate_to_datetime

import pytest

from smeb_lti.lrs.statements import parse_timestamp
from tests.support.lrs_server import statement

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


@pytest.fixture
def lrs(storage_lrs):
    return storage_lrs


def fresh(kind: str = "activity") -> str:
    return f"http://example.com/conformance/{kind}/{uuid.uuid4()}"


def mbox() -> str:
    return f"mailto:{uuid.uuid4().hex[:12]}@example.com"


def agent_param(address: str) -> str:
    return json.dumps({"objectType": "Agent", "mbox": address})


def ids(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [s["id"] for s in response.get_json()["statements"]]


def ref(target: str, **extra) -> dict:
    return statement(verb="http://adlnet.gov/expapi/verbs/attempted", object={"objectType": "StatementRef", "id": target}, **extra)


# --------------------------------------------------------------------------- PUT / POST (2.1.1, 2.1.2)
def test_xapi_00139_00143_00144_put_with_statement_id_stores_and_answers_204(lrs):
    s = statement()
    assert lrs.request("PUT", "/statements", params={"statementId": s["id"]}, json_body=s).status_code == 204
    assert lrs.get_statements(statementId=s["id"]).get_json()["id"] == s["id"]


def test_xapi_00145_put_without_statement_id_is_400(lrs):
    assert lrs.request("PUT", "/statements", json_body=statement()).status_code == 400


@pytest.mark.parametrize("value", ["true", "[object Object]", "1", ""])
def test_put_with_a_statement_id_that_is_not_a_uuid_is_400(lrs, value):
    """ADL suite: 'accepts PUT requests only if the statementId parameter is a String' (a UUID)."""
    assert lrs.request("PUT", "/statements", params={"statementId": value}, json_body=statement()).status_code == 400


def test_xapi_00146_and_00147_post_answers_200_with_every_id_in_order(lrs):
    batch = [statement(), statement(), statement()]
    del batch[1]["id"]
    response = lrs.post_statements(batch)
    assert response.status_code == 200
    returned = response.get_json()
    assert returned[0] == batch[0]["id"] and returned[2] == batch[2]["id"] and uuid.UUID(returned[1])


@pytest.mark.parametrize("first, second", [("POST", "PUT"), ("PUT", "POST")])
def test_xapi_00142_a_different_statement_under_a_taken_id_changes_nothing_and_is_409(lrs, first, second):
    s = statement()
    modified = dict(s, verb={"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted"}})

    def send(method: str, body: dict):
        if method == "PUT":
            return lrs.request("PUT", "/statements", params={"statementId": s["id"]}, json_body=body)
        return lrs.post_statements(body)

    before_status = send(first, s).status_code
    before = lrs.get_statements(statementId=s["id"]).get_json()
    assert send(second, modified).status_code == 409
    assert send(second, s).status_code in (200, 204)  # the same statement again: no-op
    assert lrs.get_statements(statementId=s["id"]).get_json() == before
    assert before_status in (200, 204)


@pytest.mark.parametrize("where", ["statement", "substatement"])
def test_durations_compare_to_a_hundredth_of_a_second(lrs, where):
    """Data 4.6 / xAPI 2.0 §4.2.7: precision beyond 0.01 s is not part of a comparison (ADL 2.0 suite, 4.2.7)."""

    def with_duration(s: dict, duration: str) -> dict:
        s = json.loads(json.dumps(s))
        target = s if where == "statement" else s["object"]
        target["result"] = {"duration": duration}
        return s

    base = statement()
    if where == "substatement":
        base["object"] = {"objectType": "SubStatement", "actor": base["actor"], "verb": base["verb"], "object": {"id": fresh()}}
    s = with_duration(base, "P1DT12H36M0.1237S")
    put = lambda body: lrs.request("PUT", "/statements", params={"statementId": s["id"]}, json_body=body)  # noqa: E731
    assert put(s).status_code == 204
    assert put(with_duration(base, "P1DT12H36M0.12S")).status_code == 204  # the same statement: no-op
    assert put(with_duration(base, "P1DT12H36M0.13S")).status_code == 409  # a different one
    stored = lrs.get_statements(statementId=s["id"]).get_json()
    assert (stored if where == "statement" else stored["object"])["result"]["duration"] == "P1DT12H36M0.1237S"


def test_xapi_00326_a_batch_with_one_invalid_statement_stores_nothing(lrs):
    good, bad = statement(), statement()
    bad["verb"]["id"] = "should fail"
    assert lrs.post_statements([good, bad]).status_code == 400
    assert lrs.get_statements(statementId=good["id"]).status_code == 404


# --------------------------------------------------------------------------- stored properties (Data 2.4.7-2.4.10)
def test_xapi_00023_00097_00099_the_lrs_sets_stored_authority_timestamp_and_version(lrs):
    s = statement()
    lrs.post_statements(s)
    got = lrs.get_statements(statementId=s["id"]).get_json()
    assert parse_timestamp(got["stored"]) == parse_timestamp(got["timestamp"])
    assert got["authority"]["objectType"] == "Agent" and got["version"] == "1.0.0"


def test_xapi_00022_a_timestamp_sent_with_an_offset_is_accepted_and_kept_as_sent(lrs):
    s = statement(timestamp="2013-05-18T05:32:34.804+00:00")
    lrs.post_statements(s)
    assert lrs.get_statements(statementId=s["id"]).get_json()["timestamp"] == "2013-05-18T05:32:34.804+00:00"


def test_xapi_00023_stored_is_a_utc_timestamp_with_milliseconds(lrs):
    s = statement()
    lrs.post_statements(s)
    stored = lrs.get_statements(statementId=s["id"]).get_json()["stored"]
    assert datetime.strptime(stored, "%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- GET (2.1.3)
def test_xapi_00149_00112_00154_a_query_without_results_is_200_with_an_empty_statement_result(lrs):
    response = lrs.get_statements(verb=fresh("verb"))
    assert response.status_code == 200
    assert response.get_json() == {"statements": [], "more": ""}


@pytest.mark.parametrize("key", ["statementId", "voidedStatementId"])
@pytest.mark.parametrize("other", [{"verb": "http://adlnet.gov/expapi/verbs/attended"}, {"limit": "1"}, {"ascending": "true"},
                                   {"agent": agent_param("mailto:a@example.com")}, {"since": "2012-06-01T19:09:13.245Z"}])
def test_xapi_00150_and_00151_a_single_statement_id_with_other_filters_is_400(lrs, key, other):
    assert lrs.get_statements(**{key: str(uuid.uuid4())}, **other).status_code == 400


@pytest.mark.parametrize("extra", [{}, {"format": "ids"}, {"attachments": "false"}, {"format": "canonical", "attachments": "true"}])
def test_xapi_00156_00158_00159_statement_id_with_format_or_attachments_returns_the_statement(lrs, extra):
    s = statement()
    lrs.post_statements(s)
    response = lrs.get_statements(statementId=s["id"], **extra)
    assert response.status_code == 200
    if extra.get("attachments") == "true":
        assert response.headers["Content-Type"].startswith("multipart/mixed")
    else:
        assert response.get_json()["id"] == s["id"]


def test_xapi_00152_00153_00160_consistent_through_is_an_iso_timestamp_not_before_any_stored(lrs):
    s = statement()
    lrs.post_statements(s)
    for response in (lrs.get_statements(statementId=s["id"]), lrs.get_statements(limit=5), lrs.get_statements(Bad="x"),
                     lrs.post_statements(statement())):
        header = response.headers["X-Experience-API-Consistent-Through"]
        consistent = parse_timestamp(header)
        if response.status_code == 200 and response.request.method == "GET":
            body = response.get_json()
            for got in body.get("statements", [body]):
                assert parse_timestamp(got["stored"]) <= consistent


def test_xapi_00165_get_responses_have_a_content_type(lrs):
    assert lrs.get_statements(limit=1).headers["Content-Type"].startswith("application/json")


def test_xapi_00164_00179_00180_00181_00178_filters_match_exactly(lrs):
    actor, activity, verb, registration = mbox(), fresh(), fresh("verb"), str(uuid.uuid4())
    hit = statement(verb=verb, activity=activity, actor=actor, context={"registration": registration})
    near = [statement(verb=verb, activity=activity + "x", actor=actor, context={"registration": registration}),
            statement(verb=verb + "x", activity=activity, actor=actor, context={"registration": registration}),
            statement(verb=verb, activity=activity, actor=mbox(), context={"registration": registration}),
            statement(verb=verb, activity=activity, actor=actor, context={"registration": str(uuid.uuid4())})]
    lrs.post_statements([hit, *near])
    assert ids(lrs.get_statements(verb=verb, activity=activity, agent=agent_param(actor), registration=registration)) == [hit["id"]]
    assert set(ids(lrs.get_statements(verb=verb))) == {hit["id"], near[0]["id"], near[2]["id"], near[3]["id"]}
    assert set(ids(lrs.get_statements(activity=activity))) == {hit["id"], near[1]["id"], near[2]["id"], near[3]["id"]}
    assert set(ids(lrs.get_statements(agent=agent_param(actor)))) == {hit["id"], near[0]["id"], near[1]["id"], near[3]["id"]}
    assert set(ids(lrs.get_statements(registration=registration))) == {hit["id"], near[0]["id"], near[1]["id"], near[2]["id"]}


def test_xapi_00181_the_agent_filter_accepts_each_kind_of_identifier(lrs):
    verb = fresh("verb")
    agents = [
        {"objectType": "Agent", "mbox_sha1sum": uuid.uuid4().hex + "abcdef01"},
        {"objectType": "Agent", "openid": fresh("openid")},
        {"objectType": "Agent", "account": {"homePage": "http://www.example.com", "name": uuid.uuid4().hex}},
    ]
    for a in agents:
        s = statement(verb=verb)
        s["actor"] = a
        assert lrs.post_statements(s).status_code == 200
        assert ids(lrs.get_statements(agent=json.dumps(a))) == [s["id"]]


def test_xapi_00176_related_agents_reaches_authority_instructor_team_and_substatements(lrs):
    person, verb = mbox(), fresh("verb")
    who = {"objectType": "Agent", "mbox": person}
    plain = statement(verb=verb)
    as_instructor = statement(verb=verb, context={"instructor": who})
    as_team = statement(verb=verb, context={"team": {"objectType": "Group", "member": [who]}})
    in_sub = statement(verb=verb, object={"objectType": "SubStatement", "actor": who,
                                          "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
                                          "object": {"id": fresh()}})
    as_object = statement(verb=verb, object=who)
    lrs.post_statements([plain, as_instructor, as_team, in_sub, as_object])
    assert ids(lrs.get_statements(agent=agent_param(person))) == [as_object["id"]]
    assert set(ids(lrs.get_statements(agent=agent_param(person), related_agents="true"))) == {
        as_instructor["id"], as_team["id"], in_sub["id"], as_object["id"]}


def test_xapi_00177_related_activities_reaches_context_activities_and_substatements(lrs):
    activity = fresh()
    direct = statement(activity=activity)
    grouped = statement(activity=fresh(), context={"contextActivities": {"grouping": [{"id": activity}]}})
    other = statement(activity=fresh(), context={"contextActivities": {"other": {"id": activity}}})
    in_sub = statement(object={"objectType": "SubStatement", "actor": {"mbox": mbox()},
                               "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"}, "object": {"id": activity}})
    lrs.post_statements([direct, grouped, other, in_sub])
    assert ids(lrs.get_statements(activity=activity)) == [direct["id"]]
    assert set(ids(lrs.get_statements(activity=activity, related_activities="true"))) == {
        direct["id"], grouped["id"], other["id"], in_sub["id"]}


def test_xapi_00174_and_00175_since_is_exclusive_and_until_inclusive_on_stored(lrs):
    verb = fresh("verb")
    first = statement(verb=verb)
    lrs.post_statements(first)
    stored = lrs.get_statements(statementId=first["id"]).get_json()["stored"]
    time.sleep(0.01)
    second = statement(verb=verb)
    lrs.post_statements(second)
    assert ids(lrs.get_statements(verb=verb, since=stored)) == [second["id"]]
    assert ids(lrs.get_statements(verb=verb, until=stored)) == [first["id"]]


def test_xapi_00173_limit_bounds_the_page_and_0_means_the_server_maximum(lrs):
    verb = fresh("verb")
    lrs.post_statements([statement(verb=verb) for _ in range(3)])
    assert len(ids(lrs.get_statements(verb=verb, limit=2))) == 2
    assert len(ids(lrs.get_statements(verb=verb, limit=0))) == 3


def test_xapi_00166_ascending_orders_by_stored_oldest_first(lrs):
    verb = fresh("verb")
    posted = []
    for _ in range(3):
        s = statement(verb=verb)
        lrs.post_statements(s)
        posted.append(s["id"])
    assert ids(lrs.get_statements(verb=verb, ascending="true")) == posted
    assert ids(lrs.get_statements(verb=verb)) == posted[::-1]


def test_xapi_00108_to_00111_00113_00114_more_is_a_relative_irl_that_yields_the_next_page(lrs):
    """Data 2.5: 'more' is an IRL the client resolves against the LRS; empty on the last page."""
    verb = fresh("verb")
    lrs.post_statements([statement(verb=verb) for _ in range(3)])
    page = lrs.get_statements(verb=verb, limit=2).get_json()
    assert page["more"].startswith("/lrs/acme/xapi/statements?")
    nxt = lrs.client.get(page["more"], headers=lrs.headers())
    assert nxt.status_code == 200
    assert len(nxt.get_json()["statements"]) == 1 and nxt.get_json()["more"] == ""


@pytest.mark.parametrize("params", [{"limit": "-1"}, {"limit": "a"}, {"ascending": "yes"}, {"since": "yesterday"},
                                    {"until": "2012-13-01T00:00:00Z"}, {"registration": "not-a-uuid"},
                                    {"agent": "not json"}, {"agent": json.dumps({"name": "no ifi"})},
                                    {"verb": "not an iri"}, {"activity": "not an iri"}, {"format": "full"},
                                    {"related_agents": "1"}, {"attachments": "maybe"}])
def test_xapi_00012_and_00164_malformed_filter_values_are_400(lrs, params):
    assert lrs.get_statements(**params).status_code == 400


# --------------------------------------------------------------------------- formats (XAPI-00168..00172)
def test_xapi_00170_format_exact_returns_objects_as_received(lrs):
    s = statement(activity=fresh())
    s["object"]["definition"] = {"name": {"en-US": "Exact", "nb-NO": "Nøyaktig"}, "type": "http://adlnet.gov/expapi/activities/lesson"}
    s["actor"] = {"objectType": "Group", "name": "G", "member": [{"mbox": mbox(), "name": "A"}]}
    lrs.post_statements(s)
    got = lrs.get_statements(statementId=s["id"], format="exact").get_json()
    assert (got["actor"], got["verb"], got["object"]) == (s["actor"], s["verb"], s["object"])


def test_xapi_00171_format_ids_keeps_only_identifiers(lrs):
    s = statement(activity=fresh())
    s["object"]["definition"] = {"name": {"en-US": "Name"}}
    s["actor"] = {"objectType": "Group", "name": "Anon", "member": [{"objectType": "Agent", "mbox": mbox(), "name": "A"}]}
    lrs.post_statements(s)
    got = lrs.get_statements(statementId=s["id"], format="ids").get_json()
    assert got["verb"] == {"id": s["verb"]["id"]}
    assert got["object"] == {"id": s["object"]["id"]}  # objectType is optional for an Activity: not an identifier
    assert "name" not in got["actor"] and all("name" not in m for m in got["actor"]["member"])


def test_xapi_00171_format_ids_reduces_a_substatement_activity_and_context_activities_to_their_ids(lrs):
    """The ADL suite counts the keys of a SubStatement's Activity object: one (its id)."""
    group = {"objectType": "Group", "mbox": mbox(), "name": "Team"}
    parent = fresh()
    s = statement(verb=fresh("verb"), object={
        "objectType": "SubStatement",
        "actor": group,
        "verb": {"id": fresh("verb"), "display": {"en-US": "planned"}},
        "object": {"objectType": "Activity", "id": fresh(), "definition": {"name": {"en-US": "Plan"}}},
    })
    s["context"] = {"contextActivities": {"parent": [{"objectType": "Activity", "id": parent, "definition": {"name": {"en-US": "P"}}}]}}
    lrs.post_statements(s)
    for got in (lrs.get_statements(statementId=s["id"], format="ids").get_json(),
                lrs.get_statements(verb=s["verb"]["id"], format="ids").get_json()["statements"][0]):
        sub = got["object"]
        assert sub["object"] == {"id": s["object"]["object"]["id"]}
        assert sub["actor"] == {"objectType": "Group", "mbox": group["mbox"]}
        assert sub["verb"] == {"id": s["object"]["verb"]["id"]}
        assert got["context"]["contextActivities"]["parent"] == [{"id": parent}]


def test_xapi_00169_and_00172_format_canonical_returns_one_language_chosen_by_accept_language(lrs):
    s = statement(activity=fresh())
    s["verb"]["display"] = {"en-US": "attended", "nb-NO": "deltok"}
    s["object"]["definition"] = {"name": {"en-US": "Meeting", "nb-NO": "Møte"}, "description": {"en-US": "D", "nb-NO": "B"}}
    lrs.post_statements(s)
    got = lrs.get_statements(statementId=s["id"], format="canonical", headers={"Accept-Language": "nb-NO, en;q=0.5"}).get_json()
    assert got["verb"]["display"] == {"nb-NO": "deltok"}
    assert got["object"]["definition"]["name"] == {"nb-NO": "Møte"}
    got = lrs.get_statements(statementId=s["id"], format="canonical", headers={"Accept-Language": "en-US"}).get_json()
    assert got["object"]["definition"]["description"] == {"en-US": "D"}


def test_xapi_00169_canonical_uses_the_latest_definition_the_lrs_holds(lrs):
    activity = fresh()
    old = statement(activity=activity)
    old["object"]["definition"] = {"name": {"en-US": "Old"}, "description": {"en-US": "kept"}}
    new = statement(activity=activity)
    new["object"]["definition"] = {"name": {"en-US": "New"}}
    lrs.post_statements(old)
    lrs.post_statements(new)
    got = lrs.get_statements(statementId=old["id"], format="canonical").get_json()
    assert got["object"]["definition"] == {"name": {"en-US": "New"}, "description": {"en-US": "kept"}}
    activity_doc = lrs.request("GET", "/activities", params={"activityId": activity}).get_json()
    assert activity_doc["definition"]["name"] == {"en-US": "New"}


# --------------------------------------------------------------------------- voiding (Data 2.3.2, XAPI-00162, 00163)
def test_xapi_00018_00155_00157_00163_a_voided_statement_is_only_returned_through_voided_statement_id(lrs):
    verb = fresh("verb")
    target = statement(verb=verb)
    lrs.post_statements(target)
    voider = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target["id"]})
    assert lrs.post_statements(voider).status_code == 200
    assert lrs.get_statements(statementId=target["id"]).status_code == 404
    assert lrs.get_statements(voidedStatementId=target["id"]).get_json()["id"] == target["id"]
    assert lrs.get_statements(voidedStatementId=voider["id"]).status_code == 404
    assert lrs.get_statements(statementId=voider["id"]).status_code == 200
    assert ids(lrs.get_statements(verb=verb)) == [voider["id"]]  # the voider refers to a match (StatementRef rule)


def test_xapi_00162_statements_targeting_a_voided_statement_are_returned_without_it(lrs):
    verb = fresh("verb")
    target = statement(verb=verb)
    lrs.post_statements(target)
    voider = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target["id"]})
    lrs.post_statements(voider)
    since = lrs.get_statements(statementId=voider["id"]).get_json()["stored"]
    lrs.post_statements(statement())  # something unrelated stored after
    returned = ids(lrs.get_statements(verb=verb))
    assert voider["id"] in returned and target["id"] not in returned
    assert target["id"] not in ids(lrs.get_statements(until=since, limit=50))


def test_xapi_00016_00018_a_statement_voiding_a_voiding_statement_is_stored_but_voids_nothing(lrs):
    """Data 2.3.2: a voided statement is one that is not itself a voiding statement; the request is accepted."""
    target = statement()
    voider = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target["id"]})
    lrs.post_statements([target, voider])
    again = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": voider["id"]})
    assert lrs.post_statements(again).status_code == 200
    put = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": voider["id"]})
    assert lrs.request("PUT", "/statements", params={"statementId": put["id"]}, json_body=put).status_code == 204
    for kept in (voider, again, put):
        assert lrs.get_statements(statementId=kept["id"]).status_code == 200
        assert lrs.get_statements(voidedStatementId=kept["id"]).status_code == 404
    assert lrs.get_statements(voidedStatementId=target["id"]).status_code == 200  # the first voiding still holds


@pytest.mark.parametrize("order", ["voider of the voider first", "same batch", "voider first"])
def test_xapi_00016_a_voiding_statement_is_never_voided_whatever_the_arrival_order(lrs, order):
    target = statement()
    voider = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target["id"]})
    again = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": voider["id"]})
    batches = {
        "voider of the voider first": [[again], [target, voider]],
        "same batch": [[target, again, voider]],
        "voider first": [[voider], [again], [target]],
    }[order]
    for batch in batches:
        assert lrs.post_statements(batch).status_code == 200
    assert lrs.get_statements(statementId=voider["id"]).status_code == 200
    assert lrs.get_statements(statementId=again["id"]).status_code == 200
    assert lrs.get_statements(statementId=target["id"]).status_code == 404


def test_xapi_00017_a_voiding_statement_must_have_a_statementref_object(lrs):
    assert lrs.post_statements(statement(verb=VOIDED)).status_code == 400


# --------------------------------------------------------------------------- StatementRef filter rule (2.1.3 "Filter Conditions for StatementRefs")
def test_statements_referring_to_matching_statements_match_recursively(lrs):
    activity = fresh()
    target = statement(activity=activity)
    level1 = ref(target["id"])
    level2 = ref(level1["id"])
    level3 = ref(level2["id"])
    unrelated = ref(str(uuid.uuid4()))
    lrs.post_statements([target, level1, level2, level3, unrelated])
    assert set(ids(lrs.get_statements(activity=activity))) == {target["id"], level1["id"], level2["id"], level3["id"]}


def test_the_statementref_rule_applies_time_limits_to_the_referring_statement(lrs):
    activity = fresh()
    target = statement(activity=activity)
    lrs.post_statements(target)
    stored = lrs.get_statements(statementId=target["id"]).get_json()["stored"]
    time.sleep(0.01)
    later = ref(target["id"])
    lrs.post_statements(later)
    assert ids(lrs.get_statements(activity=activity, since=stored)) == [later["id"]]


def test_statementref_cycles_do_not_loop(lrs):
    a_id, b_id = str(uuid.uuid4()), str(uuid.uuid4())
    who = mbox()
    a = ref(b_id, id=a_id, actor=who)
    b = ref(a_id, id=b_id, actor=who)
    lrs.post_statements([a, b])
    assert ids(lrs.get_statements(activity=fresh())) == []
    assert len(ids(lrs.get_statements(agent=agent_param(who)))) == 2


# --------------------------------------------------------------------------- statements/read/mine (Communication 4.2 scopes)
def test_read_mine_with_basic_credentials_returns_only_statements_that_credential_stored(lrs):
    mine = lrs.credential("statements/write", "statements/read/mine")
    verb = fresh("verb")
    own, foreign = statement(verb=verb), statement(verb=verb)
    assert lrs.post_statements(own, auth=mine).status_code == 200
    assert lrs.post_statements(foreign).status_code == 200
    assert ids(lrs.get_statements(verb=verb, auth=mine)) == [own["id"]]
    assert lrs.get_statements(statementId=foreign["id"], auth=mine).status_code == 404
    assert lrs.get_statements(statementId=own["id"], auth=mine).status_code == 200
    assert set(ids(lrs.get_statements(verb=verb))) == {own["id"], foreign["id"]}


# --------------------------------------------------------------------------- last modified
def test_single_statement_last_modified_is_its_stored_time(lrs):
    s = statement()
    lrs.post_statements(s)
    response = lrs.get_statements(statementId=s["id"])
    stored = parse_timestamp(response.get_json()["stored"]) // 1_000_000
    assert int(parsedate_to_datetime(response.headers["Last-Modified"]).timestamp()) == stored


def test_xapi_00164_every_filter_at_once_with_format_ids_finds_the_statement(lrs):
    """E.Data2.5: agent (with a name), verb, activity, registration, related_activities, since, format, attachments."""
    registration = str(uuid.uuid4())
    s = statement(activity=fresh(), actor=mbox(), context={"registration": registration,
                  "contextActivities": {"category": [{"id": fresh()}]}, "instructor": {"mbox": mbox(), "name": "I"}})
    lrs.post_statements(s)
    found = lrs.get_statements(limit=1, agent=json.dumps(s["actor"]), verb=s["verb"]["id"], activity=s["object"]["id"],
                               registration=registration, related_activities="true", since="2012-06-01T19:09:13.245Z",
                               format="ids", attachments="false")
    assert ids(found) == [s["id"]]
    category = s["context"]["contextActivities"]["category"][0]["id"]
    assert ids(lrs.get_statements(activity=category, related_activities="true")) == [s["id"]]
    assert ids(lrs.get_statements(agent=json.dumps(s["context"]["instructor"]), related_agents="true")) == [s["id"]]


# --------------------------------------------------------------------------- canonical definitions and trust (Data 2.4.4.1)
def _with_definition(activity: str, definition: dict) -> dict:
    s = statement(activity=activity)
    s["object"]["definition"] = definition
    return s


def test_a_credential_without_define_can_give_a_first_definition_and_fill_gaps_but_not_change_it(lrs):
    writer = lrs.credential("statements/write", "statements/read")
    activity = fresh()
    lrs.post_statements(_with_definition(activity, {"name": {"en-US": "First"}}), auth=writer)
    lrs.post_statements(_with_definition(activity, {"name": {"en-US": "Changed", "nb-NO": "Første"},
                                                    "type": "http://adlnet.gov/expapi/activities/lesson"}), auth=writer)
    definition = lrs.request("GET", "/activities", params={"activityId": activity}).get_json()["definition"]
    assert definition == {"name": {"en-US": "First", "nb-NO": "Første"}, "type": "http://adlnet.gov/expapi/activities/lesson"}


def test_a_credential_with_define_changes_the_canonical_definition(lrs):
    activity = fresh()
    lrs.post_statements(_with_definition(activity, {"name": {"en-US": "First"}}), auth=lrs.credential("statements/write"))
    lrs.post_statements(_with_definition(activity, {"name": {"en-US": "Defined"}}), auth=lrs.credential("statements/write", "define"))
    assert lrs.request("GET", "/activities", params={"activityId": activity}).get_json()["definition"]["name"] == {"en-US": "Defined"}


def test_xapi_00019_00020_a_voiding_statement_for_a_statement_the_lrs_does_not_hold_is_accepted(lrs):
    assert lrs.post_statements(statement(verb=VOIDED, object={"objectType": "StatementRef", "id": str(uuid.uuid4())})).status_code == 200


def test_xapi_00016_voiding_an_already_voided_statement_keeps_it_voided_and_retrievable(lrs):
    target = statement()
    lrs.post_statements(target)
    for _ in range(2):
        lrs.post_statements(statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target["id"]}))
    assert lrs.get_statements(voidedStatementId=target["id"]).status_code == 200
    assert lrs.get_statements(statementId=target["id"]).status_code == 404


def test_read_mine_also_limits_statements_found_through_the_statementref_rule(lrs):
    mine = lrs.credential("statements/write", "statements/read/mine")
    activity = fresh()
    own = statement(activity=activity)
    lrs.post_statements(own, auth=mine)
    own_ref, foreign_ref = ref(own["id"]), ref(own["id"])
    lrs.post_statements(own_ref, auth=mine)
    lrs.post_statements(foreign_ref)
    assert set(ids(lrs.get_statements(activity=activity, auth=mine))) == {own["id"], own_ref["id"]}
    assert set(ids(lrs.get_statements(activity=activity))) == {own["id"], own_ref["id"], foreign_ref["id"]}
