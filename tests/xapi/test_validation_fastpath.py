"""The fast path of statement validation agrees with the full path.

``iter_statement_issues`` first asks a compiled copy of the JSON Schema (``xapi._fastcheck``) plus
the semantic rules; only a statement that fails there goes through ``jsonschema.iter_errors``. The
fast path must accept a statement exactly when the full validation finds no issue, so it can never
let an invalid statement through and never change an error. These tests compare both paths over
every valid and invalid statement of the validation tests, and over random edits of them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.smeb_lti.lrs import test_conformance_data as lrs_conformance
from tests.support.lrs_server import statement as lrs_statement
from tests.xapi import test_validation_xapi as cases
from tests.xapi.test_validation_conformance import BASE as CONFORMANCE_BASE
from tests.xapi.test_validation_conformance import SUB as CONFORMANCE_SUB
from xapi import statements as builders
from xapi import validation
from xapi._fastcheck import UnsupportedSchemaError, compile_schema
from xapi.actors import pseudonymous_actor
from xapi.validation import ValidationIssue, iter_statement_issues, validate_statements

VERSIONS = ("1.0.3", "2.0.0")


def _valid_variations() -> list[dict[str, Any]]:
    # The parametrised changes of test_valid_variation_passes, reused rather than copied.
    (mark,) = [m for m in cases.test_valid_variation_passes.pytestmark if m.name == "parametrize"]
    return [cases.mutate(cases.BASE, changes) for changes in mark.args[1]]


def _builder_statements() -> list[dict[str, Any]]:
    actor = pseudonymous_actor("https://canvas.example.org", "learner-1", key=b"test-key-not-secret")
    activity = builders.Activity("https://smeb.example/courses/c/lessons/1", name={"nb": "Leksjon", "en": "Lesson"})
    return [builders.completed(actor, "lesson", activity, duration="PT20M")]


def _lrs_rows(rows: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for _name, edit in rows:
        body = lrs_statement()
        edit(body)
        out.append(body)
    return out


def _statements() -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = [("base", cases.BASE), ("conformance base", CONFORMANCE_BASE)]
    found.append(("conformance substatement", cases.mutate(CONFORMANCE_BASE, {"object": CONFORMANCE_SUB})))
    found += [(f"spec {path.stem}", json.loads(path.read_text(encoding="utf-8"))) for path in cases.SPEC_EXAMPLES]
    found += [(f"valid variation {i}", s) for i, s in enumerate(_valid_variations())]
    found += [(f"invalid {case[0]}", cases.mutate(cases.BASE, case[1])) for case in cases.INVALID]
    found += [(f"builder {i}", s) for i, s in enumerate(_builder_statements())]
    found += [(f"lrs valid {row[0]}", s) for row, s in zip(lrs_conformance.VALID, _lrs_rows(lrs_conformance.VALID))]
    found += [
        (f"lrs invalid {row[0]}", s) for row, s in zip(lrs_conformance.INVALID, _lrs_rows(lrs_conformance.INVALID))
    ]
    found += [("not an object", ["a list"]), ("null", None)]
    return found


STATEMENTS = _statements()


def assert_paths_agree(statement: Any, version: str) -> None:
    """Fast schema check == jsonschema; fast path == full path; public result == full path."""
    full = list(validation._full_issues(copy.deepcopy(statement), version))
    if isinstance(statement, dict):
        schema_errors = list(validation._validator(version).iter_errors(statement))
        fast_schema = validation._fast_schema_check(version)(statement)
        assert fast_schema == (not schema_errors), f"fast schema check {fast_schema}, jsonschema: {schema_errors[:1]}"
        assert validation._passes_fast_path(statement, version) == (not full), full
    assert list(iter_statement_issues(statement, version)) == full


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("statement", [s for _, s in STATEMENTS], ids=[name for name, _ in STATEMENTS])
def test_fast_and_full_path_agree_on_every_fixture(statement: Any, version: str) -> None:
    assert_paths_agree(statement, version)


def test_the_fixtures_cover_both_outcomes() -> None:
    outcomes = {
        validation._passes_fast_path(s, version) for _, s in STATEMENTS if isinstance(s, dict) for version in VERSIONS
    }
    assert outcomes == {True, False}
    assert sum(name.startswith("invalid ") for name, _ in STATEMENTS) == len(cases.INVALID) >= 70


def test_a_batch_with_valid_and_invalid_statements_reports_only_the_invalid_ones() -> None:
    bad = cases.mutate(cases.BASE, {"id": "not-a-uuid"})
    with pytest.raises(validation.StatementValidationError) as caught:
        validate_statements([cases.BASE, bad, cases.BASE])
    assert [(i.path, i.rule) for i in caught.value.issues] == [("$[1].id", "xapi-format-uuid")]


# --------------------------------------------------------------------------- random edits
# Values chosen to sit on the edges of the schema's keywords and formats.
EDGE_VALUES = st.sampled_from(
    [
        "",
        " ",
        "x",
        "Agent",
        "Group",
        "Activity",
        "SubStatement",
        "StatementRef",
        "contextAgent",
        "contextGroup",
        "choice",
        "likert",
        "http://adlnet.gov/expapi/verbs/voided",
        "https://smeb.no/a",
        "http:foo",
        "no scheme",
        "mailto:a@example.com",
        "mailto:nobody",
        "3f1c9a0e-6a47-4a0b-9b51-0c2f6b7e8d10",
        "3f1c9a0e6a474a0b9b510c2f6b7e8d10",
        "2026-11-21T10:15:30.123Z",
        "2026-11-21T10:15+01",
        "2026-02-30T10:15:30Z",
        "2008-09-15T15:53:00.601-00:00",
        "PT4M30.5S",
        "PT0.5H1M",
        "P",
        "1.0.3",
        "2.0.0",
        "1.1",
        "en-US",
        "en-USAAAAAAAAAA",
        "application/json",
        "a" * 40,
        "a" * 64,
        0,
        1,
        -1,
        2,
        10,
        0.5,
        -1.5,
        1.0,
        float("nan"),
        float("inf"),
        True,
        False,
        None,
        [],
        {},
    ]
)
EDGE_STRINGS = EDGE_VALUES.filter(lambda value: isinstance(value, str))
SMALL_KEYS = st.sampled_from(["id", "objectType", "mbox", "en", "https://e.com/k", "name", "x"])
JSON_VALUES = st.recursive(
    EDGE_VALUES,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(SMALL_KEYS, children, max_size=3),
    max_leaves=6,
)
NEW_KEYS = st.sampled_from(
    [
        "id",
        "objectType",
        "mbox",
        "mbox_sha1sum",
        "openid",
        "account",
        "member",
        "name",
        "definition",
        "display",
        "score",
        "raw",
        "min",
        "max",
        "scaled",
        "contextAgents",
        "contextGroups",
        "revision",
        "platform",
        "authority",
        "version",
        "stored",
        "attachments",
        "interactionType",
        "choices",
        "correctResponsesPattern",
        "extensions",
        "en",
        "not-a-tag!",
        "unknown",
    ]
)


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _nodes(child, (*path, index))


def _at(root: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        root = root[part]
    return root


@st.composite
def near_misses(draw: st.DrawFn, text: str) -> str:
    """``text`` with one character removed, inserted or replaced: a format that almost holds."""
    position = draw(st.integers(0, len(text)))
    char = draw(st.sampled_from(list("-:.,TZz0159aAé @/+PWHMS ")))
    how = draw(st.sampled_from(["remove", "insert", "replace"]))
    if how == "insert" or not text:
        return text[:position] + char + text[position:]
    position = min(position, len(text) - 1)
    return text[:position] + ("" if how == "remove" else char) + text[position + 1 :]


@st.composite
def edited_statements(draw: st.DrawFn) -> dict[str, Any]:
    """A valid fixture with one or two random edits: replace a value or a key, delete a key, add a key.

    Mostly one edit, often a string swapped for an edge string, so that many results stay valid or
    fail on a single keyword: that is where a fast path that skipped a check would show.
    """
    valid = [s for name, s in STATEMENTS if not name.startswith(("invalid", "lrs invalid")) and isinstance(s, dict)]
    result = copy.deepcopy(draw(st.sampled_from(valid)))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2]))):
        action = draw(st.sampled_from(["edit string"] * 4 + ["replace", "delete", "add", "rename"]))
        nodes = list(_nodes(result))
        strings = [(path, node) for path, node in nodes if isinstance(node, str)]
        path, node = draw(st.sampled_from(strings if action == "edit string" and strings else nodes))
        if action == "add" and isinstance(node, dict):
            node[draw(NEW_KEYS)] = draw(JSON_VALUES)
        elif action == "rename" and path and isinstance(path[-1], str):
            parent = _at(result, path[:-1])
            parent[draw(NEW_KEYS | EDGE_STRINGS)] = parent.pop(path[-1])
        elif action == "edit string" and isinstance(node, str):
            _at(result, path[:-1])[path[-1]] = draw(near_misses(node) | EDGE_STRINGS)
        elif path and action == "delete":
            parent = _at(result, path[:-1])
            del parent[path[-1]]
        elif path:
            _at(result, path[:-1])[path[-1]] = draw(JSON_VALUES)
    return result


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited_statements(), st.sampled_from(VERSIONS))
def test_fast_and_full_path_agree_on_random_edits(statement: dict[str, Any], version: str) -> None:
    assert_paths_agree(statement, version)


# --------------------------------------------------------------------------- the compiler itself
def test_the_compiler_refuses_keywords_it_does_not_implement() -> None:
    with pytest.raises(UnsupportedSchemaError, match="patternProperties"):
        compile_schema({"type": "object", "patternProperties": {"^x": {"type": "string"}}}, {})
    with pytest.raises(UnsupportedSchemaError, match="const/enum"):
        compile_schema({"const": 1}, {})
    with pytest.raises(UnsupportedSchemaError, match="does not resolve"):
        compile_schema({"$ref": "#/$defs/missing"}, {})


def test_the_compiler_follows_recursive_refs() -> None:
    schema = {
        "$ref": "#/$defs/node",
        "$defs": {
            "node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}}, "additionalProperties": False}
        },
    }
    check = compile_schema(schema, {})
    assert check({"child": {"child": {}}})
    assert not check({"child": {"child": {"other": 1}}})


def test_a_number_type_the_compiler_does_not_know_goes_to_the_full_path() -> None:
    from decimal import Decimal

    statement = cases.mutate(cases.BASE, {"result.score.scaled": Decimal("0.5")})
    assert not validation._fast_schema_check("1.0.3")(statement)
    assert list(iter_statement_issues(statement)) == list(validation._full_issues(statement, "1.0.3"))


def test_issue_lists_are_unchanged_by_the_fast_path() -> None:
    statement = cases.mutate(cases.BASE, {"actor.mbox": "mailto:a@example.com", "result.score.scaled": 2})
    assert list(iter_statement_issues(statement)) == [
        ValidationIssue(
            "$.actor",
            "xapi-ifi-exactly-one",
            "Agent has 2 IFIs (mbox, account); it MUST have exactly one (xAPI 1.0.3 Data 2.4.2.1, 2.4.2.2)",
        ),
        ValidationIssue(
            "$.result.score.scaled",
            "xapi-score-scaled-range",
            "score.scaled MUST be between -1 and 1 inclusive; got 2 (xAPI 1.0.3 Data 2.4.5.1)",
        ),
    ]
