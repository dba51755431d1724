"""Statement resource rules (xAPI 1.0.3 Communication 2.1, 3.2, 3.3), each a test, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid

from tests.support.lrs_server import statement

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def voiding(target: str) -> dict:
    return statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target})


def ids(response) -> list[str]:
    return [s["id"] for s in response.get_json()["statements"]]


def test_a_posted_statement_is_stored_with_stored_authority_timestamp_and_version(lrs):
    s = statement()
    response = lrs.post_statements(s)
    assert response.status_code == 200
    assert response.get_json() == [s["id"]]
    got = lrs.get_statements(statementId=s["id"]).get_json()
    assert got["stored"].endswith("Z")
    assert got["authority"]["account"]["homePage"] == "urn:smeb:lrs:acme"
    assert got["timestamp"] == got["stored"]
    assert got["version"] == "1.0.0"


def test_the_lrs_overrides_an_authority_sent_by_the_client(lrs):
    s = statement(authority={"objectType": "Agent", "mbox": "mailto:boss@example.com"})
    lrs.post_statements(s)
    got = lrs.get_statements(statementId=s["id"]).get_json()
    assert got["authority"]["account"]["homePage"] == "urn:smeb:lrs:acme"


def test_a_statement_without_id_gets_a_uuid(lrs):
    s = statement()
    del s["id"]
    response = lrs.post_statements(s)
    (new_id,) = response.get_json()
    assert uuid.UUID(new_id)
    assert lrs.get_statements(statementId=new_id).status_code == 200


def test_put_stores_under_the_statement_id_parameter_and_answers_204(lrs):
    s = statement()
    sid = s.pop("id")
    response = lrs.request("PUT", "/statements", params={"statementId": sid}, json_body=s)
    assert response.status_code == 204
    assert lrs.get_statements(statementId=sid).get_json()["id"] == sid


def test_put_without_statement_id_is_rejected(lrs):
    assert lrs.request("PUT", "/statements", json_body=statement()).status_code == 400


def test_put_with_an_id_other_than_the_parameter_is_rejected(lrs):
    s = statement()
    response = lrs.request("PUT", "/statements", params={"statementId": str(uuid.uuid4())}, json_body=s)
    assert response.status_code == 400
    assert "differs" in response.get_json()["message"]


def test_a_batch_is_stored_all_or_nothing(lrs):
    good = statement()
    bad = statement()
    bad["verb"] = {"id": "not an iri"}
    response = lrs.post_statements([good, bad])
    assert response.status_code == 400
    assert lrs.get_statements(statementId=good["id"]).status_code == 404


def test_a_batch_with_one_id_twice_is_rejected(lrs):
    s = statement()
    assert lrs.post_statements([s, dict(s)]).status_code == 400


def test_reposting_the_same_statement_is_a_no_op(lrs):
    s = statement()
    assert lrs.post_statements(s).status_code == 200
    assert lrs.post_statements(s).status_code == 200
    assert lrs.request("PUT", "/statements", params={"statementId": s["id"]}, json_body=s).status_code == 204
    assert len(ids(lrs.get_statements())) == 1


def test_reposting_with_a_different_timestamp_serialization_is_still_the_same_statement(lrs):
    s = statement(timestamp="2026-01-01T12:00:00Z")
    lrs.post_statements(s)
    again = dict(s, timestamp="2026-01-01T13:00:00.000+01:00")
    assert lrs.post_statements(again).status_code == 200


def test_a_different_statement_under_a_taken_id_is_a_conflict(lrs):
    s = statement()
    lrs.post_statements(s)
    other = dict(s, verb={"id": "http://adlnet.gov/expapi/verbs/attempted"})
    response = lrs.post_statements(other)
    assert response.status_code == 409
    assert "immutable" in response.get_json()["message"]
    assert lrs.request("PUT", "/statements", params={"statementId": s["id"]}, json_body=other).status_code == 409


def test_malformed_json_is_a_400_that_says_so(lrs):
    response = lrs.request("POST", "/statements", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.get_json()["message"]


def test_a_repeated_property_is_rejected(lrs):
    s = statement()
    text = json.dumps(s)[:-1] + ', "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"}}'
    assert lrs.request("POST", "/statements", data=text, content_type="application/json").status_code == 400


def test_a_wrong_content_type_is_rejected(lrs):
    response = lrs.request("POST", "/statements", data=json.dumps(statement()), content_type="text/plain")
    assert response.status_code == 400
    assert "Content-Type" in response.get_json()["message"]


def test_data_rule_violations_are_reported_with_the_validators_issues(lrs):
    s = statement()
    s["actor"] = {"objectType": "Agent", "mbox": "ola@example.com"}  # mbox must be a mailto IRI
    response = lrs.post_statements(s)
    assert response.status_code == 400
    body = response.get_json()
    assert body["issues"] and any("mbox" in issue["path"] for issue in body["issues"])


def test_missing_version_header_is_rejected(lrs):
    response = lrs.request("GET", "/statements", version=None)
    assert response.status_code == 400
    assert "X-Experience-API-Version" in response.get_json()["message"]
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_unsupported_versions_are_rejected_and_1_0_x_and_2_0_0_accepted(lrs):
    assert lrs.request("GET", "/statements", version="0.95").status_code == 400
    assert lrs.request("GET", "/statements", version="1.1.0").status_code == 400
    assert lrs.request("GET", "/statements", version="1.0").status_code == 200
    assert lrs.request("GET", "/statements", version="1.0.1").status_code == 200
    response = lrs.request("GET", "/statements", version="2.0.0")
    assert response.status_code == 200
    assert response.headers["X-Experience-API-Version"] == "2.0.0"


def test_unknown_and_wrong_case_parameters_are_rejected(lrs):
    assert lrs.get_statements(foo="bar").status_code == 400
    response = lrs.get_statements(Verb="http://adlnet.gov/expapi/verbs/experienced")
    assert response.status_code == 400
    assert "case-sensitive" in response.get_json()["message"]


def test_statement_id_with_other_filters_is_rejected(lrs):
    s = statement()
    lrs.post_statements(s)
    assert lrs.get_statements(statementId=s["id"], verb=s["verb"]["id"]).status_code == 400
    assert lrs.get_statements(statementId=s["id"], voidedStatementId=s["id"]).status_code == 400
    assert lrs.get_statements(statementId=s["id"], format="ids", attachments="false").status_code == 200


def test_an_unknown_statement_id_is_404_with_consistent_through(lrs):
    response = lrs.get_statements(statementId=str(uuid.uuid4()))
    assert response.status_code == 404
    assert response.headers["X-Experience-API-Consistent-Through"].endswith("Z")


def test_single_statement_responses_carry_last_modified_and_consistent_through(lrs):
    s = statement()
    lrs.post_statements(s)
    response = lrs.get_statements(statementId=s["id"])
    assert response.headers["Last-Modified"].endswith("GMT")
    assert response.headers["X-Experience-API-Consistent-Through"].endswith("Z")


def test_filters_by_verb_activity_registration_and_agent(lrs):
    reg = str(uuid.uuid4())
    a = statement(verb="http://adlnet.gov/expapi/verbs/attempted")
    b = statement(activity="https://smeb.no/xapi/course/b", context={"registration": reg})
    c = statement(actor="mailto:kari@example.com")
    lrs.post_statements([a, b, c])
    assert ids(lrs.get_statements(verb="http://adlnet.gov/expapi/verbs/attempted")) == [a["id"]]
    assert ids(lrs.get_statements(activity="https://smeb.no/xapi/course/b")) == [b["id"]]
    assert ids(lrs.get_statements(registration=reg)) == [b["id"]]
    assert ids(lrs.get_statements(agent=json.dumps({"mbox": "mailto:kari@example.com"}))) == [c["id"]]


def test_the_agent_filter_matches_the_object_and_group_members(lrs):
    about_kari = statement(object={"objectType": "Agent", "mbox": "mailto:kari@example.com"})
    group = statement()
    group["actor"] = {"objectType": "Group", "member": [{"mbox": "mailto:kari@example.com"}, {"mbox": "mailto:per@example.com"}]}
    lrs.post_statements([about_kari, group])
    found = ids(lrs.get_statements(agent=json.dumps({"mbox": "mailto:kari@example.com"})))
    assert set(found) == {about_kari["id"], group["id"]}


def test_related_agents_includes_instructor_and_authority(lrs):
    s = statement(context={"instructor": {"mbox": "mailto:teacher@example.com"}})
    lrs.post_statements(s)
    agent = json.dumps({"mbox": "mailto:teacher@example.com"})
    assert ids(lrs.get_statements(agent=agent)) == []
    assert ids(lrs.get_statements(agent=agent, related_agents="true")) == [s["id"]]


def test_related_activities_includes_context_activities(lrs):
    parent = "https://smeb.no/xapi/course/parent"
    s = statement(context={"contextActivities": {"parent": {"id": parent}}})
    lrs.post_statements(s)
    assert ids(lrs.get_statements(activity=parent)) == []
    assert ids(lrs.get_statements(activity=parent, related_activities="true")) == [s["id"]]


def test_context_activities_given_as_an_object_come_back_as_an_array(lrs):
    s = statement(context={"contextActivities": {"parent": {"id": "https://smeb.no/xapi/course/parent"}}})
    lrs.post_statements(s)
    got = lrs.get_statements(statementId=s["id"]).get_json()
    assert isinstance(got["context"]["contextActivities"]["parent"], list)


def test_since_and_until_bound_the_stored_time(lrs):
    first = statement()
    lrs.post_statements(first)
    stored = lrs.get_statements(statementId=first["id"]).get_json()["stored"]
    second = statement()
    import time

    time.sleep(0.01)
    lrs.post_statements(second)
    assert ids(lrs.get_statements(since=stored)) == [second["id"]]
    assert ids(lrs.get_statements(until=stored)) == [first["id"]]
    assert lrs.get_statements(since="yesterday").status_code == 400


def test_results_are_newest_first_unless_ascending(lrs):
    batch = [statement() for _ in range(3)]
    for s in batch:
        lrs.post_statements(s)
    assert ids(lrs.get_statements()) == [s["id"] for s in reversed(batch)]
    assert ids(lrs.get_statements(ascending="true")) == [s["id"] for s in batch]


def test_more_pages_through_everything_once_even_while_statements_arrive(lrs):
    batch = [statement() for _ in range(7)]
    lrs.post_statements(batch)
    seen: list[str] = []
    response = lrs.get_statements(limit=3)
    lrs.post_statements(statement())  # arrives after the first page: not part of this listing
    while True:
        body = response.get_json()
        seen += [s["id"] for s in body["statements"]]
        if not body["more"]:
            break
        assert body["more"].startswith("/lrs/acme/xapi/statements?more=")
        response = lrs.client.get(body["more"], headers=lrs.headers())
    assert seen == [s["id"] for s in reversed(batch)]


def test_a_tampered_more_value_is_rejected(lrs):
    assert lrs.get_statements(more="garbage!").status_code == 400


def test_limit_must_be_a_nonnegative_integer(lrs):
    assert lrs.get_statements(limit="-1").status_code == 400
    assert lrs.get_statements(limit="ten").status_code == 400


def test_format_ids_keeps_only_identifiers(lrs):
    s = statement()
    s["object"]["definition"] = {"name": {"en-US": "Course A"}}
    lrs.post_statements(s)
    got = lrs.get_statements(statementId=s["id"], format="ids").get_json()
    assert got["actor"] == {"objectType": "Agent", "mbox": "mailto:ola@example.com"}
    assert got["verb"] == {"id": s["verb"]["id"]}
    assert got["object"] == {"id": s["object"]["id"]}


def test_format_canonical_picks_one_language_per_map_by_accept_language(lrs):
    s = statement(verb="http://adlnet.gov/expapi/verbs/experienced")
    s["verb"]["display"] = {"en-US": "experienced", "nb-NO": "opplevde"}
    s["object"]["definition"] = {"name": {"en-US": "Course A", "nb-NO": "Kurs A"}}
    lrs.post_statements(s)
    response = lrs.get_statements(statementId=s["id"], format="canonical", headers={"Accept-Language": "nb;q=0.9, en;q=0.5"})
    got = response.get_json()
    assert got["verb"]["display"] == {"nb-NO": "opplevde"}
    assert got["object"]["definition"]["name"] == {"nb-NO": "Kurs A"}
    got = lrs.get_statements(statementId=s["id"], format="canonical", headers={"Accept-Language": "en"}).get_json()
    assert got["object"]["definition"]["name"] == {"en-US": "Course A"}


def test_format_canonical_uses_the_lrs_merged_activity_definition(lrs):
    first = statement()
    first["object"]["definition"] = {"name": {"en-US": "Old name"}}
    second = statement()
    second["object"]["definition"] = {"name": {"en-US": "New name"}}
    lrs.post_statements(first)
    lrs.post_statements(second)
    got = lrs.get_statements(statementId=first["id"], format="canonical").get_json()
    assert got["object"]["definition"]["name"] == {"en-US": "New name"}
    assert lrs.get_statements(statementId=first["id"]).get_json()["object"]["definition"]["name"] == {"en-US": "Old name"}


def test_an_unknown_format_is_rejected(lrs):
    assert lrs.get_statements(format="full").status_code == 400


def test_a_voided_statement_leaves_queries_but_stays_retrievable_by_voided_statement_id(lrs):
    target = statement()
    lrs.post_statements(target)
    void = voiding(target["id"])
    assert lrs.post_statements(void).status_code == 200
    assert lrs.get_statements(statementId=target["id"]).status_code == 404
    assert lrs.get_statements(voidedStatementId=target["id"]).get_json()["id"] == target["id"]
    assert ids(lrs.get_statements()) == [void["id"]]
    assert lrs.get_statements(voidedStatementId=void["id"]).status_code == 404


def test_voiding_before_the_target_arrives_still_voids_it(lrs):
    target = statement()
    lrs.post_statements(voiding(target["id"]))
    lrs.post_statements(target)
    assert lrs.get_statements(statementId=target["id"]).status_code == 404


def test_voiding_a_voiding_statement_is_accepted_and_has_no_effect(lrs):
    target = statement()
    void = voiding(target["id"])
    lrs.post_statements([target, void])
    assert lrs.post_statements(voiding(void["id"])).status_code == 200
    assert lrs.get_statements(statementId=void["id"]).status_code == 200
    assert lrs.get_statements(statementId=target["id"]).status_code == 404


def test_statements_referring_to_a_matching_statement_match_the_filter(lrs):
    original = statement(activity="https://smeb.no/xapi/course/explosives")
    comment = statement(actor="mailto:andrew@example.com", verb="http://adlnet.gov/expapi/verbs/commented",
                        object={"objectType": "StatementRef", "id": original["id"]})
    lrs.post_statements([original, comment])
    found = ids(lrs.get_statements(activity="https://smeb.no/xapi/course/explosives"))
    assert set(found) == {original["id"], comment["id"]}


def test_statements_targeting_a_voided_statement_are_still_returned(lrs):
    original = statement(activity="https://smeb.no/xapi/course/x")
    void = voiding(original["id"])
    lrs.post_statements([original, void])
    assert ids(lrs.get_statements(activity="https://smeb.no/xapi/course/x")) == [void["id"]]


def test_the_alternate_request_syntax_stores_and_reads_statements(lrs):
    s = statement()
    form = {"content": json.dumps(s), "Authorization": lrs.auth, "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json", "statementId": s["id"]}
    response = lrs.client.post(f"{lrs.base}/statements?method=PUT", data=form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 204
    form = {"Authorization": lrs.auth, "X-Experience-API-Version": "1.0.3", "statementId": s["id"]}
    response = lrs.client.post(f"{lrs.base}/statements?method=GET", data=form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.get_json()["id"] == s["id"]


def test_the_alternate_syntax_refuses_other_query_parameters(lrs):
    form = {"Authorization": lrs.auth, "X-Experience-API-Version": "1.0.3"}
    response = lrs.client.post(f"{lrs.base}/statements?method=GET&limit=1", data=form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_head_answers_like_get_without_a_body(lrs):
    lrs.post_statements(statement())
    response = lrs.request("HEAD", "/statements")
    assert response.status_code == 200
    assert response.get_data() == b""
    assert response.headers["X-Experience-API-Consistent-Through"]


def test_cors_preflight_allows_xapi_headers_and_responses_expose_them(lrs):
    response = lrs.client.options(f"{lrs.base}/statements", headers={
        "Origin": "http://127.0.0.1:9999", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, content-type, x-experience-api-version"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:9999"
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    assert "x-experience-api-version" in response.headers["Access-Control-Allow-Headers"]
    response = lrs.request("GET", "/statements", headers={"Origin": "http://127.0.0.1:9999"})
    assert "X-Experience-API-Consistent-Through" in response.headers["Access-Control-Expose-Headers"]


def test_an_oversize_body_is_413(lrs):
    huge = statement(result={"response": "x" * 300_000})
    response = lrs.post_statements(huge)
    assert response.status_code == 413
    assert "SMEB_LRS_MAX_BODY" in response.get_json()["message"]


def test_about_lists_1_0_3_and_2_0_0_without_credentials(lrs):
    response = lrs.client.get(f"{lrs.base}/about")
    assert response.status_code == 200
    assert {"1.0.3", "2.0.0"} <= set(response.get_json()["version"])


def test_an_unknown_tenant_is_404(lrs):
    assert lrs.client.get("/lrs/nobody/xapi/statements", headers=lrs.headers()).status_code == 404


def test_post_statements_with_a_query_parameter_is_rejected(lrs):
    response = lrs.request("POST", "/statements", params={"statementId": str(uuid.uuid4())}, json_body=statement())
    assert response.status_code == 400


def test_xapi_2_0_0_refuses_the_alternate_request_syntax(lrs):
    form = {"Authorization": lrs.auth, "X-Experience-API-Version": "2.0.0"}
    response = lrs.client.post(f"{lrs.base}/statements?method=GET", data=form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "2.0.0" in response.get_json()["message"]


def test_ascending_paging_with_more_returns_oldest_first_once(lrs):
    batch = [statement() for _ in range(5)]
    for s in batch:
        lrs.post_statements(s)
    seen: list[str] = []
    response = lrs.get_statements(limit=2, ascending="true")
    while True:
        body = response.get_json()
        seen += [s["id"] for s in body["statements"]]
        if not body["more"]:
            break
        response = lrs.client.get(body["more"], headers=lrs.headers())
    assert seen == [s["id"] for s in batch]


def test_format_ids_keeps_anonymous_group_members_identifiers(lrs):
    s = statement()
    s["actor"] = {"objectType": "Group", "name": "Team", "member": [{"mbox": "mailto:a@example.com", "name": "A"}]}
    lrs.post_statements(s)
    got = lrs.get_statements(statementId=s["id"], format="ids").get_json()
    assert got["actor"] == {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}


def test_the_agent_parameter_must_be_an_agent_with_one_identifier(lrs):
    assert lrs.get_statements(agent="not json").status_code == 400
    two = json.dumps({"mbox": "mailto:a@example.com", "openid": "https://a.example.com"})
    assert lrs.get_statements(agent=two).status_code == 400
