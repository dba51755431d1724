"""The rules a statement is checked against (id -> spec section, demand) and how a broken one is reported.

Sections are xAPI 1.0.3 Part Two (Data) unless prefixed "IEEE 9274.1.1" (xAPI 2.0)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SUPPORTED_VERSIONS = ("1.0.3", "2.0.0")

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
