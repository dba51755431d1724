"""Validate xAPI statements against the xAPI 1.0.3 data model (and xAPI 2.0, IEEE 9274.1.1).

Two layers, both reporting *every* problem with a JSON path and a short rule id:

* ``xapi/schema/statement.schema.json`` (JSON Schema 2020-12) says the structure: allowed
  properties, types, non-empty strings, formats (IRI, UUID, timestamps, durations, language tags).
* :func:`_semantic_issues` says what a schema cannot: exactly one IFI, voiding needs a
  StatementRef, score ranges, interaction component lists, revision/platform, SubStatement limits,
  the OAuth authority group.

The same code validates what our builders produce and what the embedded LRS receives, so it
follows the spec's LRS requirements (Data 2.2) rather than our own stricter producer habits:
statements may lack ``id``/``timestamp``/``stored``/``authority``, and extension values are never
inspected. Rule ids and sections are listed in :data:`RULES`.

Speed: ``jsonschema``'s ``iter_errors`` costs hundreds of microseconds per statement, so a statement
first goes through a fast path (:func:`_passes_fast_path`): the same schema and format checks
compiled into closures by :mod:`xapi._fastcheck`, then the semantic rules. Only a statement that
fails there goes through the full path (:func:`_full_issues`), which alone builds the issues, so
errors are the same whichever path a statement took (``tests/xapi/test_validation_fastpath.py``).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as _SchemaError

from xapi._fastcheck import Check, compile_schema
from xapi.errors import StatementValidationError
from xapi.jsonlimits import DEFAULT_MAX_DEPTH, JsonLimitError

__all__ = [
    "RULES",
    "SUPPORTED_VERSIONS",
    "ValidationIssue",
    "is_valid_iri",
    "is_valid_language_tag",
    "is_valid_duration",
    "is_valid_timestamp",
    "json_depth_exceeds",
    "iter_statement_issues",
    "loads_strict",
    "normalize_statement",
    "validate_statement",
    "validate_statements",
]

SUPPORTED_VERSIONS = ("1.0.3", "2.0.0")
_VOIDED = "http://adlnet.gov/expapi/verbs/voided"
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")

# Rule id -> (spec section, what the rule demands). Sections are xAPI 1.0.3 Part Two (Data)
# unless prefixed "IEEE 9274.1.1" (xAPI 2.0). Rule ids of 2.0-only rules start with "xapi2-".
RULES: dict[str, tuple[str, str]] = {
    "xapi-unknown-property": ("Data 2.2", "property not allowed by the specification here"),
    "xapi-statement-required": ("Data 2.2", 'a Statement MUST use "actor", "verb" and "object"'),
    "xapi-required-property": ("Data 2.4", "required property is missing"),
    "xapi-type": ("Data 2.2", "wrong JSON type (null only allowed inside extensions)"),
    "xapi-empty-string": ("Data 2.2", "empty strings are not allowed outside extensions"),
    "xapi-range": ("Data 2.2", "number out of the allowed range"),
    "xapi-duplicate-property": ("Data 2.2", "a Statement MUST use each property no more than one time"),
    "xapi-format-uuid": ("Data 2.4.1, 4.4", "UUIDs MUST be in standard string form"),
    "xapi-format-iri": ("Data 3.1, 4.3", "value MUST be an IRI with a scheme"),
    "xapi-format-timestamp": ("Data 4.5", "Timestamp MUST be ISO 8601 with a time zone"),
    "xapi2-timestamp-rfc3339": (
        "IEEE 9274.1.1 Timestamp",
        "xAPI 2.0 timestamps are RFC 3339 date-times with seconds and an offset other than -00:00",
    ),
    "xapi-format-duration": ("Data 4.6", "Duration MUST use the ISO 8601 duration format (PnYnMnDTnHnMnS or PnW)"),
    "xapi-format-langtag": ("Data 2.4.6, 4.2", "value MUST be an RFC 5646 language tag"),
    "xapi-language-map-key": ("Data 2.2, 4.2", "language map keys MUST be RFC 5646 language tags"),
    "xapi-extension-key-iri": ("Data 4.1", "the keys of an extensions map MUST be IRIs"),
    "xapi-format-mailto": ("Data 2.4.2.3", 'mbox MUST be a "mailto:" IRI'),
    "xapi-format-sha1": ("Data 2.4.2.3", "mbox_sha1sum MUST be a hex-encoded SHA-1 (40 hex digits)"),
    "xapi-format-sha2": ("Data 2.4.11", "sha2 MUST be a hex-encoded SHA-2 hash (224/256/384/512 bits)"),
    "xapi-format-mimetype": ("Data 2.4.11", "contentType MUST be an Internet Media Type (RFC 2046)"),
    "xapi-version": ("Data 2.4.10", 'version MUST be "1.0" or start with "1.0." (xAPI 2.0 also accepts "2.0.")'),
    "xapi-ifi-exactly-one": ("Data 2.4.2.1, 2.4.2.2", "an Agent or Identified Group MUST have exactly one IFI"),
    "xapi-group-anonymous-member": ("Data 2.4.2.2", 'an Anonymous Group MUST include a "member" list'),
    "xapi-group-member-agent": ("Data 2.4.2.2", "Group members MUST be Agents, not Groups"),
    "xapi-group-object-type": ("Data 2.4.2.2", 'a Group MUST have "objectType": "Group"'),
    "xapi-account-homepage-name": ("Data 2.4.2.4", 'an account MUST have "homePage" and "name"'),
    "xapi-object-type": ("Data 2.4.4", "objectType is not allowed here"),
    "xapi-object-agent-object-type": (
        "Data 2.4.4.2",
        'an Agent or Group used as object MUST specify "objectType"',
    ),
    "xapi-voiding-statementref": (
        "Data 2.3.2",
        'a voiding Statement (verb ".../verbs/voided") MUST have a StatementRef object',
    ),
    "xapi-substatement-nested": ("Data 2.4.4.3", "a SubStatement MUST NOT contain a SubStatement"),
    "xapi-substatement-forbidden-property": (
        "Data 2.4.4.3",
        'a SubStatement MUST NOT have "id", "stored", "version" or "authority"',
    ),
    "xapi-score-scaled-range": ("Data 2.4.5.1", "score.scaled MUST be between -1 and 1 inclusive"),
    "xapi-score-raw-range": ("Data 2.4.5.1", "score.raw MUST be between min and max inclusive"),
    "xapi-score-min-max": ("Data 2.4.5.1", "score.min MUST be less than score.max"),
    "xapi-context-revision-activity-only": (
        "Data 2.4.6",
        'context "revision" MUST only be used if the object is an Activity',
    ),
    "xapi-context-platform-activity-only": (
        "Data 2.4.6",
        'context "platform" MUST only be used if the object is an Activity',
    ),
    "xapi-context-team-group": ("Data 2.4.6", 'context "team" MUST be a Group'),
    "xapi-context-activities-key": (
        "Data 2.4.6.2",
        "contextActivities keys MUST be parent, grouping, category or other",
    ),
    "xapi-interaction-type": ("Data 2.4.4.1", "interactionType MUST be one of the ten defined values"),
    "xapi-interaction-type-required": (
        "Data 2.4.4.1",
        "correctResponsesPattern and component lists need an interactionType",
    ),
    "xapi-interaction-component-list": (
        "Data 2.4.4.1 Interaction Components",
        "this component list is not supported for the interactionType",
    ),
    "xapi-interaction-component-id-unique": (
        "Data 2.4.4.1 Interaction Components",
        "ids within an interaction component list MUST be distinct",
    ),
    "xapi-attachment-required": (
        "Data 2.4.11",
        "an Attachment MUST have usageType, display, contentType, length and sha2",
    ),
    "xapi-authority-agent-or-oauth-group": (
        "Data 2.4.9",
        "authority MUST be an Agent, or a Group of exactly two Agents (3-legged OAuth)",
    ),
    "xapi2-only-property": ("IEEE 9274.1.1 Context", "contextAgents/contextGroups exist only in xAPI 2.0"),
    "xapi2-relevant-types-nonempty": (
        "IEEE 9274.1.1 Context",
        "relevantTypes, when present, MUST list at least one IRI",
    ),
    "xapi2-context-agent-is-agent": ("IEEE 9274.1.1 Context", "contextAgents[].agent MUST be an Agent"),
}


@dataclass(frozen=True)
class ValidationIssue:
    """One problem in a statement: where (JSON path), which rule (id from RULES), what to fix."""

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: [{self.rule}] {self.message}"


# --------------------------------------------------------------------------- formats
# Best-effort IRI check (Data 2.2 allows best effort): a scheme, no whitespace or characters
# RFC 3987 excludes; http(s) additionally needs an authority, so "http:foo" is caught.
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+$")
_HTTP_IRI = re.compile(r"^https?://[^/?#\s]+", re.IGNORECASE)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_SHA2 = re.compile(r"^(?:[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$")
_MAILTO = re.compile(r"^mailto:[^\s@]+@[^\s@]+$")
_TOKEN = r"[A-Za-z0-9!#$%&'*+.^_`|~\-]+"
_MIMETYPE = re.compile(rf"^{_TOKEN}/{_TOKEN}(?:\s*;\s*{_TOKEN}=(?:{_TOKEN}|\"[^\"]*\"))*$")
# RFC 5646 section 2.1 ABNF as one expression (langtag | privateuse | grandfathered).
_LANGTAG = re.compile(
    r"^(?:"
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})"  # language (+ extlang)
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
    r"|x(?:-[a-z0-9]{1,8})+"
    r"|en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn"
    r"|i-tao|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de|art-lojban|cel-gaulish|no-bok|no-nyn"
    r"|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
    r")$",
    re.IGNORECASE,
)
# ISO 8601:2004 4.4.3.2 durations; the alternative format (P0003-00-00...) MUST NOT be used (Data 4.6).
_NUM = r"\d+(?:[.,]\d+)?"
_DURATION = re.compile(
    rf"^P(?:(?P<w>{_NUM})W|(?:(?P<y>{_NUM})Y)?(?:(?P<mo>{_NUM})M)?(?:(?P<d>{_NUM})D)?"
    rf"(?:T(?:(?P<h>{_NUM})H)?(?:(?P<mi>{_NUM})M)?(?:(?P<s>{_NUM})S)?)?)$"
)
# ISO 8601 extended calendar date-time; seconds and fraction optional (reduced precision is ISO 8601).
_TS_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)$"
)
_TS_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$")


def is_valid_iri(value: str) -> bool:
    """Best-effort IRI check: scheme, no forbidden characters, authority for http(s)."""
    if not _IRI.match(value):
        return False
    if value[:5].lower() in ("http:", "https"):
        return bool(_HTTP_IRI.match(value))
    return True


def is_valid_language_tag(value: str) -> bool:
    """RFC 5646 well-formedness (token structure, not registry membership)."""
    return bool(_LANGTAG.match(value))


def is_valid_duration(value: str) -> bool:
    """ISO 8601 duration; only the smallest given component may carry a fraction."""
    match = _DURATION.match(value)
    if not match or value in ("P", "PT") or value.endswith("T"):
        return False
    parts = [match.group(name) for name in ("w", "y", "mo", "d", "h", "mi", "s") if match.group(name)]
    if not parts:
        return False
    return not any(("." in part or "," in part) for part in parts[:-1])


def is_valid_timestamp(value: str, version: str = "1.0.3") -> bool:
    """ISO 8601 date-time with zone (1.0.3, SHOULD* taken as MUST) or RFC 3339 (2.0)."""
    return _is_valid_timestamp(value, _model(version) == "2.0")


def _is_valid_timestamp(value: str, strict: bool) -> bool:
    match = (_TS_RFC3339 if strict else _TS_ISO).match(value)
    if not match:
        return False
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    zone = match.group(8)
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    if hour > 23 or minute > 59 or second > 60:  # 60: leap second
        return False
    if zone not in ("Z", "z"):
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[-2:]) if len(zone) > 3 else 0
        if zone_hours > 23 or zone_minutes > 59:
            return False
        # RFC 3339 4.3: "-00:00" means "offset unknown", not a point in time. The ADL 1.0.3 conformance
        # suite rejects it in every spelling (-00, -0000, -00:00, XAPI-00123), and 2.0 forbids it too.
        if zone[0] == "-" and zone_hours == 0 and zone_minutes == 0:
            return False
    return True


def _string_formats(version: str) -> dict[str, Callable[[str], bool]]:
    """Format name -> check of a string; shared by the full validator and the fast path."""
    strict = _model(version) == "2.0"
    version_pattern = _version_pattern(version)
    return {
        "iri": is_valid_iri,
        "uuid": lambda v: bool(_UUID.match(v)),
        "sha1": lambda v: bool(_SHA1.match(v)),
        "sha2": lambda v: bool(_SHA2.match(v)),
        "mailto": lambda v: bool(_MAILTO.match(v)),
        "mimetype": lambda v: bool(_MIMETYPE.match(v)),
        "langtag": is_valid_language_tag,
        "duration": is_valid_duration,
        "timestamp": lambda v: _is_valid_timestamp(v, strict),
        "statement-version": lambda v: bool(version_pattern.match(v)),
    }


def _format_checker(version: str) -> FormatChecker:
    checker = FormatChecker(formats=())
    for name, check in _string_formats(version).items():
        # Formats only judge strings; a wrong type is reported once, by "type".
        checker.checks(name)(lambda instance, _check=check: not isinstance(instance, str) or _check(instance))
    return checker


def _version_pattern(version: str) -> re.Pattern[str]:
    # "1.0" is a valid statement version too: formatted like the version header (Data 2.4.10, XAPI-00101).
    return re.compile(r"^1\.0(?:\.\d+)?$" if _model(version) == "1.0" else r"^(?:1\.0(?:\.\d+)?|2\.0\.\d+)$")


@lru_cache(maxsize=16)
def _model(version: str) -> str:
    # "1.0" alone is what an X-Experience-API-Version header may say (Communication 3.3).
    # Cached: every timestamp check asks (lru_cache does not cache the ValueError, so it stays raised).
    if re.fullmatch(r"1\.0(?:\.\d+)?", version):
        return "1.0"
    if re.fullmatch(r"2\.0(?:\.\d+)?", version):
        return "2.0"
    raise ValueError(f"unsupported xAPI version {version!r}; use one of {', '.join(SUPPORTED_VERSIONS)}")


# --------------------------------------------------------------------------- schema layer
def _load_schema() -> dict[str, Any]:
    text = resources.files("xapi").joinpath("schema", "statement.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# The schema, validator and fast check depend only on the data model, so they are built once per
# model: the LRS passes the request's version header ("1.0.1", "1.0.3", ...) and each spelling must
# not build (and evict) its own copy.
_MODEL_VERSION = {"1.0": "1.0.3", "2.0": "2.0.0"}


@lru_cache(maxsize=2)
def _model_schema(model: str) -> dict[str, Any]:
    schema = _load_schema()
    if model == "1.0":
        context = schema["$defs"]["context"]
        for name in context["x-xapi-2.0-only"]:
            del context["properties"][name]
    return schema


def _validator(version: str) -> Draft202012Validator:
    """The full jsonschema validator for the data model of ``version`` (ValueError if unsupported)."""
    return _model_validator(_model(version))


@lru_cache(maxsize=2)
def _model_validator(model: str) -> Draft202012Validator:
    schema = _model_schema(model)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_format_checker(_MODEL_VERSION[model]))


def _fast_schema_check(version: str) -> Check:
    """``check(statement) -> bool``, True only if the full validator would find no schema error."""
    return _model_fast_check(_model(version))


@lru_cache(maxsize=2)
def _model_fast_check(model: str) -> Check:
    return compile_schema(_model_schema(model), _string_formats(_MODEL_VERSION[model]))


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def json_path(parts: Iterable[str | int], root: str = "$") -> str:
    """Render path parts as JSONPath: ``$.actor.mbox``, ``$.context.extensions['https://…']``, ``[0]``."""
    out = root
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(part):
            out += f".{part}"
        else:
            out += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


def _issue(parts: Iterable[str | int], rule: str, detail: str | None = None) -> ValidationIssue:
    section, summary = RULES[rule]
    source = section if section.startswith("IEEE") else f"xAPI 1.0.3 {section}"
    return ValidationIssue(json_path(parts), rule, f"{detail or summary} ({source})")


def _show(value: Any, limit: int = 80) -> str:
    """repr() cut to ``limit`` characters: messages may echo hostile or huge input back to a client."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def _schema_issues(error: _SchemaError, version: str) -> Iterator[ValidationIssue]:
    """Translate one jsonschema error into issues with our rule ids and precise paths."""
    parts = list(error.absolute_path)
    keyword = str(error.validator)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    override = schema.get("x-rules", {}).get(keyword)
    instance = error.instance

    if keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = schema.get("properties", {})
        for key in instance:
            if key in allowed:
                continue
            if _model(version) == "1.0" and key in ("contextAgents", "contextGroups") and "registration" in allowed:
                yield _issue(
                    [*parts, key], "xapi2-only-property", f'"{key}" is an xAPI 2.0 property; not allowed in {version}'
                )
            else:
                rule = override or "xapi-unknown-property"
                yield _issue([*parts, key], rule, f"unknown property {_show(key)}; {RULES[rule][1]}")
        return
    if keyword == "required" and isinstance(instance, dict):
        rule = override or "xapi-required-property"
        for key in error.validator_value:
            if key not in instance:
                yield _issue([*parts, key], rule, f'missing required property "{key}"; {RULES[rule][1]}')
        return
    if keyword == "format":
        name = str(error.validator_value)
        if "propertyNames" in error.relative_schema_path:
            # jsonschema reports key errors at the object; point at the key itself.
            rule = "xapi-extension-key-iri" if name == "iri" else "xapi-language-map-key"
            yield _issue([*parts, str(instance)], rule, f"key {_show(instance)} is invalid; {RULES[rule][1]}")
            return
        if name == "timestamp" and _model(version) == "2.0":
            rule = "xapi2-timestamp-rfc3339"
        elif name == "statement-version":
            rule = "xapi-version"
        else:
            rule = f"xapi-format-{name}"
        yield _issue(parts, rule, f"{_show(instance)} is invalid; {RULES[rule][1]}")
        return
    if override:
        detail = None
        if keyword in ("const", "enum"):
            allowed_values = [error.validator_value] if keyword == "const" else list(error.validator_value)
            detail = f"{_show(instance)} is not one of {allowed_values}"
        elif keyword in ("minimum", "maximum"):
            detail = f"{RULES[override][1]}; got {_show(instance)}"
        yield _issue(parts, override, detail)
        return
    if keyword == "type":
        yield _issue(parts, "xapi-type", f"expected {error.validator_value}, got {_type_name(instance)}")
    elif keyword == "minLength":
        yield _issue(parts, "xapi-empty-string")
    elif keyword in ("const", "enum"):
        allowed_values = [error.validator_value] if keyword == "const" else list(error.validator_value)
        rule = "xapi-object-type" if parts[-1:] == ["objectType"] else "xapi-type"
        yield _issue(parts, rule, f"{_show(instance)} is not one of {allowed_values}")
    elif keyword == "minProperties":  # an empty Language Map (Data 4.2)
        yield _issue(parts, "xapi-range", f"{_show(instance)} needs at least {error.validator_value} entry")
    elif keyword in ("minimum", "maximum", "minItems"):
        yield _issue(parts, "xapi-range", f"{_show(instance)} violates {keyword} {error.validator_value}")
    else:  # pragma: no cover - every keyword used by the schema is mapped above
        yield _issue(parts, "xapi-type", f"{keyword} failed for {_show(instance)}")


