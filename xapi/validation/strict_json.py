"""Strict parsing of statement JSON: repeated keys, non-finite numbers, depth, NUL and lone surrogates refused
with the JSONPath where they are (:func:`loads_strict`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from xapi.errors import StatementValidationError
from xapi.jsonlimits import DEFAULT_MAX_DEPTH, JsonLimitError
from xapi.validation.rules import _issue


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
        nul = _first_path(value, lambda item: isinstance(item, str) and "\x00" in item)
        if nul is not None:
            raise JsonLimitError(nul, "contains a NUL character (U+0000), which cannot be stored; remove it")
    if _SURROGATE_ESCAPE.search(text):
        surrogate = _first_path(value, lambda item: isinstance(item, str) and _SURROGATE.search(item) is not None)
        if surrogate is not None:
            raise JsonLimitError(surrogate, "contains a lone UTF-16 surrogate (\\ud800-\\udfff), which is not Unicode text; send valid UTF-8")
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
