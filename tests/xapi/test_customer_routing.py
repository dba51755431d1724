"""Routing per customer (pure): the destination's customer rules, the one routing function, per-customer pseudonyms."""

from __future__ import annotations

import json

import pytest

from xapi.actors import customer_key, legacy_account_name, opaque_account_name, pseudonymous_actor
from xapi.customers import CustomerMatch, CustomerScope, CustomerScopeError
from xapi.delivery.destinations import Destination, DestinationConfigError, parse_upstreams, route

LMS = "https://lms.example.no"
CANVAS = "https://canvas.instructure.com"
KEY = b"installation-key-0123456789abcdef"
ELEKTRO = CustomerScope(LMS, "client-a", "dep-a", "ctx-a")
KRAFT = CustomerScope(LMS, "client-a", "dep-a", "ctx-b")  # same LMS and deployment, another course context
CANVAS_1 = CustomerScope(CANVAS, "client-c1", "dep-c1", "ctx-a")
CANVAS_2 = CustomerScope(CANVAS, "client-c2", "dep-c2", "ctx-a")


def _upstreams(*entries: dict[str, object]) -> dict[str, Destination]:
    return parse_upstreams(json.dumps(list(entries)))


def test_a_destination_is_bound_to_its_customers_and_route_decides_alone() -> None:
    found = _upstreams(
        {"name": "elektro", "endpoint": "https://lrs.elektro.example/xapi/", "customers": [{"issuer": LMS, "context_id": "ctx-a"}]},
        {"name": "kraft", "endpoint": "https://lrs.kraft.example/xapi/",
         "customers": [{"issuer": LMS, "client_id": "client-a", "deployment_id": "dep-a", "context_id": "ctx-b"}]},
        {"name": "canvas-1", "endpoint": "https://lrs.c1.example/xapi/", "customers": [{"issuer": CANVAS, "client_id": "client-c1"}]},
        {"name": "operator", "endpoint": "https://lrs.smeb.example/xapi/"},  # unbound: every customer
    )
    assert route(ELEKTRO, found) == ["elektro", "operator"]
    assert route(KRAFT, found) == ["kraft", "operator"]
    assert route(CANVAS_1, found) == ["canvas-1", "operator"]
    assert route(CANVAS_2, found) == ["operator"]
    assert route(None, found) == ["operator"]  # a statement without a customer goes to no customer's LRS
    assert found["operator"].customers is None and found["elektro"].customers == (CustomerMatch(LMS, context_id="ctx-a"),)


def test_any_rule_of_a_destination_matches_and_every_named_field_must_equal() -> None:
    both = _upstreams({"name": "bht", "endpoint": "https://lrs.bht.example/xapi/",
                       "customers": [{"issuer": LMS, "context_id": "ctx-b"}, {"issuer": CANVAS, "deployment_id": "dep-c2"}]})
    assert route(KRAFT, both) == route(CANVAS_2, both) == ["bht"]
    assert route(ELEKTRO, both) == route(CANVAS_1, both) == []
    # A rule naming a client id never matches a scope that does not know its client id.
    assert not CustomerMatch(LMS, client_id="client-a").matches(CustomerScope(LMS, None, "dep-a", "ctx-a"))


def test_explicit_all_customers_and_ags_destinations_are_never_lrs_routes() -> None:
    found = _upstreams({"name": "own", "endpoint": "https://lrs.smeb.example/xapi/", "customers": "all"},
                       {"name": "ags:1", "endpoint": "https://lms.example.no/ags", "kind": "ags"})
    assert route(ELEKTRO, found) == ["own"]


@pytest.mark.parametrize(("customers", "message"), [
    ([{"issuer": LMS, "company": "x"}], "unknown field(s) ['company']; a customer rule may name ['issuer', 'client_id', 'deployment_id', 'context_id']"),
    ([{"context_id": "ctx-a"}], "'issuer' (the LTI platform issuer, see `smeb platform list`) is required"),
    ([{"issuer": LMS, "context_id": ""}], "'context_id' must be a non-empty string"),
    ([], 'must be "all" or a non-empty list of rules'),
    ("everyone", "is not valid JSON"),
    (["ctx-a"], "must be an object like"),
])
def test_malformed_customer_rules_are_refused_with_the_entry_named(customers: object, message: str) -> None:
    with pytest.raises(DestinationConfigError) as error:
        _upstreams({"name": "x", "endpoint": "https://lrs.example/xapi/", "customers": customers})
    assert message in str(error.value)
    assert "SMEB_LRS_UPSTREAMS[0].customers" in str(error.value)


def test_unknown_destination_fields_are_still_refused_with_the_allowed_ones_named() -> None:
    with pytest.raises(DestinationConfigError, match=r"unknown field\(s\) \['issuer'\]; a destination may name .*'customers'"):
        _upstreams({"name": "x", "endpoint": "https://lrs.example/xapi/", "issuer": LMS})


def test_a_customer_scope_needs_an_issuer_and_no_empty_fields() -> None:
    with pytest.raises(CustomerScopeError, match="issuer"):
        CustomerScope("")
    with pytest.raises(CustomerScopeError, match="deployment_id"):
        CustomerScope(LMS, "client-a", "", None)


def test_customers_round_trip_through_the_database_column_text() -> None:
    destination = _upstreams({"name": "x", "endpoint": "https://lrs.example/xapi/",
                              "customers": [{"issuer": LMS, "deployment_id": "dep-a"}]})["x"]
    text = destination.customers_json()
    assert text is not None
    again = Destination.from_mapping({"name": "x", "endpoint": "https://lrs.example/xapi/", "customers": text}, "row")
    assert again.customers == destination.customers


# -- pseudonyms per customer ---------------------------------------------------------------------


def test_one_person_in_two_companies_gets_two_unrelated_ids() -> None:
    """The same LMS user id in two companies (same LMS; and two Canvas customers) gives unrelated account names."""
    for first, second in ((ELEKTRO, KRAFT), (CANVAS_1, CANVAS_2)):
        one = pseudonymous_actor(first.issuer, "user-42", key=customer_key(KEY, first))["account"]["name"]
        two = pseudonymous_actor(second.issuer, "user-42", key=customer_key(KEY, second))["account"]["name"]
        assert one != two
        assert len(one) == len(two) == 32
        # Nothing shared beyond chance: no common prefix and few equal positions (unrelated hex strings).
        assert one[:4] != two[:4]
        assert sum(a == b for a, b in zip(one, two, strict=True)) < 10
        # Neither is the legacy (one per LMS) name, which the two companies would have shared.
        legacy = legacy_account_name(KEY, first.issuer, "user-42")
        assert legacy not in (one, two)
        assert legacy == opaque_account_name(KEY, second.issuer, "user-42")
    # Stable within one company, and every field of the scope counts.
    assert customer_key(KEY, ELEKTRO) == customer_key(KEY, CustomerScope(LMS, "client-a", "dep-a", "ctx-a"))
    variants = {customer_key(KEY, s) for s in (ELEKTRO, CustomerScope(LMS, "client-b", "dep-a", "ctx-a"),
                                               CustomerScope(LMS, "client-a", "dep-b", "ctx-a"), CustomerScope(LMS, "client-a", "dep-a", None))}
    assert len(variants) == 4
    assert customer_key(KEY + b"x", ELEKTRO) != customer_key(KEY, ELEKTRO)