# --------------------------------------------------------------------------- semantic layer
Path = list[str | int]


def _ifis(node: Mapping[str, Any]) -> list[str]:
    return [key for key in _IFIS if key in node]


def _check_agent(agent: Any, path: Path) -> Iterator[ValidationIssue]:
    if not isinstance(agent, dict):
        return
    found = _ifis(agent)
    if len(found) != 1:
        detail = (
            "no IFI (mbox, mbox_sha1sum, openid or account)" if not found else f"{len(found)} IFIs ({', '.join(found)})"
        )
        yield _issue(path, "xapi-ifi-exactly-one", f"Agent has {detail}; it MUST have exactly one")


def _check_group(group: Any, path: Path) -> Iterator[ValidationIssue]:
    if not isinstance(group, dict):
        return
    found = _ifis(group)
    if len(found) > 1:
        yield _issue(
            path,
            "xapi-ifi-exactly-one",
            f"Identified Group has {len(found)} IFIs ({', '.join(found)}); it MUST have exactly one",
        )
    if not found and "member" not in group:
        yield _issue(path, "xapi-group-anonymous-member", 'Group has no IFI, so it is anonymous and MUST list "member"')
    members = group.get("member")
    if isinstance(members, list):
        for index, member in enumerate(members):
            if isinstance(member, dict) and member.get("objectType") != "Group":
                yield from _check_agent(member, [*path, "member", index])


