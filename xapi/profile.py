"""The SMEB xAPI Profile (xAPI Profiles 1.0 JSON-LD) and statement-template matching.

``xapi/profile/smeb-profile.jsonld`` is the machine-readable vocabulary and rulebook for the
statements :mod:`xapi.statements` makes. This module loads it, checks that it is well formed
(:func:`profile_problems`), and implements Statement Template validation from the xAPI Profiles
spec, Part Three, section 2 (:func:`match_templates`): determining properties (verb, object and
context activity types, attachment usage types) plus rules (``location``/``selector`` with
``presence``, ``any``, ``all``, ``none``). Locations use the JSONPath subset the spec's own
examples use: ``$``, ``.name``, ``['key']`` (several keys separated by commas), ``[n]``, ``[*]``,
``.*`` and ``|`` between whole paths.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

from xapi.constants import MINTED_IRIS, REUSED_IRIS, SMEB_BASE
from xapi.errors import ProfileError
from xapi.validation import normalize_statement

__all__ = [
    "PROFILES_CONTEXT",
    "evaluate_location",
    "load_profile",
    "match_templates",
    "profile_problems",
    "template_failures",
]

PROFILES_CONTEXT = "https://w3id.org/xapi/profiles/context"
_CONTEXT_KINDS = {
    "contextParentActivityType": "parent",
    "contextGroupingActivityType": "grouping",
    "contextCategoryActivityType": "category",
    "contextOtherActivityType": "other",
}
_PATTERN_KINDS = ("sequence", "alternates", "optional", "oneOrMore", "zeroOrMore")
_CONCEPT_TYPES = {
    "Verb",
    "ActivityType",
    "AttachmentUsageType",
    "ContextExtension",
    "ResultExtension",
    "ActivityExtension",
    "StateResource",
    "AgentProfileResource",
    "ActivityProfileResource",
    "Activity",
}


@lru_cache(maxsize=1)
def _cached_profile() -> dict[str, Any]:
    text = resources.files("xapi").joinpath("profile", "smeb-profile.jsonld").read_text(encoding="utf-8")
    profile: dict[str, Any] = json.loads(text)
    return profile


def load_profile() -> dict[str, Any]:
    """Return (a private copy of) the SMEB profile document."""
    return copy.deepcopy(_cached_profile())


# --------------------------------------------------------------------------- JSONPath subset
_MISSING = object()
_TOKEN = re.compile(
    r"""\.(?P<name>[A-Za-z0-9_\-]+|\*)"""
    r"""|\[(?P<index>-?\d+)\]"""
    r"""|\[(?P<star>\*)\]"""
    r"""|\[(?P<keys>(?:\s*(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*,?)+)\]"""
)
_QUOTED = re.compile(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)\"""")


def _split_union(location: str) -> list[str]:
    parts, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(location):
        if quote:
            quote = "" if char == quote and location[index - 1] != "\\" else quote
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(location[start:index].strip())
            start = index + 1
    parts.append(location[start:].strip())
    return parts


def _steps(path: str) -> list[tuple[str, Any]]:
    if not path.startswith("$"):
        raise ProfileError(f"JSONPath {path!r} must start with '$'")
    steps: list[tuple[str, Any]] = []
    position = 1
    while position < len(path):
        match = _TOKEN.match(path, position)
        if not match:
            raise ProfileError(f"unsupported JSONPath syntax at {path[position:]!r} in {path!r}")
        if match.group("name") is not None:
            steps.append(("star", None) if match.group("name") == "*" else ("keys", [match.group("name")]))
        elif match.group("index") is not None:
            steps.append(("index", int(match.group("index"))))
        elif match.group("star") is not None:
            steps.append(("star", None))
        else:
            keys = [
                (a if a or not b else b).replace("\\'", "'").replace('\\"', '"')
                for a, b in _QUOTED.findall(match.group("keys"))
            ]
            steps.append(("keys", keys))
        position = match.end()
    return steps


def _walk(node: Any, steps: Sequence[tuple[str, Any]]) -> Iterator[Any]:
    if not steps:
        yield node
        return
    (kind, arg), rest = steps[0], steps[1:]
    if kind == "keys":
        for key in arg:
            yield from _walk(node[key], rest) if isinstance(node, dict) and key in node else iter([_MISSING])
    elif kind == "index":
        ok = isinstance(node, list) and -len(node) <= arg < len(node)
        yield from _walk(node[arg], rest) if ok else iter([_MISSING])
    elif isinstance(node, dict):
        for value in node.values():
            yield from _walk(value, rest)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, rest)
    else:
        yield _MISSING


