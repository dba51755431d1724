"""The SMEB xAPI Profile document and statement-template matching."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from xapi import statements as b
from xapi.constants import MINTED_IRIS, REUSED_IRIS, SMEB_BASE, SMEB_PROFILE, SMEB_PROFILE_VERSION, Cmi5
from xapi.errors import ProfileError
from xapi.profile import evaluate_location, load_profile, match_templates, profile_problems, template_failures

T = "https://smeb.no/xapi/templates/"
LEARNER = {"objectType": "Agent", "account": {"homePage": "https://lti.smeb.no", "name": "0f3a"}}
REG = "0b5c2e1a-9d8f-4c3b-8a7e-6f5d4c3b2a10"


def test_profile_is_well_formed() -> None:
    assert profile_problems(load_profile()) == []


def test_profile_identity_and_counts() -> None:
    profile = load_profile()
    assert profile["id"] == SMEB_PROFILE
    assert [v["id"] for v in profile["versions"]] == [SMEB_PROFILE_VERSION]
    assert {c["id"] for c in profile["concepts"]} == set(MINTED_IRIS)
    assert len(profile["templates"]) >= 30
    assert any(p.get("primary") and p["id"].endswith("course-attempt") for p in profile["patterns"])


def test_ids_are_unique_and_templates_use_known_vocabulary() -> None:
    profile = load_profile()
    ids = [item["id"] for key in ("concepts", "templates", "patterns") for item in profile[key]]
    assert len(ids) == len(set(ids))
    concept_ids = {c["id"] for c in profile["concepts"]}
    for template in profile["templates"]:
        for iri in [
            template.get("verb"),
            template.get("objectActivityType"),
            *template.get("contextParentActivityType", []),
        ]:
            assert iri is None or iri in concept_ids or iri in REUSED_IRIS, (template["id"], iri)
    assert all(c["id"].startswith(SMEB_BASE) for c in profile["concepts"])


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (lambda p: p["templates"].append(copy.deepcopy(p["templates"][0])), "duplicate ids"),
        (
            lambda p: p["templates"][0].__setitem__("verb", "https://example.com/verbs/unknown"),
            "neither a Verb concept",
        ),
        (
            lambda p: p["templates"][0]["rules"].append({"location": "$.result..score", "presence": "included"}),
            "unsupported JSONPath",
        ),
        (
            lambda p: p["templates"][0]["rules"].append(
                {"location": "$.result.extensions['https://example.com/x']", "presence": "included"}
            ),
            "extension https://example.com/x",
        ),
        (lambda p: p["templates"][0]["rules"].append({"location": "$.result"}), "no presence/any/all/none"),
        (lambda p: p["patterns"][0].__setitem__("alternates", []), "exactly one of"),
        (
            lambda p: p["patterns"].append(
                {**p["patterns"][1], "id": SMEB_BASE + "patterns/loop", "optional": SMEB_BASE + "patterns/loop"}
            ),
            "contains itself",
        ),
        (
            lambda p: p["patterns"][3].__setitem__("alternates", [SMEB_BASE + "patterns/optional-launch"]),
            "must not contain optional",
        ),
        (lambda p: p["concepts"][0].__setitem__("inScheme", "https://smeb.no/xapi/profile/v0"), "inScheme"),
        (lambda p: p.__setitem__("@context", "https://example.com/context"), "@context"),
    ],
    ids=[
        "duplicate id",
        "unknown verb",
        "bad JSONPath",
        "unknown extension",
        "empty rule",
        "two pattern kinds",
        "pattern cycle",
        "optional in alternates",
        "bad inScheme",
        "bad context",
    ],
)
def test_profile_problems_are_detected(mutation: Any, expected: str) -> None:
    profile = load_profile()
    mutation(profile)
    assert any(expected in problem for problem in profile_problems(profile)), profile_problems(profile)


@pytest.mark.parametrize(
    ("location", "values", "unmatched"),
    [
        ("$.verb.id", ["http://adlnet.gov/expapi/verbs/completed"], 0),
        ("$.context.contextActivities.category[*].id", [SMEB_PROFILE_VERSION], 0),
        ("$.context.contextActivities.category[0].id", [SMEB_PROFILE_VERSION], 0),
        ("$.result.score", [], 1),
        ("$.result.extensions['https://example.com/a.b']", [1], 0),
        ("$.result.extensions['https://example.com/a.b', 'https://example.com/none']", [1], 1),
        ("$.verb.id | $.object.id", ["http://adlnet.gov/expapi/verbs/completed", "https://smeb.no/courses/c"], 0),
        ("$.result.*", [{"https://example.com/a.b": 1}, True], 0),
    ],
)
def test_location_evaluation(location: str, values: list[Any], unmatched: int) -> None:
    statement = b.completed(
        LEARNER, "course", b.Activity("https://smeb.no/courses/c"), b.StatementContext(registration=REG)
    )
    statement["result"]["extensions"] = {"https://example.com/a.b": 1}
    found, missing = evaluate_location(statement, location)
    assert (sorted(map(repr, found)), missing) == (sorted(map(repr, values)), unmatched)


def test_unsupported_location_raises_profile_error() -> None:
    with pytest.raises(ProfileError, match="must start with"):
        evaluate_location({}, "result.score")


def test_foreign_cmi5_au_statement_matches_cmi5_template_without_smeb_category() -> None:
    statement = {
        "id": "3f1c9a0e-6a47-4a0b-9b51-0c2f6b7e8d10",
        "timestamp": "2026-11-21T10:15:30.123Z",
        "actor": LEARNER,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://au.example/1"},
        "result": {"completion": True, "duration": "PT1M"},
        "context": {
            "registration": REG,
            "contextActivities": {
                "category": {"id": Cmi5.CATEGORY_MOVEON},
                "grouping": [{"id": "https://pub.example/au1"}],
            },
            "extensions": {Cmi5.EXT_SESSION_ID: "s-1"},
        },
    }
    assert match_templates(statement) == []  # the cmi5 category is missing
    statement["context"]["contextActivities"]["category"] = [{"id": Cmi5.CATEGORY_CMI5}, {"id": Cmi5.CATEGORY_MOVEON}]
    assert match_templates(statement) == [T + "cmi5-completed"]


def test_excluded_rule_keeps_reflection_text_out() -> None:
    statement = b.reflection_written(LEARNER, b.Activity("https://smeb.no/courses/c/reflection"))
    statement["result"]["response"] = "my private thoughts"
    assert T + "reflection-written" not in match_templates(statement)
    assert "$.result.response must be absent" in template_failures(statement, _template("reflection-written"))


def test_all_rule_rejects_wrong_success_value() -> None:
    statement = b.passed(LEARNER, "course", b.Activity("https://smeb.no/courses/c"), b.Score(scaled=0.9))
    statement["result"]["success"] = False
    failures = template_failures(statement, _template("passed"))
    assert any("values must all be in [True]" in failure for failure in failures)


def test_none_rule_rejects_moveon_on_initialized() -> None:
    statement = {
        "id": "3f1c9a0e-6a47-4a0b-9b51-0c2f6b7e8d11",
        "timestamp": "2026-11-21T10:15:30.123Z",
        "actor": LEARNER,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/initialized", "display": {"en": "initialized", "nb": "startet"}},
        "object": {"objectType": "Activity", "id": "https://au.example/1"},
        "context": {
            "registration": REG,
            "contextActivities": {
                "grouping": [{"objectType": "Activity", "id": "https://pub.example/1"}],
                "category": [
                    {"objectType": "Activity", "id": SMEB_PROFILE_VERSION, "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}},
                    {"objectType": "Activity", "id": Cmi5.CATEGORY_CMI5},
                ],
            },
            "extensions": {Cmi5.EXT_SESSION_ID: "s"},
        },
    }
    assert match_templates(statement) == [T + "cmi5-initialized"]
    statement["context"]["contextActivities"]["category"].append({"id": Cmi5.CATEGORY_MOVEON})
    assert T + "cmi5-initialized" not in match_templates(statement)


def test_boolean_true_does_not_match_number_one() -> None:
    statement = b.completed(LEARNER, "course", b.Activity("https://smeb.no/courses/c"))
    statement["result"]["completion"] = 1
    assert T + "completed" not in match_templates(statement)


def _template(slug: str) -> dict[str, Any]:
    return next(t for t in load_profile()["templates"] if t["id"] == T + slug)
