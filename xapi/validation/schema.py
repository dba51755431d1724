"""The schema layer: ``xapi/schema/statement.schema.json`` as a full validator, as a compiled fast check, and
jsonschema's errors translated into our rule ids and paths."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as _SchemaError

from xapi._fastcheck import Check, compile_schema
from xapi.validation.formats import _format_checker, _model, _string_formats
from xapi.validation.rules import RULES, ValidationIssue, _issue, _show, _type_name


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


def _schema_issues(error: _SchemaError, version: str) -> Iterator[ValidationIssue]:
    """Translate one jsonschema error into issues with our rule ids and precise paths."""
    parts = list(error.absolute_path)
    keyword = str(error.validator)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    override = schema.get("x-rules", {}).get(keyword)
    instance = error.instance
    # jsonschema types it ``Any | Unset``; an error from ``iter_errors`` always carries its keyword's value.
    expected: Any = error.validator_value

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
        for key in expected:
            if key not in instance:
                yield _issue([*parts, key], rule, f'missing required property "{key}"; {RULES[rule][1]}')
        return
    if keyword == "format":
        name = str(expected)
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
            allowed_values = [expected] if keyword == "const" else list(expected)
            detail = f"{_show(instance)} is not one of {allowed_values}"
        elif keyword in ("minimum", "maximum"):
            detail = f"{RULES[override][1]}; got {_show(instance)}"
        yield _issue(parts, override, detail)
        return
    if keyword == "type":
        yield _issue(parts, "xapi-type", f"expected {expected}, got {_type_name(instance)}")
    elif keyword == "minLength":
        yield _issue(parts, "xapi-empty-string")
    elif keyword in ("const", "enum"):
        allowed_values = [expected] if keyword == "const" else list(expected)
        rule = "xapi-object-type" if parts[-1:] == ["objectType"] else "xapi-type"
        yield _issue(parts, rule, f"{_show(instance)} is not one of {allowed_values}")
    elif keyword == "minProperties":  # an empty Language Map (Data 4.2)
        yield _issue(parts, "xapi-range", f"{_show(instance)} needs at least {expected} entry")
    elif keyword in ("minimum", "maximum", "minItems"):
        yield _issue(parts, "xapi-range", f"{_show(instance)} violates {keyword} {expected}")
    else:  # pragma: no cover - every keyword used by the schema is mapped above
        yield _issue(parts, "xapi-type", f"{keyword} failed for {_show(instance)}")
