"""Batch POSTs store exactly what one-at-a-time POSTs store (bulk inserts, one lookup per batch),
on SQLite and PostgreSQL; and the LRS's cheap statement normalisation matches the validator's."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.support.lrs_server import statement

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def voiding(target: str) -> dict[str, Any]:
    return statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target})


def ids(response) -> list[str]:
    return [s["id"] for s in response.get_json()["statements"]]


def test_a_large_batch_keeps_its_order_and_indexes_every_statement(lrs):
    batch = [
        statement(actor=f"mailto:learner{i}@example.com", activity=f"https://smeb.no/xapi/activity/{i}",
                  context={"contextActivities": {"parent": {"id": f"https://smeb.no/xapi/course/{i % 3}"}}})
        for i in range(120)
    ]
    response = lrs.post_statements(batch)
    assert response.status_code == 200
    assert response.get_json() == [s["id"] for s in batch]
    assert ids(lrs.get_statements(ascending="true", limit=40)) == [s["id"] for s in batch[:40]]
    assert ids(lrs.get_statements(limit=40)) == [s["id"] for s in reversed(batch[-40:])]
    assert ids(lrs.get_statements(agent=json.dumps({"mbox": "mailto:learner57@example.com"}))) == [batch[57]["id"]]
    assert ids(lrs.get_statements(activity="https://smeb.no/xapi/activity/99")) == [batch[99]["id"]]
    related = ids(lrs.get_statements(activity="https://smeb.no/xapi/course/1", related_activities="true", ascending="true", limit=50))
    assert related == [s["id"] for i, s in enumerate(batch) if i % 3 == 1]
    # The single-object contextActivities came back as an array (stored normalised).
    got = lrs.get_statements(statementId=batch[5]["id"]).get_json()
    assert got["context"]["contextActivities"]["parent"] == [{"id": "https://smeb.no/xapi/course/2"}]


def test_voiding_within_a_batch_and_across_batches_in_both_orders(lrs):
    a, b, c, d, e = (statement() for _ in range(5))
    void_a, void_d = voiding(a["id"]), voiding(d["id"])
    assert lrs.post_statements([a, b]).status_code == 200
    assert lrs.post_statements([void_a, c, void_d]).status_code == 200  # a stored earlier, d not yet
    assert lrs.post_statements([d, e]).status_code == 200
    f = statement()
    assert lrs.post_statements([f, voiding(f["id"])]).status_code == 200  # target and voider together
    for voided in (a, d, f):
        assert lrs.get_statements(statementId=voided["id"]).status_code == 404
        assert lrs.get_statements(voidedStatementId=voided["id"]).get_json()["id"] == voided["id"]
    for kept in (b, c, e):
        assert lrs.get_statements(statementId=kept["id"]).status_code == 200


def test_a_batch_with_stored_statements_stores_only_the_new_ones_or_nothing_on_conflict(lrs):
    a, b, c = statement(), statement(), statement()
    assert lrs.post_statements([a]).status_code == 200
    response = lrs.post_statements([a, b])
    assert response.status_code == 200
    assert response.get_json() == [a["id"], b["id"]]
    assert sorted(ids(lrs.get_statements())) == sorted([a["id"], b["id"]])
    changed = dict(a, verb={"id": "http://adlnet.gov/expapi/verbs/attempted"})
    assert lrs.post_statements([c, changed]).status_code == 409
    assert lrs.get_statements(statementId=c["id"]).status_code == 404


def _definitions(lrs, activity_ids: list[str]) -> dict[str, dict[str, Any]]:
    from smeb_lti.db import session_scope
    from smeb_lti.lrs import store

    with session_scope(lrs.app.extensions["smeb.sessions"]) as session:
        tenant = store.require_tenant(session, lrs.tenant)
        return store.canonical_definitions(session, tenant.id, activity_ids)


@pytest.mark.parametrize("scopes", [("all",), ("statements/write", "statements/read")], ids=["define", "no-define"])
def test_definitions_merged_from_one_batch_equal_those_merged_one_statement_at_a_time(lrs, scopes):
    auth = lrs.credential(*scopes)
    definitions = [
        {"name": {"en-US": "First"}, "type": "http://adlnet.gov/expapi/activities/course"},
        {"name": {"en-US": "Second", "nb": "Andre"}, "description": {"en-US": "About"}},
        {"name": {"nb": "Tredje"}, "type": "http://adlnet.gov/expapi/activities/module"},
    ]

    def statements_about(activity: str) -> list[dict[str, Any]]:
        made = []
        for definition in definitions:
            s = statement(activity=activity)
            s["object"]["definition"] = copy.deepcopy(definition)
            made.append(s)
        return made

    one_by_one, batched = "https://smeb.no/xapi/activity/one-by-one", "https://smeb.no/xapi/activity/batched"
    for s in statements_about(one_by_one):
        assert lrs.post_statements(s, auth=auth).status_code == 200
    assert lrs.post_statements(statements_about(batched), auth=auth).status_code == 200
    found = _definitions(lrs, [one_by_one, batched])
    assert found[batched] == found[one_by_one]
    assert found[batched]["name"]["nb"] in ("Tredje", "Andre")


def test_an_attachment_sent_twice_in_one_batch_and_again_later_is_stored_once(lrs):
    import hashlib

    from smeb_lti.lrs import multipart

    data = b"the same certificate"
    sha2 = hashlib.sha256(data).hexdigest()

    def with_attachment() -> dict[str, Any]:
        return statement(attachments=[{
            "usageType": "http://id.tincanapi.com/attachment/certificate_of_completion",
            "display": {"en-US": "Certificate"}, "contentType": "text/plain", "length": len(data), "sha2": sha2,
        }])

    for batch in ([with_attachment(), with_attachment()], [with_attachment()]):
        body, content_type = multipart.build(json.dumps(batch).encode(), [(sha2, "text/plain", data)])
        response = lrs.request("POST", "/statements", data=body, content_type=content_type)
        assert response.status_code == 200, response.get_json()
        got = lrs.request("GET", "/statements", params={"statementId": batch[0]["id"], "attachments": "true"})
        assert data in got.data


@pytest.mark.parametrize("shape", ["object", "array", "substatement", "none", "odd"])
def test_normalize_statement_equals_the_deep_copy_normalisation_and_leaves_the_input_alone(shape):
    from xapi.validation import normalize_statement

    def deep_copy_normalisation(statement: dict) -> dict:  # what normalize_statement did before sharing parts
        result = copy.deepcopy(statement)
        for node in (result, result.get("object") if isinstance(result.get("object"), dict) else None):
            context = node.get("context") if isinstance(node, dict) else None
            activities = context.get("contextActivities") if isinstance(context, dict) else None
            if isinstance(activities, dict):
                for key, value in activities.items():
                    if isinstance(value, dict):
                        activities[key] = [value]
        return result

    s = statement()
    if shape == "object":
        s["context"] = {"contextActivities": {"parent": {"id": "https://x/p"}, "grouping": [{"id": "https://x/g"}]}}
    elif shape == "array":
        s["context"] = {"contextActivities": {"parent": [{"id": "https://x/p"}]}, "registration": "r"}
    elif shape == "substatement":
        s["context"] = {"contextActivities": {"other": {"id": "https://x/o"}}}
        s["object"] = {"objectType": "SubStatement", "actor": s["actor"], "verb": s["verb"],
                       "object": {"id": "https://x/a"}, "context": {"contextActivities": {"category": {"id": "https://x/c"}}}}
    elif shape == "odd":  # not valid xAPI, but neither function may fail on it
        s["context"] = {"contextActivities": "nonsense"}
        s["object"] = {"objectType": "SubStatement", "context": [1, 2]}
    before = copy.deepcopy(s)
    assert normalize_statement(s) == deep_copy_normalisation(s)
    assert s == before
