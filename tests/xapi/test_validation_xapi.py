"""Statement validation: one invalid statement per rule, the spec's examples, and xAPI 2.0 cases."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from xapi.errors import StatementValidationError
from xapi.validation import (
    RULES,
    is_valid_duration,
    is_valid_language_tag,
    is_valid_timestamp,
    iter_statement_issues,
    loads_strict,
    normalize_statement,
    validate_statement,
    validate_statements,
)

SPEC_EXAMPLES = sorted((Path(__file__).parent / "fixtures" / "spec_1_0_3").glob("*.json"))
DELETE = object()

BASE: dict[str, Any] = {
    "id": "3f1c9a0e-6a47-4a0b-9b51-0c2f6b7e8d10",
    "actor": {"objectType": "Agent", "account": {"homePage": "https://lti.smeb.no", "name": "a1b2c3"}},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
    "object": {
        "objectType": "Activity",
        "id": "https://smeb.no/courses/hms/lesson-1",
        "definition": {
            "name": {"nb": "Leksjon 1", "en": "Lesson 1"},
            "type": "http://adlnet.gov/expapi/activities/lesson",
        },
    },
    "result": {"completion": True, "duration": "PT4M30.5S", "score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}},
    "context": {
        "registration": "0b5c2e1a-9d8f-4c3b-8a7e-6f5d4c3b2a10",
        "contextActivities": {"parent": [{"id": "https://smeb.no/courses/hms"}]},
        "platform": "SMEB",
        "language": "nb-NO",
    },
    "timestamp": "2026-11-21T10:15:30.123Z",
}
AGENT_OBJECT = {"objectType": "Agent", "mbox": "mailto:coach@example.com"}
SUBSTATEMENT = {
    "objectType": "SubStatement",
    "actor": {"mbox": "mailto:learner@example.com"},
    "verb": {"id": "http://example.com/visited"},
    "object": {"id": "http://example.com/website"},
}
ATTACHMENT = {
    "usageType": "http://adlnet.gov/expapi/attachments/signature",
    "display": {"en": "Signature"},
    "contentType": "application/octet-stream",
    "length": 4235,
    "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
}


def mutate(statement: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Copy ``statement`` and set (or DELETE) values at dotted paths; list indexes are digits."""
    result = copy.deepcopy(statement)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node: Any = result
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        key: Any = int(last) if isinstance(node, list) else last
        if value is DELETE:
            if key in node or isinstance(node, list):
                del node[key]
        else:
            node[key] = copy.deepcopy(value)
    return result


