"""Validate xAPI statements against the xAPI 1.0.3 data model (and xAPI 2.0, IEEE 9274.1.1).

Two layers, both reporting *every* problem with a JSON path and a short rule id:

* ``xapi/schema/statement.schema.json`` (JSON Schema 2020-12) says the structure: allowed
  properties, types, non-empty strings, formats (IRI, UUID, timestamps, durations, language tags).
* :mod:`xapi.validation.semantic` says what a schema cannot: exactly one IFI, voiding needs a
  StatementRef, score ranges, interaction component lists, revision/platform, SubStatement limits,
  the OAuth authority group.

The same code validates what our builders produce and what the embedded LRS receives, so it
follows the spec's LRS requirements (Data 2.2) rather than our own stricter producer habits:
statements may lack ``id``/``timestamp``/``stored``/``authority``, and extension values are never
inspected. Rule ids and sections are listed in :data:`RULES`.

Modules: :mod:`~xapi.validation.rules` (rule ids, :class:`ValidationIssue`), :mod:`~xapi.validation.formats`,
:mod:`~xapi.validation.schema` (structure; full and fast), :mod:`~xapi.validation.semantic` and
:mod:`~xapi.validation.strict_json` (:func:`loads_strict`); this package runs them (:func:`validate_statement`).

Speed: ``jsonschema``'s ``iter_errors`` costs hundreds of microseconds per statement, so a statement
first goes through a fast path (:func:`_passes_fast_path`): the same schema and format checks
compiled into closures by :mod:`xapi._fastcheck`, then the semantic rules. Only a statement that
fails there goes through the full path (:func:`_full_issues`), which alone builds the issues, so
errors are the same whichever path a statement took (``tests/xapi/test_validation_fastpath.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from xapi.errors import StatementValidationError
from xapi.validation.formats import is_valid_duration, is_valid_iri, is_valid_language_tag, is_valid_timestamp
from xapi.validation.rules import RULES, SUPPORTED_VERSIONS, ValidationIssue, _issue, _type_name, json_path
from xapi.validation.schema import _fast_schema_check, _schema_issues, _validator
from xapi.validation.semantic import _check_statement
from xapi.validation.strict_json import json_depth_exceeds, loads_strict

# The package is the one entry point for validation; the modules beside it hold its layers.
__all__ = [
    "RULES",
    "SUPPORTED_VERSIONS",
    "StatementValidationError",
    "ValidationIssue",
    "is_valid_duration",
    "is_valid_iri",
    "is_valid_language_tag",
    "is_valid_timestamp",
    "iter_statement_issues",
    "json_depth_exceeds",
    "json_path",
    "loads_strict",
    "normalize_statement",
    "validate_statement",
    "validate_statements",
]


def iter_statement_issues(statement: dict[str, Any], version: str = "1.0.3") -> Iterator[ValidationIssue]:
    """Yield every issue of ``statement`` (schema + semantic), deduplicated, sorted by path.

    Args:
        statement: the statement as parsed JSON (an incoming one may lack id/timestamp/...).
        version: xAPI data model to check against, ``"1.0.3"`` or ``"2.0.0"``.
    """
    _validator(version)  # an unsupported version is a ValueError, whichever path runs
    if isinstance(statement, dict) and _passes_fast_path(statement, version):
        return
    yield from _full_issues(statement, version)


def _passes_fast_path(statement: dict[str, Any], version: str) -> bool:
    """True only if :func:`_full_issues` would find nothing; a False costs only the full run after it.

    The schema part is the compiled schema of :mod:`xapi._fastcheck` (same schema and format checks
    as the full validator); the semantic part is the same code the full path runs.
    """
    if not _fast_schema_check(version)(statement):
        return False
    for _issue_found in _check_statement(statement, []):
        return False
    return True


def _full_issues(statement: Any, version: str) -> Iterator[ValidationIssue]:
    """Every issue, with messages: ``jsonschema.iter_errors`` translated, plus the semantic rules."""
    validator = _validator(version)
    if not isinstance(statement, dict):
        yield _issue([], "xapi-type", f"a Statement is a JSON object, got {_type_name(statement)}")
        return
    found: dict[tuple[str, str], ValidationIssue] = {}
    for error in validator.iter_errors(statement):
        for issue in _schema_issues(error, version):
            found.setdefault((issue.path, issue.rule), issue)
    for issue in _check_statement(statement, []):
        found.setdefault((issue.path, issue.rule), issue)
    yield from sorted(found.values(), key=lambda issue: (issue.path, issue.rule))


def validate_statement(statement: dict[str, Any], version: str = "1.0.3") -> None:
    """Raise :class:`StatementValidationError` listing every issue if ``statement`` is invalid."""
    issues = list(iter_statement_issues(statement, version))
    if issues:
        raise StatementValidationError(issues)


def validate_statements(statements: list[dict[str, Any]], version: str = "1.0.3") -> None:
    """Validate a batch; issue paths are prefixed with ``$[i]`` so one error names every bad statement."""
    if not isinstance(statements, list):
        raise StatementValidationError(
            [_issue([], "xapi-type", f"expected an array of Statements, got {_type_name(statements)}")]
        )
    issues = [
        ValidationIssue("$[" + str(index) + "]" + issue.path[1:], issue.rule, issue.message)
        for index, statement in enumerate(statements)
        for issue in iter_statement_issues(statement, version)
    ]
    if issues:
        raise StatementValidationError(issues)


def normalize_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """Return the statement with every contextActivities value an array (Data 2.4.6.2, LRS MUST).

    Applies to the statement's context and to a SubStatement's context; everything else
    (including timestamp and duration strings) is kept byte-for-byte. ``statement`` is not
    changed: only the dicts on the path to a changed value are copied, the rest is shared with
    it (a deep copy of every statement was the largest cost of an LRS batch POST after
    validation), so callers must not mutate the result in place.
    """
    result = dict(statement)
    obj = result.get("object")
    if isinstance(obj, dict) and isinstance(obj.get("context"), dict):
        result["object"] = obj = dict(obj)
    for node in (result, obj if isinstance(obj, dict) else None):
        if node is None:
            continue
        context = node.get("context")
        if not isinstance(context, dict):
            continue
        activities = context.get("contextActivities")
        if isinstance(activities, dict) and any(isinstance(value, dict) for value in activities.values()):
            node["context"] = dict(context)
            node["context"]["contextActivities"] = {
                key: [value] if isinstance(value, dict) else value for key, value in activities.items()
            }
    return result
