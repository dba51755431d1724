"""Moodle's own checks of SCORM 2004 runtime values, so fast tests catch what Moodle answers with 406.

scorm-again (the API the browser tests play under) is more lenient than Moodle: it lets a hyphen through in a
``short_identifier_type``, Moodle does not. The patterns and per-type rules below are copied from Moodle 5.0.6+
``mod/scorm/datamodels/scorm_13.js`` (``CMIShortIdentifier``, ``learner_response``, ``correct_responses``);
tests/e2e/moodle/test_moodle_scorm.py checks the same packages against that file running in the real Moodle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SHORT_IDENTIFIER = r"^[\w\.]{1,250}$"
LONG_IDENTIFIER = r"^(?:(?!urn:)\S{1,4000}|urn:[A-Za-z0-9-]{1,31}:\S{1,4000})$"
LANG_STRING_250 = r"^(\{lang=([a-zA-Z]{2,3}|i|x)(\-[a-zA-Z0-9\-]{2,8})?\})?([^\{].{0,250}$)?"
LANG_STRING_250_CR = r"^((\{lang=([a-zA-Z]{2,3}|i|x)?(\-[a-zA-Z0-9\-]{2,8})?\})?(.{0,250})?)?$"
LANG_STRING_4000 = r"^(\{lang=([a-zA-Z]{2,3}|i|x)(\-[a-zA-Z0-9\-]{2,8})?\})?([^\{].{0,4000}$)?"
DECIMAL = r"^-?([0-9]{1,5})(\.[0-9]{1,18})?$"
RESULT = r"^correct$|^incorrect$|^unanticipated$|^neutral$|^-?([0-9]{1,4})(\.[0-9]{1,18})?$"

# type -> (format, max items, delimiter, unique)
LEARNER_RESPONSE = {
    "true-false": (r"^true$|^false$", 1, "", False),
    "choice": (SHORT_IDENTIFIER, 36, "[,]", True),
    "fill-in": (LANG_STRING_250, 10, "[,]", False),
    "long-fill-in": (LANG_STRING_4000, 1, "", False),
    "sequencing": (SHORT_IDENTIFIER, 36, "[,]", False),
    "likert": (SHORT_IDENTIFIER, 1, "", False),
    "numeric": (DECIMAL, 1, "", False),
}
CORRECT_RESPONSES = {
    "true-false": (r"^true$|^false$", 1, "", False),
    "choice": (SHORT_IDENTIFIER, 36, "[,]", True),
    "fill-in": (LANG_STRING_250_CR, 10, "[,]", False),
    "long-fill-in": (LANG_STRING_4000, 1, "", False),
    "sequencing": (SHORT_IDENTIFIER, 36, "[,]", False),
    "likert": (SHORT_IDENTIFIER, 1, "", False),
}


def _matches(pattern: str, value: str) -> bool:
    # Moodle: value.match(new RegExp(format)) and a non-empty match (or an empty value).
    found = re.search(pattern, value, re.ASCII)  # JavaScript: \w and \S are ASCII-only classes
    return found is not None and (len(found.group(0)) > 0 or value == "")


def _check_list(kind: str, rules: dict[str, tuple[str, int, str, bool]], itype: str, value: str) -> str | None:
    if itype not in rules:
        return f"{kind}: type {itype!r} is not one the player should send"
    pattern, most, delimiter, unique = rules[itype]
    parts = value.split(delimiter) if delimiter else [value]
    if len(parts) > most:
        return f"{kind} {value!r}: {len(parts)} items, Moodle takes at most {most}"
    if unique and len(set(parts)) != len(parts):
        return f"{kind} {value!r}: items repeat"
    bad = [p for p in parts if not _matches(pattern, p)]
    return f"{kind} {value!r}: {bad} fail Moodle's {pattern}" if bad else None


def moodle_2004_errors(sets: Iterable[tuple[str, str]]) -> list[str]:
    """Every SetValue of ``cmi.interactions.*`` that Moodle's scorm_13.js would refuse (406 type mismatch)."""
    errors: list[str] = []
    types: dict[str, str] = {}
    for element, value in sets:
        found = re.fullmatch(r"cmi\.interactions\.(\d+)\.(.+)", element)
        if not found:
            continue
        n, field = found.groups()
        value = str(value)
        problem = None
        if field == "id":
            problem = None if _matches(LONG_IDENTIFIER, value) else f"id {value!r}"
        elif field == "type":
            types[n] = value
        elif field == "learner_response":
            problem = _check_list("learner_response", LEARNER_RESPONSE, types.get(n, ""), value)
        elif field == "correct_responses.0.pattern":
            problem = _check_list("correct_responses", CORRECT_RESPONSES, types.get(n, ""), value)
        elif field == "description":
            problem = None if _matches(LANG_STRING_250, value) else f"description {value!r}"
        elif field == "result":
            problem = None if _matches(RESULT, value) else f"result {value!r}"
        elif field == "weighting":
            problem = None if _matches(DECIMAL, value) else f"weighting {value!r}"
        if problem:
            errors.append(f"{element}: {problem}")
    return errors