# (case id, changes to BASE, expected rule, expected path, version)
INVALID: list[tuple[str, dict[str, Any], str, str, str]] = [
    ("two IFIs", {"actor.mbox": "mailto:a@example.com"}, "xapi-ifi-exactly-one", "$.actor", "1.0.3"),
    ("no IFI", {"actor": {"objectType": "Agent", "name": "Kari"}}, "xapi-ifi-exactly-one", "$.actor", "1.0.3"),
    (
        "identified group with two IFIs",
        {"actor": {"objectType": "Group", "mbox": "mailto:g@example.com", "openid": "https://id.example.com/g"}},
        "xapi-ifi-exactly-one",
        "$.actor",
        "1.0.3",
    ),
    (
        "anonymous group without member",
        {"actor": {"objectType": "Group", "name": "Team"}},
        "xapi-group-anonymous-member",
        "$.actor",
        "1.0.3",
    ),
    (
        "group member is a group",
        {"actor": {"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:g@example.com"}]}},
        "xapi-group-member-agent",
        "$.actor.member[0]",
        "1.0.3",
    ),
    (
        "group member without IFI",
        {"actor": {"objectType": "Group", "member": [{"name": "Ola"}]}},
        "xapi-ifi-exactly-one",
        "$.actor.member[0]",
        "1.0.3",
    ),
    ("actor objectType Activity", {"actor.objectType": "Activity"}, "xapi-object-type", "$.actor.objectType", "1.0.3"),
    ("bad statement UUID", {"id": "3f1c9a0e6a474a0b9b510c2f6b7e8d10"}, "xapi-format-uuid", "$.id", "1.0.3"),
    (
        "bad registration UUID",
        {"context.registration": "not-a-uuid"},
        "xapi-format-uuid",
        "$.context.registration",
        "1.0.3",
    ),
    (
        "timestamp without zone",
        {"timestamp": "2026-11-21T10:15:30.123"},
        "xapi-format-timestamp",
        "$.timestamp",
        "1.0.3",
    ),
    (
        "timestamp impossible date",
        {"timestamp": "2026-02-30T10:15:30Z"},
        "xapi-format-timestamp",
        "$.timestamp",
        "1.0.3",
    ),
    ("timestamp date only", {"timestamp": "2026-11-21"}, "xapi-format-timestamp", "$.timestamp", "1.0.3"),
    ("bad stored", {"stored": "yesterday"}, "xapi-format-timestamp", "$.stored", "1.0.3"),
    ("duration without unit", {"result.duration": "PT1H30"}, "xapi-format-duration", "$.result.duration", "1.0.3"),
    (
        "duration alternative format",
        {"result.duration": "P0003-00-00T00:00:00"},
        "xapi-format-duration",
        "$.result.duration",
        "1.0.3",
    ),
    ("duration weeks combined", {"result.duration": "P4W1D"}, "xapi-format-duration", "$.result.duration", "1.0.3"),
    ("scaled 1.5", {"result.score.scaled": 1.5}, "xapi-score-scaled-range", "$.result.score.scaled", "1.0.3"),
    ("raw above max", {"result.score.raw": 11}, "xapi-score-raw-range", "$.result.score.raw", "1.0.3"),
    ("raw below min", {"result.score.raw": -1}, "xapi-score-raw-range", "$.result.score.raw", "1.0.3"),
    (
        "min not below max",
        {"result.score.min": 10, "result.score.raw": 10},
        "xapi-score-min-max",
        "$.result.score.min",
        "1.0.3",
    ),
    ("empty agent name", {"actor.name": ""}, "xapi-empty-string", "$.actor.name", "1.0.3"),
    (
        "empty language map value",
        {"verb.display": {"en-US": ""}},
        "xapi-empty-string",
        "$.verb.display['en-US']",
        "1.0.3",
    ),
    (
        "revision with Agent object",
        {"object": AGENT_OBJECT, "context.revision": "2", "context.platform": DELETE},
        "xapi-context-revision-activity-only",
        "$.context.revision",
        "1.0.3",
    ),
    (
        "platform with StatementRef object",
        {"object": {"objectType": "StatementRef", "id": "9e13cefd-53d3-4eac-b5ed-2cf6693903bb"}},
        "xapi-context-platform-activity-only",
        "$.context.platform",
        "1.0.3",
    ),
    (
        "voided with Activity object",
        {"verb.id": "http://adlnet.gov/expapi/verbs/voided"},
        "xapi-voiding-statementref",
        "$.object",
        "1.0.3",
    ),
    (
        "bad language tag key",
        {"verb.display": {"en_US": "completed"}},
        "xapi-language-map-key",
        "$.verb.display.en_US",
        "1.0.3",
    ),
    (
        "bad context language",
        {"context.language": "norsk bokmål"},
        "xapi-format-langtag",
        "$.context.language",
        "1.0.3",
    ),
    (
        "unknown top-level property",
        {"learnerEmail": "kari@example.com"},
        "xapi-unknown-property",
        "$.learnerEmail",
        "1.0.3",
    ),
    ("unknown actor property", {"actor.email": "kari@example.com"}, "xapi-unknown-property", "$.actor.email", "1.0.3"),
    (
        "contextAgents in 1.0.3",
        {"context.contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:c@example.com"}}]},
        "xapi2-only-property",
        "$.context.contextAgents",
        "1.0.3",
    ),
    (
        "contextGroups in 1.0.3",
        {"context.contextGroups": []},
        "xapi2-only-property",
        "$.context.contextGroups",
        "1.0.3",
    ),
    ("missing verb", {"verb": DELETE}, "xapi-statement-required", "$.verb", "1.0.3"),
    ("verb without id", {"verb.id": DELETE}, "xapi-required-property", "$.verb.id", "1.0.3"),
    (
        "verb id without scheme",
        {"verb.id": "adlnet.gov/expapi/verbs/completed"},
        "xapi-format-iri",
        "$.verb.id",
        "1.0.3",
    ),
    ("activity id with space", {"object.id": "https://smeb.no/a b"}, "xapi-format-iri", "$.object.id", "1.0.3"),
    (
        "activity type http without host",
        {"object.definition.type": "http:lesson"},
        "xapi-format-iri",
        "$.object.definition.type",
        "1.0.3",
    ),
    ("mbox without mailto", {"actor": {"mbox": "kari@example.com"}}, "xapi-format-mailto", "$.actor.mbox", "1.0.3"),
    (
        "mbox_sha1sum too short",
        {"actor": {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee"}},
        "xapi-format-sha1",
        "$.actor.mbox_sha1sum",
        "1.0.3",
    ),
    ("openid not an IRI", {"actor": {"openid": "kari"}}, "xapi-format-iri", "$.actor.openid", "1.0.3"),
    (
        "account without name",
        {"actor.account.name": DELETE},
        "xapi-account-homepage-name",
        "$.actor.account.name",
        "1.0.3",
    ),
    (
        "account homePage not an IRI",
        {"actor.account.homePage": "lti.smeb.no"},
        "xapi-format-iri",
        "$.actor.account.homePage",
        "1.0.3",
    ),
    ("version 2.0.0 in 1.0.3", {"version": "2.0.0"}, "xapi-version", "$.version", "1.0.3"),
    ("version 1.1.0", {"version": "1.1.0"}, "xapi-version", "$.version", "1.0.3"),
    ("unknown object objectType", {"object.objectType": "Person"}, "xapi-object-type", "$.object.objectType", "1.0.3"),
    (
        "agent object without objectType",
        {"object": {"mbox": "mailto:coach@example.com"}, "context.platform": DELETE},
        "xapi-object-agent-object-type",
        "$.object",
        "1.0.3",
    ),
    (
        "SubStatement with id",
        {"object": {**SUBSTATEMENT, "id": "9e13cefd-53d3-4eac-b5ed-2cf6693903bb"}, "context.platform": DELETE},
        "xapi-substatement-forbidden-property",
        "$.object.id",
        "1.0.3",
    ),
    (
        "nested SubStatement",
        {"object": {**SUBSTATEMENT, "object": SUBSTATEMENT}, "context.platform": DELETE},
        "xapi-substatement-nested",
        "$.object.object",
        "1.0.3",
    ),
    (
        "SubStatement actor without IFI",
        {"object": {**SUBSTATEMENT, "actor": {"name": "x"}}, "context.platform": DELETE},
        "xapi-ifi-exactly-one",
        "$.object.actor",
        "1.0.3",
    ),
    (
        "StatementRef with bad id",
        {"object": {"objectType": "StatementRef", "id": "42"}, "context.platform": DELETE},
        "xapi-format-uuid",
        "$.object.id",
        "1.0.3",
    ),
    (
        "unknown interactionType",
        {"object.definition.interactionType": "essay"},
        "xapi-interaction-type",
        "$.object.definition.interactionType",
        "1.0.3",
    ),
    (
        "choices on likert",
        {"object.definition.interactionType": "likert", "object.definition.choices": [{"id": "a"}]},
        "xapi-interaction-component-list",
        "$.object.definition.choices",
        "1.0.3",
    ),
    (
        "duplicate component ids",
        {"object.definition.interactionType": "choice", "object.definition.choices": [{"id": "a"}, {"id": "a"}]},
        "xapi-interaction-component-id-unique",
        "$.object.definition.choices[1].id",
        "1.0.3",
    ),
    (
        "correctResponsesPattern without interactionType",
        {"object.definition.correctResponsesPattern": ["true"]},
        "xapi-interaction-type-required",
        "$.object.definition",
        "1.0.3",
    ),
    (
        "result extension key not an IRI",
        {"result.extensions": {"progress": 50}},
        "xapi-extension-key-iri",
        "$.result.extensions.progress",
        "1.0.3",
    ),
    (
        "context extension key not an IRI",
        {"context.extensions": {"smeb session": "x"}},
        "xapi-extension-key-iri",
        "$.context.extensions['smeb session']",
        "1.0.3",
    ),
    (
        "unknown contextActivities key",
        {"context.contextActivities.parents": [{"id": "https://smeb.no/c"}]},
        "xapi-context-activities-key",
        "$.context.contextActivities.parents",
        "1.0.3",
    ),
    (
        "contextActivities value is a string",
        {"context.contextActivities.parent": "https://smeb.no/c"},
        "xapi-type",
        "$.context.contextActivities.parent",
        "1.0.3",
    ),
    (
        "team is an Agent",
        {"context.team": {"mbox": "mailto:t@example.com"}},
        "xapi-context-team-group",
        "$.context.team",
        "1.0.3",
    ),
    ("null outside extensions", {"result.success": None}, "xapi-type", "$.result.success", "1.0.3"),
    ("string where boolean", {"result.completion": "true"}, "xapi-type", "$.result.completion", "1.0.3"),
    ("string where number", {"result.score.scaled": "0.5"}, "xapi-type", "$.result.score.scaled", "1.0.3"),
    (
        "attachment without sha2",
        {"attachments": [{k: v for k, v in ATTACHMENT.items() if k != "sha2"}]},
        "xapi-attachment-required",
        "$.attachments[0].sha2",
        "1.0.3",
    ),
    (
        "attachment bad sha2",
        {"attachments": [{**ATTACHMENT, "sha2": "abc"}]},
        "xapi-format-sha2",
        "$.attachments[0].sha2",
        "1.0.3",
    ),
    (
        "attachment bad contentType",
        {"attachments": [{**ATTACHMENT, "contentType": "pdf"}]},
        "xapi-format-mimetype",
        "$.attachments[0].contentType",
        "1.0.3",
    ),
    (
        "attachment negative length",
        {"attachments": [{**ATTACHMENT, "length": -1}]},
        "xapi-range",
        "$.attachments[0].length",
        "1.0.3",
    ),
    (
        "authority group of three",
        {
            "authority": {
                "objectType": "Group",
                "member": [{"mbox": "mailto:a@x.no"}, {"mbox": "mailto:b@x.no"}, {"mbox": "mailto:c@x.no"}],
            }
        },
        "xapi-authority-agent-or-oauth-group",
        "$.authority",
        "1.0.3",
    ),
    (
        "group without objectType as team",
        {"context.team": {"member": []}},
        "xapi-context-team-group",
        "$.context.team",
        "1.0.3",
    ),
    # xAPI 2.0 (IEEE 9274.1.1)
    (
        "2.0 timestamp without seconds",
        {"timestamp": "2026-11-21T10:15Z"},
        "xapi2-timestamp-rfc3339",
        "$.timestamp",
        "2.0.0",
    ),
    (
        "2.0 timestamp unknown offset",
        {"timestamp": "2026-11-21T10:15:30.123-00:00"},
        "xapi2-timestamp-rfc3339",
        "$.timestamp",
        "2.0.0",
    ),
    (
        "2.0 timestamp basic offset",
        {"timestamp": "2026-11-21T10:15:30+0100"},
        "xapi2-timestamp-rfc3339",
        "$.timestamp",
        "2.0.0",
    ),
    ("2.0 version 3.0.0", {"version": "3.0.0"}, "xapi-version", "$.version", "2.0.0"),
    (
        "2.0 contextAgent without objectType",
        {"context.contextAgents": [{"agent": {"mbox": "mailto:c@example.com"}}]},
        "xapi-required-property",
        "$.context.contextAgents[0].objectType",
        "2.0.0",
    ),
    (
        "2.0 contextAgent agent is a Group",
        {"context.contextAgents": [{"objectType": "contextAgent", "agent": {"objectType": "Group", "member": []}}]},
        "xapi2-context-agent-is-agent",
        "$.context.contextAgents[0].agent",
        "2.0.0",
    ),
    (
        "2.0 contextAgent agent without IFI",
        {"context.contextAgents": [{"objectType": "contextAgent", "agent": {"name": "Coach"}}]},
        "xapi-ifi-exactly-one",
        "$.context.contextAgents[0].agent",
        "2.0.0",
    ),
    (
        "2.0 empty relevantTypes",
        {
            "context.contextAgents": [
                {"objectType": "contextAgent", "agent": {"mbox": "mailto:c@example.com"}, "relevantTypes": []}
            ]
        },
        "xapi2-relevant-types-nonempty",
        "$.context.contextAgents[0].relevantTypes",
        "2.0.0",
    ),
    (
        "2.0 contextGroup anonymous without member",
        {"context.contextGroups": [{"objectType": "contextGroup", "group": {"objectType": "Group"}}]},
        "xapi-group-anonymous-member",
        "$.context.contextGroups[0].group",
        "2.0.0",
    ),
    (
        "2.0 contextGroup group without objectType",
        {"context.contextGroups": [{"objectType": "contextGroup", "group": {"member": []}}]},
        "xapi-group-object-type",
        "$.context.contextGroups[0].group.objectType",
        "2.0.0",
    ),
    (
        "2.0 contextGroup wrong objectType",
        {"context.contextGroups": [{"objectType": "contextAgent", "group": {"objectType": "Group", "member": []}}]},
        "xapi-object-type",
        "$.context.contextGroups[0].objectType",
        "2.0.0",
    ),
]


@pytest.mark.parametrize(
    ("changes", "rule", "path", "version"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_invalid_statement_is_rejected_with_rule_and_path(
    changes: dict[str, Any], rule: str, path: str, version: str
) -> None:
    statement = mutate(BASE, changes)
    with pytest.raises(StatementValidationError) as caught:
        validate_statement(statement, version)
    found = {(issue.rule, issue.path) for issue in caught.value.issues}
    assert (rule, path) in found, f"expected {rule} at {path}, got:\n{caught.value}"
    assert rule in RULES


def test_every_rule_has_an_invalid_case_or_a_dedicated_test() -> None:
    covered = {case[2] for case in INVALID} | {"xapi-duplicate-property"}
    assert set(RULES) - covered == set()


def test_base_statement_is_valid_in_both_versions() -> None:
    validate_statement(BASE)
    validate_statement(BASE, "2.0.0")


@pytest.mark.parametrize("example", SPEC_EXAMPLES, ids=[path.stem for path in SPEC_EXAMPLES])
def test_spec_example_is_valid(example: Path) -> None:
    validate_statement(json.loads(example.read_text(encoding="utf-8")))


def test_spec_examples_are_present() -> None:
    assert len(SPEC_EXAMPLES) >= 20


@pytest.mark.parametrize(
    "changes",
    [
        {"id": DELETE, "timestamp": DELETE, "context": DELETE},
        {
            "stored": "2026-11-21T10:15:31.000+01:00",
            "authority": {"objectType": "Agent", "account": {"homePage": "https://lrs.smeb.no", "name": "smeb"}},
        },
        {
            "authority": {
                "objectType": "Group",
                "member": [
                    {"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth_consumer_x75db"}},
                    {"mbox": "mailto:bob@example.com"},
                ],
            }
        },
        {
            "actor": {
                "objectType": "Group",
                "name": "Team",
                "member": [{"mbox": "mailto:a@example.com"}, {"openid": "https://id.example.com/b"}],
            }
        },
        {"actor": {"objectType": "Group", "account": {"homePage": "https://smeb.no", "name": "team-7"}}},
        {
            "context.contextActivities": {
                "parent": {"id": "https://smeb.no/c"},
                "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}],
            }
        },
        {"result.extensions": {"https://smeb.no/xapi/extensions/progress": None, "https://example.com/x": ""}},
        {"result.response": ""},
        {"version": "1.0.0"},
        {"timestamp": "2026-11-21T10:15+01"},
        {"result.duration": "P3Y1M29DT4H35M59.14S"},
        {"result.duration": "PT0.5H"},
        {"verb.display": {"zh-Hant-TW": "完成", "x-klingon": "x", "i-klingon": "x", "de-CH-1996": "x"}},
    ],
    ids=[
        "incoming without id timestamp context",
        "stored and authority present",
        "3-legged OAuth authority group",
        "anonymous group",
        "identified group without members",
        "single context activity (0.95 compatible)",
        "null and empty string inside extensions",
        "empty learner response",
        "version 1.0.0",
        "ISO 8601 reduced precision timestamp",
        "full duration",
        "fraction on smallest unit",
        "language tags",
    ],
)
def test_valid_variation_passes(changes: dict[str, Any]) -> None:
    validate_statement(mutate(BASE, changes))


def test_xapi_2_context_agents_and_groups_are_valid_in_2_0() -> None:
    statement = mutate(
        BASE,
        {
            "version": "2.0.0",
            "context.contextAgents": [
                {
                    "objectType": "contextAgent",
                    "agent": {"mbox": "mailto:coach@example.com"},
                    "relevantTypes": ["https://smeb.no/xapi/activities/instructor"],
                }
            ],
            "context.contextGroups": [
                {
                    "objectType": "contextGroup",
                    "group": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]},
                }
            ],
        },
    )
    validate_statement(statement, "2.0.0")
    assert {issue.rule for issue in iter_statement_issues(statement, "1.0.3")} == {
        "xapi2-only-property",
        "xapi-version",
    }