def evaluate_location(document: Any, location: str) -> tuple[list[Any], int]:
    """Evaluate a location; return (values found, number of paths that matched nothing)."""
    values: list[Any] = []
    unmatched = 0
    for path in _split_union(location):
        for value in _walk(document, _steps(path)):
            if value is _MISSING:
                unmatched += 1
            else:
                values.append(value)
    return values, unmatched


# --------------------------------------------------------------------------- template matching
def _same(a: Any, b: Any) -> bool:
    # JSON true is not 1: compare booleans only with booleans.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    return bool(a == b)


def _contains(values: Sequence[Any], candidate: Any) -> bool:
    return any(_same(value, candidate) for value in values)


def _rule_failure(statement: Mapping[str, Any], rule: Mapping[str, Any]) -> str | None:
    location = rule["location"]
    values, unmatched = evaluate_location(statement, location)
    if "selector" in rule:
        selected: list[Any] = []
        for value in values:
            found, missing = evaluate_location(value, rule["selector"])
            selected += found
            unmatched += missing
        values = selected
    presence = rule.get("presence")
    if presence == "included" and (not values or unmatched):
        return f"{location} must be present"
    if presence == "excluded" and values:
        return f"{location} must be absent"
    if not values:
        return None
    if "any" in rule and not any(_contains(rule["any"], value) for value in values):
        return f"{location} must include one of {rule['any']}"
    if "all" in rule and (unmatched or not all(_contains(rule["all"], value) for value in values)):
        return f"{location} values must all be in {rule['all']}"
    if "none" in rule and any(_contains(rule["none"], value) for value in values):
        return f"{location} must not include any of {rule['none']}"
    return None


def _types(activities: Any) -> list[Any]:
    items = activities if isinstance(activities, list) else []
    return [item.get("definition", {}).get("type") for item in items if isinstance(item, dict)]


def template_failures(statement: Mapping[str, Any], template: Mapping[str, Any]) -> list[str]:
    """Why ``statement`` does not match ``template`` (empty list: it matches)."""
    statement = normalize_statement(dict(statement))
    failures: list[str] = []
    verb = (statement.get("verb") or {}).get("id")
    if "verb" in template and verb != template["verb"]:
        failures.append(f"verb {verb} is not {template['verb']}")
    obj = statement.get("object") or {}
    if "objectActivityType" in template:
        object_type = (
            (obj.get("definition") or {}).get("type") if obj.get("objectType", "Activity") == "Activity" else None
        )
        if object_type != template["objectActivityType"]:
            failures.append(f"object type {object_type} is not {template['objectActivityType']}")
    context = statement.get("context") or {}
    activities = context.get("contextActivities") or {}
    for key, kind in _CONTEXT_KINDS.items():
        for type_iri in template.get(key, []):
            if type_iri not in _types(activities.get(kind)):
                failures.append(f"no {kind} context activity of type {type_iri}")
    usage_types = [a.get("usageType") for a in statement.get("attachments", []) if isinstance(a, dict)]
    for usage in template.get("attachmentUsageType", []):
        if usage not in usage_types:
            failures.append(f"no attachment with usageType {usage}")
    if "objectStatementRefTemplate" in template and obj.get("objectType") != "StatementRef":
        failures.append("object must be a StatementRef")
    if "contextStatementRefTemplate" in template and not isinstance(context.get("statement"), dict):
        failures.append("context.statement must be a StatementRef")
    for rule in template.get("rules", []):
        failure = _rule_failure(statement, rule)
        if failure:
            failures.append(failure)
    return failures


def match_templates(statement: Mapping[str, Any], profile: Mapping[str, Any] | None = None) -> list[str]:
    """Ids of the profile's statement templates that ``statement`` matches, in profile order."""
    document = profile if profile is not None else _cached_profile()
    return [template["id"] for template in document.get("templates", []) if not template_failures(statement, template)]


# --------------------------------------------------------------------------- well-formedness
def _language_map_ok(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(text, str) and text for text in value.values())


