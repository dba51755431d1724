"""Reporting problems in course sources: the schema, JSON paths, YAML line numbers and the error collector.

The loader collects every problem (not only the first), each with file, line, field path and what was
expected; :class:`Collector` holds them and checks data against the course JSON Schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from content.errors import SourceError
from content.limits import SourceLimits


@lru_cache(maxsize=1)
def course_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of course sources, shipped inside the package."""
    text = resources.files("content").joinpath("schema/course.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(definition: str | None) -> jsonschema.Draft202012Validator:
    # One validator per definition: building one (and resolving its $refs) per block made large courses slow.
    schema = course_schema()
    if definition is not None:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(schema)


def json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, str) and part.startswith("$"):
            out = part
            continue
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def line_of(node: yaml.Node | None, parts: Iterable[Any]) -> int | None:
    """The 1-based line of the YAML node at ``parts`` (or of its nearest existing parent)."""
    if node is None:
        return None
    current = node
    for part in parts:
        nxt = None
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if key.value == part:
                    nxt = value
                    break
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int) and part < len(current.value):
            nxt = current.value[part]
        if nxt is None:
            break
        current = nxt
    return current.start_mark.line + 1


def _expected(error: jsonschema.ValidationError) -> str:
    """A message that says what was expected, in words an author understands."""
    kw = error.validator
    expected: Any = error.validator_value  # typed "Any | Unset" by the stubs; set on every error iter_errors yields
    if kw == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return f"missing required field {missing[0]!r}" if missing else error.message
    if kw == "additionalProperties" or kw == "propertyNames":
        extra = re.findall(r"'([^']+)'", error.message)
        allowed = sorted(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        if kw == "propertyNames" and isinstance(expected, dict):
            allowed = list(expected.get("enum", []))
        name = extra[0] if extra else "?"
        return f"unknown field {name!r}; expected one of: {', '.join(map(str, allowed))}"
    if kw == "pattern":
        desc = error.schema.get("description") if isinstance(error.schema, dict) else None
        return f"{error.instance!r} does not match the expected form{': ' + desc if desc else ' ' + expected}"
    if kw == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(repr, expected))}"
    if kw == "type":
        return f"expected {expected}, got {type(error.instance).__name__} {error.instance!r}"[:200]
    return error.message[:300]


@dataclass
class Collector:
    root: Path
    errors: list[SourceError]
    limits: SourceLimits = field(default_factory=SourceLimits)

    def add(self, file: str, line: int | None, path: str, rule: str, message: str) -> None:
        self.errors.append(SourceError(str(self.root / file), line, path, rule, message))

    def schema(self, file: str, node: yaml.Node | None, data: Any, definition: str | None, prefix: list[Any]) -> bool:
        ok = True
        for error in _validator(definition).iter_errors(data):
            ok = False
            parts = [*prefix, *error.absolute_path]
            is_language = "propertyNames" in error.absolute_schema_path
            if error.validator == "additionalProperties" or is_language:
                extra = re.findall(r"'([^']+)'", error.message)
                if is_language and isinstance(error.instance, str):
                    extra = [error.instance]
                if extra:
                    parts = [*parts, extra[0]]
            rule = "schema-" + str(error.validator)
            message = _expected(error)
            if definition == "block" and list(error.absolute_path) == ["type"] and error.validator == "enum":
                rule = "unknown-block-type"
            elif is_language:
                rule = "language"
                message = f"language code {error.instance!r} is not used here; texts are in 'nb' (bokmål) and 'en' (English)"
            self.add(file, line_of(node, parts[len(prefix):]), json_path(parts), rule, message)
        return ok