def test_error_lists_every_issue_with_paths() -> None:
    statement = mutate(BASE, {"actor.mbox": "mailto:a@example.com", "result.score.scaled": 2, "timestamp": "now"})
    with pytest.raises(StatementValidationError) as caught:
        validate_statement(statement)
    text = str(caught.value)
    assert "3 issues" in text
    for expected in (
        "$.actor: [xapi-ifi-exactly-one]",
        "$.result.score.scaled: [xapi-score-scaled-range]",
        "$.timestamp: [xapi-format-timestamp]",
    ):
        assert expected in text
    assert "Data 2.4.5.1" in text  # messages cite the spec section


def test_batch_validation_prefixes_paths_with_index() -> None:
    with pytest.raises(StatementValidationError) as caught:
        validate_statements([BASE, mutate(BASE, {"id": "x"})])
    assert [(issue.path, issue.rule) for issue in caught.value.issues] == [("$[1].id", "xapi-format-uuid")]


def test_non_object_statement_is_one_type_issue() -> None:
    assert [issue.rule for issue in iter_statement_issues([])] == ["xapi-type"]  # type: ignore[arg-type]  # not a statement, on purpose


def test_unknown_version_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unsupported xAPI version"):
        validate_statement(BASE, "0.95")


def test_duplicate_json_keys_are_rejected() -> None:
    with pytest.raises(StatementValidationError) as caught:
        loads_strict('{"actor": {"mbox": "mailto:a@x.no", "mbox": "mailto:b@x.no"}}')
    assert caught.value.rules == ["xapi-duplicate-property"]
    assert loads_strict('{"a": [{"b": 1}]}') == {"a": [{"b": 1}]}