def profile_problems(profile: Mapping[str, Any]) -> list[str]:
    """Structural problems of a profile document (xAPI Profiles Part Two); empty means well formed.

    Beyond the spec's structure it enforces our conventions: concepts are minted under
    ``SMEB_BASE``, and every IRI a template relies on is a concept here or a known reused IRI.
    """
    problems: list[str] = []
    if profile.get("@context") != PROFILES_CONTEXT:
        problems.append(f"@context must be {PROFILES_CONTEXT}")
    if profile.get("type") != "Profile" or profile.get("conformsTo") != "https://w3id.org/xapi/profiles#1.0":
        problems.append("type must be Profile and conformsTo https://w3id.org/xapi/profiles#1.0")
    for key in ("prefLabel", "definition"):
        if not _language_map_ok(profile.get(key)):
            problems.append(f"profile {key} must be a non-empty language map")
    versions = [version.get("id") for version in profile.get("versions", [])]
    if not versions:
        problems.append("profile needs at least one version")
    concepts = profile.get("concepts", [])
    templates = profile.get("templates", [])
    patterns = profile.get("patterns", [])
    ids = [profile.get("id"), *versions] + [item.get("id") for item in [*concepts, *templates, *patterns]]
    duplicates = sorted({str(i) for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate ids: {duplicates}")
    for item in [*concepts, *templates, *patterns]:
        where = item.get("id", "<no id>")
        if item.get("inScheme") not in versions:
            problems.append(f"{where}: inScheme must be one of the profile versions")
        for key in ("prefLabel", "definition"):
            if not _language_map_ok(item.get(key)):
                problems.append(f"{where}: {key} must be a non-empty language map")
        if not str(where).startswith(SMEB_BASE):
            problems.append(f"{where}: ids we define must be under {SMEB_BASE}")
    known = {concept["id"]: concept.get("type") for concept in concepts if "id" in concept}
    for concept in concepts:
        if concept.get("type") not in _CONCEPT_TYPES:
            problems.append(f"{concept.get('id')}: unknown concept type {concept.get('type')}")
        if concept.get("id") not in MINTED_IRIS:
            problems.append(f"{concept.get('id')}: concept is not declared in xapi.constants")

    def check_iri(where: str, iri: Any, concept_type: str) -> None:
        if iri in REUSED_IRIS:
            return
        if known.get(iri) != concept_type:
            problems.append(
                f"{where}: {iri} is neither a {concept_type} concept of this profile nor a known reused IRI"
            )

    template_ids = {t.get("id") for t in templates}
    pattern_ids = {p.get("id") for p in patterns}
    for template in templates:
        where = template.get("id", "<no id>")
        if template.get("type") != "StatementTemplate":
            problems.append(f"{where}: type must be StatementTemplate")
        if "verb" in template:
            check_iri(where, template["verb"], "Verb")
        if "objectActivityType" in template:
            check_iri(where, template["objectActivityType"], "ActivityType")
        for key in _CONTEXT_KINDS:
            for iri in template.get(key, []):
                check_iri(where, iri, "ActivityType")
        for rule in template.get("rules", []):
            if not isinstance(rule.get("location"), str):
                problems.append(f"{where}: every rule needs a location")
                continue
            try:
                evaluate_location({}, rule["location"])
            except ProfileError as error:
                problems.append(f"{where}: {error}")
            if rule.get("presence") not in (None, "included", "excluded", "recommended"):
                problems.append(f"{where}: presence {rule.get('presence')!r} is not included/excluded/recommended")
            if not any(key in rule for key in ("presence", "any", "all", "none")):
                problems.append(f"{where}: rule on {rule['location']} has no presence/any/all/none")
            for key in ("any", "all", "none"):
                if key in rule and not (isinstance(rule[key], list) and rule[key]):
                    problems.append(f"{where}: {key} must be a non-empty array")
            for iri in re.findall(r"extensions\['([^']+)'\]", rule["location"]):
                if iri not in REUSED_IRIS and not str(known.get(iri, "")).endswith("Extension"):
                    problems.append(f"{where}: extension {iri} is neither a concept here nor a known reused IRI")
    by_id = {p.get("id"): p for p in patterns}
    for pattern in patterns:
        where = pattern.get("id", "<no id>")
        kinds = [kind for kind in _PATTERN_KINDS if kind in pattern]
        if len(kinds) != 1:
            problems.append(f"{where}: a Pattern has exactly one of {', '.join(_PATTERN_KINDS)}")
            continue
        members = pattern[kinds[0]] if isinstance(pattern[kinds[0]], list) else [pattern[kinds[0]]]
        for member in members:
            if member not in template_ids and member not in pattern_ids:
                problems.append(f"{where}: member {member} is neither a template nor a pattern of this profile")
            if kinds[0] == "alternates" and any(k in by_id.get(member, {}) for k in ("optional", "zeroOrMore")):
                problems.append(f"{where}: alternates must not contain optional or zeroOrMore patterns ({member})")
        if kinds[0] == "sequence" and len(members) < 2 and not (pattern.get("primary") and members[0] in template_ids):
            problems.append(f"{where}: a sequence needs at least two members")

    def cycles(pattern_id: str, trail: tuple[str, ...]) -> None:
        if pattern_id in trail:
            problems.append(f"{pattern_id}: pattern contains itself ({' -> '.join((*trail, pattern_id))})")
            return
        pattern = by_id.get(pattern_id, {})
        for kind in _PATTERN_KINDS:
            members = pattern.get(kind, [])
            for member in members if isinstance(members, list) else [members]:
                if member in by_id:
                    cycles(member, (*trail, pattern_id))

    for pattern_id in by_id:
        cycles(pattern_id, ())
    return problems
