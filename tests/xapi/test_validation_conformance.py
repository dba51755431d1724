"""Validation rules the ADL LRS conformance requirements pin down (fixes found by the LRS conformance work)."""

from __future__ import annotations

import copy

import pytest

from xapi.errors import StatementValidationError
from xapi.validation import validate_statement

BASE = {
    "actor": {"objectType": "Agent", "mbox": "mailto:ola@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
    "object": {"objectType": "Activity", "id": "http://example.com/act"},
}
SUB = {"objectType": "SubStatement", **copy.deepcopy(BASE)}


@pytest.mark.parametrize("model", ["1.0.3", "2.0.0"])
@pytest.mark.parametrize("version", ["1.0", "1.0.0", "1.0.3"])
def test_xapi_00101_statement_version_1_0_and_1_0_x_are_valid(model, version):
    validate_statement(dict(copy.deepcopy(BASE), version=version), model)


@pytest.mark.parametrize("version", ["1", "1.0.", "1.1.0", "0.95", "1.0.x"])
def test_xapi_00101_other_statement_versions_are_invalid(version):
    with pytest.raises(StatementValidationError):
        validate_statement(dict(copy.deepcopy(BASE), version=version))


@pytest.mark.parametrize("where", ["statement", "substatement"])
def test_xapi_00095_an_empty_context_activities_object_is_invalid(where):
    statement = copy.deepcopy(BASE)
    target = statement if where == "statement" else SUB
    if where == "substatement":
        statement["object"] = copy.deepcopy(SUB)
        target = statement["object"]
    target["context"] = {"contextActivities": {}}
    with pytest.raises(StatementValidationError) as caught:
        validate_statement(statement)
    assert any(issue.path.endswith("contextActivities") for issue in caught.value.issues)


def test_xapi_00095_context_activities_with_one_key_stays_valid():
    validate_statement(dict(copy.deepcopy(BASE), context={"contextActivities": {"parent": [{"id": "http://example.com/p"}]}}))


@pytest.mark.parametrize("model", ["1.0.3", "2.0.0"])
@pytest.mark.parametrize("timestamp", ["2008-09-15T15:53:00.601-00", "2008-09-15T15:53:00.601-0000", "2008-09-15T15:53:00.601-00:00"])
def test_xapi_00123_a_negative_zero_offset_is_an_unknown_offset_and_invalid(model, timestamp):
    with pytest.raises(StatementValidationError):
        validate_statement(dict(copy.deepcopy(BASE), timestamp=timestamp), model)


@pytest.mark.parametrize("timestamp", ["2008-09-15T15:53:00.601+00:00", "2008-09-15T15:53:00.601Z", "2008-09-15T15:53:00.601-01:00"])
def test_xapi_00123_zero_and_real_offsets_stay_valid(timestamp):
    validate_statement(dict(copy.deepcopy(BASE), timestamp=timestamp))


@pytest.mark.parametrize("model", ["1.0.3", "2.0.0"])
@pytest.mark.parametrize("where", ["verb.display", "object.definition.name", "object.definition.description"])
def test_an_empty_language_map_is_invalid(model, where):
    """ADL suite configs/languages.js: 'A Language Map ... has at least 1 entry'."""
    statement = copy.deepcopy(BASE)
    node = statement
    keys = where.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = {}
    with pytest.raises(StatementValidationError) as caught:
        validate_statement(statement, model)
    assert any(issue.rule == "xapi-range" for issue in caught.value.issues)
