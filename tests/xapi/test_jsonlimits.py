"""Bounded JSON parsing: what ``json.loads`` lets through and every later reader chokes on is refused up front."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xapi.jsonlimits import JsonLimitError, loads_bounded


@pytest.mark.parametrize("text, path, reason", [
    ('{"result": {"score": {"raw": NaN}}}', "$", "NaN is not a JSON number"),
    ("[Infinity]", "$", "Infinity is not a JSON number"),
    ("[-Infinity]", "$", "-Infinity is not a JSON number"),
    ('{"a": "x\\u0000y"}', "$.a", "NUL character"),
    ('{"a": [{"b": "\\u0000"}]}', "$.a[0].b", "NUL character"),
    ('{"k\\u0000": 1}', '$["k\\u0000"]', "NUL character"),
    ('{"a": ', "$", "not valid JSON"),
    ("[" * 33 + "]" * 33, "$", "nested deeper than 32"),
])
def test_refusals_say_where_and_what(text: str, path: str, reason: str) -> None:
    with pytest.raises(JsonLimitError) as error:
        loads_bounded(text)
    assert error.value.path == path
    assert reason in error.value.reason


def test_fifty_thousand_levels_are_refused_quickly_without_recursion_error() -> None:
    started = time.perf_counter()
    with pytest.raises(JsonLimitError, match="nested deeper than 32"):
        loads_bounded(b"[" * 50_000 + b"]" * 50_000)
    assert time.perf_counter() - started < 1.0


def test_depth_is_counted_exactly_and_configurable() -> None:
    assert loads_bounded("[" * 32 + "]" * 32) is not None
    assert loads_bounded('{"a": ' * 5 + "1" + "}" * 5, max_depth=5) == json.loads('{"a": ' * 5 + "1" + "}" * 5)
    with pytest.raises(JsonLimitError):
        loads_bounded('{"a": ' * 6 + "1" + "}" * 6, max_depth=5)


def test_brackets_inside_strings_do_not_count_and_nul_may_be_allowed() -> None:
    assert loads_bounded(json.dumps({"text": "[" * 1000})) == {"text": "[" * 1000}
    assert loads_bounded('"a\\u0000"', allow_nul=True) == "a\x00"
    assert loads_bounded('"a\\\\u0000"') == "a\\u0000"  # an escaped backslash, not a NUL


def test_invalid_utf8_names_the_byte() -> None:
    with pytest.raises(JsonLimitError, match="byte 2"):
        loads_bounded(b'"a\xff"')


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


@settings(max_examples=300, deadline=None, derandomize=True)
@given(json_values, st.integers(min_value=1, max_value=8))
def test_accepts_exactly_what_json_accepts_within_the_bounds(value: Any, max_depth: int) -> None:
    text = json.dumps(value)
    if _depth(value) > max_depth or _has_nul(value):
        with pytest.raises(JsonLimitError):
            loads_bounded(text, max_depth=max_depth)
    else:
        parsed = loads_bounded(text, max_depth=max_depth)
        assert parsed == value or (isinstance(value, float) and math.isclose(parsed, value))
