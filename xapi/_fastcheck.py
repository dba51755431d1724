"""Compile the statement JSON Schema into plain Python closures that answer "valid or not".

Why: ``jsonschema``'s ``iter_errors``/``is_valid`` walk the schema through its generic keyword
dispatch and ``$ref`` resolution on every call, which costs hundreds of microseconds for one
statement. Nearly every statement we see is valid, so :mod:`xapi.validation` first asks the
closure built here (tens of microseconds) and runs the full, message-building ``iter_errors`` only
when it says "invalid".

The compiler implements exactly the keyword semantics of JSON Schema 2020-12 as ``jsonschema``
does (same type predicates, keywords applying only to their own instance type, unknown formats
passing), but only for the keywords ``xapi/schema/statement.schema.json`` uses. Anything else makes
:func:`compile_schema` raise :class:`UnsupportedSchemaError`, so a schema edit can never make the
fast path silently skip a constraint. Where it could disagree with ``jsonschema`` on non-JSON
input (e.g. a ``Decimal``), it answers "invalid", which only sends the statement down the full path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from numbers import Number
from typing import Any

__all__ = ["Check", "UnsupportedSchemaError", "compile_schema"]

Check = Callable[[Any], bool]

# Keywords that never constrain an instance: annotations, and our own "x-" extensions.
_IGNORED = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description"})
_SUPPORTED = frozenset(
    {
        "type",
        "const",
        "enum",
        "minLength",
        "format",
        "minProperties",
        "propertyNames",
        "properties",
        "additionalProperties",
        "required",
        "items",
        "minItems",
        "minimum",
        "maximum",
        "$ref",
        "allOf",
        "if",
        "then",
        "else",
        "not",
    }
)


class UnsupportedSchemaError(ValueError):
    """The schema uses a keyword or value form the fast compiler does not implement."""


def _is_number(value: Any) -> bool:
    # jsonschema: bool is not a number; int and float are (other numbers.Number types go to the slow path).
    return type(value) in (int, float)


def _is_integer(value: Any) -> bool:
    kind = type(value)
    return kind is int or (kind is float and value.is_integer())


_TYPES: dict[str, Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "number": _is_number,
    "integer": _is_integer,
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
}


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    frozen = tuple(checks)

    def check_all(value: Any) -> bool:
        for check in frozen:  # noqa: SIM110 - a plain loop: all() over a generator costs more on this hot path
            if not check(value):
                return False
        return True

    return check_all


class _Compiler:
    def __init__(self, root: Mapping[str, Any], formats: Mapping[str, Callable[[str], bool]]) -> None:
        self._root = root
        self._formats = formats
        self._refs: dict[str, Check] = {}

    # ----------------------------------------------------------------- $ref
    def ref(self, pointer: str) -> Check:
        compiled = self._refs.get(pointer)
        if compiled is not None:
            return compiled
        # Late binding, so a recursive reference compiles instead of looping.
        cell: list[Check] = []
        self._refs[pointer] = lambda value: cell[0](value)
        compiled = self.compile(self._resolve(pointer))
        cell.append(compiled)
        self._refs[pointer] = compiled
        return compiled

    def _resolve(self, pointer: str) -> Any:
        if not pointer.startswith("#"):
            raise UnsupportedSchemaError(f"only local $ref pointers are supported, got {pointer!r}")
        node: Any = self._root
        for part in pointer[1:].split("/")[1:]:
            key = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or key not in node:
                raise UnsupportedSchemaError(f"$ref {pointer!r} does not resolve in the schema")
            node = node[key]
        return node

    # ----------------------------------------------------------------- schemas
    def compile(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, Mapping):
            raise UnsupportedSchemaError(f"a schema is an object or a boolean, got {schema!r}")
        unknown = {k for k in schema if k not in _SUPPORTED and k not in _IGNORED and not k.startswith("x-")}
        if unknown:
            raise UnsupportedSchemaError(f"keywords not implemented by the fast path: {sorted(unknown)}")

        checks: list[Check] = []
        # A single "type" is folded into the closure of that type's keywords (one call, not two).
        kind = schema.get("type")
        fused: Check | None = None
        if kind == "string":
            fused = self._string(schema, typed=True)
        elif kind == "number":
            fused = self._number(schema, typed=True)
        elif kind == "object":
            fused = self._object(schema, typed=True)
        elif kind == "array":
            fused = self._array(schema, typed=True)
        if fused is not None:
            checks.append(fused)
        elif kind is not None:
            checks.append(self._type(kind))
        if "const" in schema:
            checks.append(self._enum([schema["const"]]))
        if "enum" in schema:
            checks.append(self._enum(list(schema["enum"])))
        for typed_check in (
            None if kind == "string" else self._string(schema, typed=False),
            None if kind == "number" else self._number(schema, typed=False),
            None if kind == "object" else self._object(schema, typed=False),
            None if kind == "array" else self._array(schema, typed=False),
        ):
            if typed_check is not None:
                checks.append(typed_check)
        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"]))
        for sub in schema.get("allOf", ()):
            checks.append(self.compile(sub))
        if "if" in schema:
            checks.append(self._conditional(schema))
        if "not" in schema:
            negated = self.compile(schema["not"])
            checks.append(lambda value: not negated(value))
        return _all(checks)

    def _type(self, names: Any) -> Check:
        if isinstance(names, str):
            return _TYPES[names]
        predicates = tuple(_TYPES[name] for name in names)
        return lambda value: any(predicate(value) for predicate in predicates)

    def _enum(self, allowed: list[Any]) -> Check:
        if not all(isinstance(item, str) for item in allowed):
            # jsonschema's equality treats 1 and True apart, 1 and 1.0 alike...: not needed by our schema.
            raise UnsupportedSchemaError(f"const/enum values other than strings are not implemented: {allowed!r}")
        options = frozenset(allowed)
        return lambda value: isinstance(value, str) and value in options

    def _string(self, schema: Mapping[str, Any], typed: bool) -> Check | None:
        """minLength and format; with ``typed`` also the "type": "string" check."""
        min_length = schema.get("minLength", 0)
        fmt = self._formats.get(schema["format"]) if "format" in schema else None  # unknown format: passes
        if not min_length and fmt is None:
            return _TYPES["string"] if typed else None
        wrong_type = not typed  # what a non-string gets: keywords of another type do not apply

        def check_string(value: Any) -> bool:
            if not isinstance(value, str):
                return wrong_type
            if len(value) < min_length:
                return False
            return fmt is None or fmt(value)

        return check_string

    def _number(self, schema: Mapping[str, Any], typed: bool) -> Check | None:
        """minimum and maximum; with ``typed`` also the "type": "number" check."""
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is None and high is None:
            return _TYPES["number"] if typed else None

        def check_number(value: Any) -> bool:
            if type(value) in (int, float):
                # Written as jsonschema fails ("value < minimum"), so NaN passes here as it does there.
                return not (low is not None and value < low) and not (high is not None and value > high)
            if typed:
                return False  # not a number, or a Number type left to the full path
            # Bounds apply only to numbers (bool is not one). Another numbers.Number type would be
            # compared by jsonschema: answer "invalid" so the full path decides.
            return isinstance(value, bool) or not isinstance(value, Number)

        return check_number

    def _object(self, schema: Mapping[str, Any], typed: bool) -> Check | None:
        """Object keywords; with ``typed`` also the "type": "object" check."""
        keys = ("properties", "additionalProperties", "required", "minProperties", "propertyNames")
        if not any(key in schema for key in keys):
            return _TYPES["object"] if typed else None
        properties = {name: self.compile(sub) for name, sub in schema.get("properties", {}).items()}
        additional_schema = schema.get("additionalProperties", True)
        additional: Check | None = None if additional_schema is True else self.compile(additional_schema)
        required = tuple(schema.get("required", ()))
        min_properties = schema.get("minProperties", 0)
        names = self.compile(schema["propertyNames"]) if "propertyNames" in schema else _always
        get_property = properties.get
        wrong_type = not typed

        def check_object(value: Any) -> bool:
            if not isinstance(value, dict):
                return wrong_type
            for name in required:
                if name not in value:
                    return False
            for name, item in value.items():
                check = get_property(name, additional)
                if check is not None and not check(item):
                    return False
            return True

        if names is _always and not min_properties:
            return check_object  # the common shape, without two no-op steps per property

        def check_map(value: Any) -> bool:
            if not isinstance(value, dict):
                return wrong_type
            if len(value) < min_properties:
                return False
            for name in value:
                if not names(name):
                    return False
            return check_object(value)

        return check_map

    def _array(self, schema: Mapping[str, Any], typed: bool) -> Check | None:
        """items and minItems; with ``typed`` also the "type": "array" check."""
        if "items" not in schema and "minItems" not in schema:
            return _TYPES["array"] if typed else None
        items = self.compile(schema["items"]) if "items" in schema else _always
        min_items = schema.get("minItems", 0)
        wrong_type = not typed

        def check_array(value: Any) -> bool:
            if not isinstance(value, list):
                return wrong_type
            if len(value) < min_items:
                return False
            for item in value:  # noqa: SIM110 - a plain loop: all() over a generator costs more on this hot path
                if not items(item):
                    return False
            return True

        return check_array

    def _conditional(self, schema: Mapping[str, Any]) -> Check:
        condition = self.compile(schema["if"])
        then = self.compile(schema["then"]) if "then" in schema else _always
        otherwise = self.compile(schema["else"]) if "else" in schema else _always
        return lambda value: then(value) if condition(value) else otherwise(value)


def compile_schema(schema: Mapping[str, Any], formats: Mapping[str, Callable[[str], bool]]) -> Check:
    """Return ``check(instance) -> bool``: True only if ``schema`` accepts ``instance``.

    Args:
        schema: a JSON Schema 2020-12 document using only the keywords listed in ``_SUPPORTED``
            (``$ref`` pointers are resolved inside this document).
        formats: format name -> check of a string; the same checks the ``FormatChecker`` of the full
            validator uses. A format not named here is not checked, as in ``jsonschema``.

    Raises:
        UnsupportedSchemaError: the schema uses something this compiler does not implement.
    """
    return _Compiler(schema, formats).compile(schema)