def _check_actor(actor: Any, path: Path) -> Iterator[ValidationIssue]:
    if isinstance(actor, dict) and actor.get("objectType") == "Group":
        yield from _check_group(actor, path)
    else:
        yield from _check_agent(actor, path)


_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_ALLOWED_LISTS = {
    "choice": {"choices"},
    "sequencing": {"choices"},
    "likert": {"scale"},
    "matching": {"source", "target"},
    "performance": {"steps"},
}


def _check_definition(definition: Any, path: Path) -> Iterator[ValidationIssue]:
    if not isinstance(definition, dict):
        return
    lists = [key for key in _COMPONENT_LISTS if key in definition]
    interaction_type = definition.get("interactionType")
    if interaction_type is None and (lists or "correctResponsesPattern" in definition):
        present = ", ".join(lists + (["correctResponsesPattern"] if "correctResponsesPattern" in definition else []))
        yield _issue(path, "xapi-interaction-type-required", f"{present} given without interactionType")
    elif isinstance(interaction_type, str):
        allowed = _ALLOWED_LISTS.get(interaction_type, set())
        for key in lists:
            if key not in allowed:
                supported = ", ".join(sorted(allowed)) or "none"
                yield _issue(
                    [*path, key],
                    "xapi-interaction-component-list",
                    f'"{key}" is not supported for interactionType "{interaction_type}" (supported: {supported})',
                )
    for key in lists:
        components = definition[key]
        if not isinstance(components, list):
            continue
        seen: set[str] = set()
        for index, component in enumerate(components):
            component_id = component.get("id") if isinstance(component, dict) else None
            if isinstance(component_id, str):
                if component_id in seen:
                    yield _issue(
                        [*path, key, index, "id"],
                        "xapi-interaction-component-id-unique",
                        f"duplicate component id {component_id!r}",
                    )
                seen.add(component_id)