def test_normalize_turns_single_context_activities_into_arrays_without_touching_input() -> None:
    statement = mutate(
        BASE,
        {
            "context.contextActivities": {
                "parent": {"id": "https://smeb.no/c"},
                "grouping": [{"id": "https://smeb.no/g"}],
            }
        },
    )
    normalized = normalize_statement(statement)
    assert normalized["context"]["contextActivities"] == {
        "parent": [{"id": "https://smeb.no/c"}],
        "grouping": [{"id": "https://smeb.no/g"}],
    }
    assert statement["context"]["contextActivities"]["parent"] == {"id": "https://smeb.no/c"}
    assert normalized["timestamp"] == statement["timestamp"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PT4H35M59.14S", True),
        ("PT16559.14S", True),
        ("P3Y", True),
        ("P4W", True),
        ("P", False),
        ("PT", False),
        ("P1DT", False),
        ("PT1.5M2S", False),
        ("-PT1S", False),
    ],
)
def test_duration_format(value: str, expected: bool) -> None:
    assert is_valid_duration(value) is expected


@pytest.mark.parametrize(
    ("value", "version", "expected"),
    [
        ("2015-11-18T12:17:00+00:00", "1.0.3", True),
        ("2015-11-18T12:17:00.123456789Z", "2.0.0", True),
        ("2015-11-18T12:17Z", "1.0.3", True),
        ("2015-11-18T12:17Z", "2.0.0", False),
        ("2015-11-18T24:00:00Z", "1.0.3", False),
        ("2015-11-18 12:17:00Z", "1.0.3", False),
        ("2015-11-18T12:17:00+25:00", "1.0.3", False),
    ],
)
def test_timestamp_format(value: str, version: str, expected: bool) -> None:
    assert is_valid_timestamp(value, version) is expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("nb", True),
        ("nb-NO", True),
        ("en-GB", True),
        ("sr-Latn-RS", True),
        ("en_GB", False),
        ("norwegian", False),
        ("", False),
        ("a-DE", False),
    ],
)
def test_language_tags(tag: str, expected: bool) -> None:
    assert is_valid_language_tag(tag) is expected
