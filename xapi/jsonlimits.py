"""Parsing JSON that a remote client controls, with bounds the standard library does not enforce.

``json.loads`` accepts ``NaN``/``Infinity`` (not JSON: RFC 8259 §6, and every later reader of the stored
text fails), recurses once per nesting level (50,000 ``[`` give a ``RecursionError``, which Flask turns into
an HTML 500) and keeps U+0000 in strings (PostgreSQL ``text``/``jsonb`` cannot hold it, so the write fails
late with a database error). :func:`loads_bounded` refuses all three up front with a
:class:`JsonLimitError` that says where and what was expected, so every surface answers a clean 400.
"""

from __future__ import annotations

import json
from typing import Any, Final

DEFAULT_MAX_DEPTH: Final = 32
"""Nesting depth allowed by default: a statement with a sub-statement and deep extensions uses about 12."""


class JsonLimitError(ValueError):
    """The JSON text is malformed, too deeply nested, holds a non-finite number or a NUL character."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.reason = message
        super().__init__(f"{path}: {message}")


def _refuse_constant(name: str) -> Any:
    raise JsonLimitError("$", f"{name} is not a JSON number (RFC 8259 §6); send a finite number")


def _finite_float(text: str) -> float:
    # json.loads turns "1e400" into inf without calling parse_constant: written back it is "Infinity".
    value = float(text)
    if value in (_INFINITY, -_INFINITY):
        raise JsonLimitError("$", f"{text} is not a finite number (it overflows a double: Infinity is not JSON, RFC 8259 §6)")
    return value


_INFINITY = float("inf")


def loads_bounded(raw: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH, allow_nul: bool = False) -> Any:
    """Parse ``raw`` as strict JSON within ``max_depth`` levels of arrays/objects.

    Raises :class:`JsonLimitError` for invalid UTF-8 or JSON, ``NaN``/``Infinity``, nesting deeper than
    ``max_depth``, and (unless ``allow_nul``) a U+0000 in any string or object key.
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise JsonLimitError("$", f"not UTF-8 text (byte {error.start}); send JSON encoded as UTF-8") from None
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except JsonLimitError:
        raise
    except RecursionError:
        # json's C decoder counts its own recursion and gives up cleanly past the interpreter's limit.
        raise JsonLimitError("$", f"nested deeper than {max_depth} levels of arrays/objects") from None
    except json.JSONDecodeError as error:
        raise JsonLimitError("$", f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except ValueError as error:
        # An integer of more than sys.get_int_max_str_digits() digits: a plain ValueError, not a JSONDecodeError.
        raise JsonLimitError("$", f"not valid JSON: {error}") from None
    # Raw control characters are already invalid JSON, so a NUL can only come from a \u0000 escape.
    if not allow_nul and "\\u0000" in raw:
        where = _nul_path(value, "$")
        if where is not None:
            raise JsonLimitError(where, "contains a NUL character (U+0000), which cannot be stored; remove it")
    if _depth_exceeds(value, max_depth):
        raise JsonLimitError("$", f"nested deeper than {max_depth} levels of arrays/objects")
    return value


def _depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether containers nest deeper than ``max_depth`` (iterative: visits containers only)."""
    if not isinstance(value, (dict, list)):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _nul_path(value: Any, path: str) -> str | None:
    """The JSONPath of the first string or key holding U+0000 (iterative: depth is already bounded)."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return f"{where}[{json.dumps(key)}]"
                stack.append((child, f"{where}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(item))
    return None