def _number(value: Any) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _check_score(score: Any, path: Path) -> Iterator[ValidationIssue]:
    if not isinstance(score, dict):
        return
    raw, low, high = (_number(score.get(key)) for key in ("raw", "min", "max"))
    if low is not None and high is not None and not low < high:
        yield _issue([*path, "min"], "xapi-score-min-max", f"min {low} is not less than max {high}")
    if raw is not None and low is not None and raw < low:
        yield _issue([*path, "raw"], "xapi-score-raw-range", f"raw {raw} is below min {low}")
    if raw is not None and high is not None and raw > high:
        yield _issue([*path, "raw"], "xapi-score-raw-range", f"raw {raw} is above max {high}")


def _object_type(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    object_type = obj.get("objectType", "Activity")
    return object_type if isinstance(object_type, str) else None


def _check_object(obj: Any, path: Path, in_substatement: bool) -> Iterator[ValidationIssue]:
    if not isinstance(obj, dict):
        return
    object_type = _object_type(obj)
    if "objectType" not in obj and _ifis(obj):
        yield _issue(
            path, "xapi-object-agent-object-type", 'object looks like an Agent (has an IFI) but has no "objectType"'
        )
    if object_type == "Agent":
        yield from _check_agent(obj, path)
    elif object_type == "Group":
        yield from _check_group(obj, path)
    elif object_type == "Activity":
        yield from _check_definition(obj.get("definition"), [*path, "definition"])
    elif object_type == "SubStatement" and not in_substatement:
        for key in ("id", "stored", "version", "authority"):
            if key in obj:
                yield _issue(
                    [*path, key], "xapi-substatement-forbidden-property", f'SubStatement MUST NOT have "{key}"'
                )
        yield from _check_statement(obj, path, in_substatement=True)


def _check_context(context: Any, path: Path, object_type: str | None) -> Iterator[ValidationIssue]:
    if not isinstance(context, dict):
        return
    if object_type != "Activity":
        for key, rule in (
            ("revision", "xapi-context-revision-activity-only"),
            ("platform", "xapi-context-platform-activity-only"),
        ):
            if key in context:
                yield _issue(
                    [*path, key],
                    rule,
                    f'"{key}" is only allowed when the object is an Activity (object is {object_type})',
                )
    if "instructor" in context:
        yield from _check_actor(context["instructor"], [*path, "instructor"])
    team = context.get("team")
    if isinstance(team, dict) and team.get("objectType") == "Group":
        yield from _check_group(team, [*path, "team"])
    for index, item in enumerate(_list(context.get("contextAgents"))):
        agent = item.get("agent") if isinstance(item, dict) else None
        if isinstance(agent, dict) and agent.get("objectType") != "Group":
            yield from _check_agent(agent, [*path, "contextAgents", index, "agent"])
    for index, item in enumerate(_list(context.get("contextGroups"))):
        if isinstance(item, dict):
            yield from _check_group(item.get("group"), [*path, "contextGroups", index, "group"])
    activities = context.get("contextActivities")
    if isinstance(activities, dict) and not activities:
        # XAPI-00095: at least one key; reported under the keys rule (the rule list is shared with other tests).
        yield _issue(
            [*path, "contextActivities"],
            "xapi-context-activities-key",
            "contextActivities is an empty object: give parent, grouping, category or other, or omit it",
        )
    for kind, value in activities.items() if isinstance(activities, dict) else ():
        pairs: list[tuple[int | None, Any]] = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for position, activity in pairs:
            where: Path = [*path, "contextActivities", kind] + ([] if position is None else [position])
            if isinstance(activity, dict):
                yield from _check_definition(activity.get("definition"), [*where, "definition"])


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _check_authority(authority: Any, path: Path) -> Iterator[ValidationIssue]:
    if not isinstance(authority, dict):
        return
    if authority.get("objectType") != "Group":
        yield from _check_agent(authority, path)
        return
    members = authority.get("member")
    agents = (
        [m for m in members if isinstance(m, dict) and m.get("objectType") != "Group"]
        if isinstance(members, list)
        else []
    )
    if _ifis(authority) or len(agents) != 2 or len(members or []) != 2:
        yield _issue(
            path,
            "xapi-authority-agent-or-oauth-group",
            "a Group authority MUST be an anonymous Group of exactly two Agents",
        )
    yield from _check_group(authority, path)


def _check_statement(
    statement: Mapping[str, Any], path: Path, in_substatement: bool = False
) -> Iterator[ValidationIssue]:
    yield from _check_actor(statement.get("actor"), [*path, "actor"])
    verb = statement.get("verb")
    obj = statement.get("object")
    if isinstance(verb, dict) and verb.get("id") == _VOIDED and _object_type(obj) != "StatementRef":
        yield _issue(
            [*path, "object"],
            "xapi-voiding-statementref",
            f"voiding Statement's object is {_object_type(obj) or 'missing'}; it MUST be a StatementRef",
        )
    yield from _check_object(obj, [*path, "object"], in_substatement)
    result = statement.get("result")
    if isinstance(result, dict):
        yield from _check_score(result.get("score"), [*path, "result", "score"])
    yield from _check_context(statement.get("context"), [*path, "context"], _object_type(obj))
    if not in_substatement and "authority" in statement:
        yield from _check_authority(statement["authority"], [*path, "authority"])


# --------------------------------------------------------------------------- public API
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
        activities = context.get("contextActivities") if isinstance(context, dict) else None
        if isinstance(activities, dict) and any(isinstance(value, dict) for value in activities.values()):
            node["context"] = dict(context)  # type: ignore[arg-type]
            node["context"]["contextActivities"] = {
                key: [value] if isinstance(value, dict) else value for key, value in activities.items()
            }
    return result


class _NonFinite(ValueError):
    """Raised inside the decoder for NaN/Infinity or a number that overflows a float (1e400)."""


def _refuse_constant(name: str) -> Any:
    raise _NonFinite(name)


def _finite_float(text: str) -> float:
    # json's default turns "1e400" into inf silently; stored, it would read back as "Infinity".
    value = float(text)
    if value in (_INF, -_INF):
        raise _NonFinite(text)
    return value


_INF = float("inf")
_MARK = object()
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _child_path(where: str, key: str) -> str:
    return f"{where}.{key}" if _PLAIN_KEY.match(key) else f"{where}[{json.dumps(key)}]"


def _first_path(value: Any, bad: Callable[[Any], bool], max_depth: int | None = None) -> str | None:
    """JSONPath of the first value or object key for which ``bad`` holds, or of the first container
    deeper than ``max_depth``; None if there is none. Iterative (the depth is untrusted); refusal path only.
    """
    stack: list[tuple[Any, str, int]] = [(value, "$", 1)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, (dict, list)) and max_depth is not None and depth > max_depth:
            return where
        if isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                if bad(key):
                    return _child_path(where, key)
                stack.append((child, _child_path(where, key), depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{index}]", depth + 1) for index, child in reversed(list(enumerate(item))))
        elif bad(item):
            return where
    return None


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _nonfinite_path(text: str) -> str:
    """Where the non-finite number is (only on the refusal path: parses again with markers)."""
    try:
        marked = json.loads(text, parse_constant=lambda _name: _MARK, parse_float=lambda t: _MARK if float(t) in (_INF, -_INF) else 0.0)
    except (ValueError, RecursionError):
        return "$"
    return _first_path(marked, lambda item: item is _MARK) or "$"


def loads_strict(text: str | bytes, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse statement JSON strictly; what ``json.loads`` lets through and later readers choke on is refused.

    Refused (each with the JSONPath where it is):

    * repeated keys in one object (Data 2.2), which dicts would hide: :class:`StatementValidationError`;
    * invalid UTF-8 or JSON, ``NaN``/``Infinity``/``1e400`` (not JSON numbers, RFC 8259 §6: stored,
      every later read of the statement fails), nesting deeper than ``max_depth`` (``json`` recurses
      once per level: 50,000 levels were a RecursionError), U+0000 (PostgreSQL text cannot hold it) and
      lone UTF-16 surrogates (not encodable as UTF-8, so not storable): :class:`JsonLimitError`.

    The checks cost little on the hot path: the decoder hooks only see floats and constants, and the
    NUL/surrogate walks run only when the raw text holds such an escape. The depth walk visits
    containers only, and is skipped when the text has too few brackets to reach ``max_depth``.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise JsonLimitError("$", f"not UTF-8 text (byte {error.start}); send JSON encoded as UTF-8") from None

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise StatementValidationError(
                    [_issue([], "xapi-duplicate-property", f'property "{key}" occurs more than once in one object')]
                )
            seen[key] = value
        return seen

    try:
        value = json.loads(text, object_pairs_hook=pairs_hook, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NonFinite as error:
        raise JsonLimitError(
            _nonfinite_path(text), f"{error} is not a finite JSON number (RFC 8259 §6); send a finite number"
        ) from None
    except RecursionError:
        raise JsonLimitError("$", f"nested deeper than {max_depth} levels of arrays/objects") from None
    except json.JSONDecodeError as error:
        raise JsonLimitError("$", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except ValueError as error:  # e.g. an integer beyond int_max_str_digits
        raise JsonLimitError("$", f"not valid JSON: {error}") from None
    if text.count("[") + text.count("{") > max_depth and json_depth_exceeds(value, max_depth):
        path = _first_path(value, lambda item: False, max_depth) or "$"
        raise JsonLimitError(path, f"nested deeper than {max_depth} levels of arrays/objects")
    # Raw control characters are invalid JSON, so a NUL or a surrogate can only come from a \u escape
    # (or an escaped backslash before "u0000": then the walk finds nothing).
    if "\\u0000" in text:
        path = _first_path(value, lambda item: isinstance(item, str) and "\x00" in item)
        if path is not None:
            raise JsonLimitError(path, "contains a NUL character (U+0000), which cannot be stored; remove it")
    if _SURROGATE_ESCAPE.search(text):
        path = _first_path(value, lambda item: isinstance(item, str) and _SURROGATE.search(item) is not None)
        if path is not None:
            raise JsonLimitError(path, "contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not Unicode text; send valid UTF-8")
    return value


def json_depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether arrays/objects nest deeper than ``max_depth`` (the outermost counts 1; iterative)."""
    if not isinstance(value, (dict, list)):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if depth > max_depth:
            return True
        for child in item.values() if type(item) is dict else item:
            if type(child) is dict or type(child) is list:
                push((child, depth + 1))
    return False
