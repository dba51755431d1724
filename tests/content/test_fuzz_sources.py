"""Property-based fuzzing of course sources through the loader (issue 13).

Generated and mutated course.yaml and lesson Markdown — wrong types, huge strings, unicode, NUL and other
control characters, deep nesting, YAML anchors/aliases, bad media paths — must give either a valid
:class:`Course` or a :class:`CourseValidationError` whose every error names its file (inside the course) and
says what was expected: never another exception, never a hang. Fixed budget: derandomized, a bounded number
of examples, well under 20 s on the 2-core CI machine.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content import CourseValidationError, load_course
from content.model import Course

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "courses" / "valid" / "all-blocks"
COURSE_YAML = (VALID / "course.yaml").read_text("utf-8")
LESSON = (VALID / "lessons" / "01-alt.md").read_text("utf-8")
PER_EXAMPLE_SECONDS = 3.0

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=10),  # NUL and control characters
    st.sampled_from([
        "\x00", "\ufeff", "\u2028", "\x85", "é" * 3, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "‮evil", "x" * 200_000,
        "/etc/passwd", "../../etc/passwd", "media/../course.yaml", "file:///etc/passwd", "https://evil.example/a.png",
        "media/\x00.png", "media/" + "a/" * 300 + "x.png", "C:\\\\Windows\\\\win.ini", "{{7*7}}", "<script>alert(1)</script>",
    ]),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), hostile_text)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.one_of(hostile_text, st.integers()), inner, max_size=4)),
                      max_leaves=12)

# YAML text fragments a hostile author might paste; most are not even valid YAML.
yaml_fragments = st.sampled_from([
    "a: &x [1, 2]\nb: *x\n", "<<: *nope\n", "x: " + "[" * 3000 + "]" * 3000 + "\n", "x: !!python/object/apply:os.system ['id']\n",
    "x: !!binary AAAA\n", "? [a, b]\n: c\n", "{[1]: 2}\n", "%YAML 1.1\n---\n", "---\n---\n", "x: '\x00'\n", "\t\tbad: indent\n",
    "modules: 5\n", "modules: [[[]]]\n", "competence_tags: {a: 1}\n", "title: {nb: [], en: {}}\n", "- list at top\n",
    "key: " + "y" * 100_000 + "\n", "x: 1e999999\n", "x: 0x1F\n", "x: .inf\n", "id: *a\n", "&a a: b\n",
])

md_fragments = st.sampled_from([
    "::: text t9\nnb: ![](/etc/passwd)\nen: x\n:::\n", "::: text t9\nnb: |\n  ![alt](../../x.png)\nen: x\n:::\n",
    "::: video v9\nsrc: /etc/passwd\n:::\n", "::: quiz q9\nkind: single\nchoices: *x\n:::\n", ":::\n", "::: \n", "::: text\n",
    "::: text a\n" + "  " * 2000 + "x: 1\n:::\n", "---\n", "<!-- c -->\n", "::: text a b c\n:::\n", "::: Text ÆØÅ\n:::\n",
    "::: text " + "a" * 100 + "\nnb: x\nen: y\n:::\n", "\x00\n", "::: text z\nnb: " + "[" * 500 + "\nen: x\n:::\n",
])


def _set_path(data: Any, path: list[int], value: Any) -> Any:
    """Replace the node reached by choosing child ``path[i] % len`` at each level (or the root) with ``value``."""
    if not path or not isinstance(data, (dict, list)) or not data:
        return value
    if isinstance(data, dict):
        key = list(data)[path[0] % len(data)]
        data[key] = _set_path(data[key], path[1:], value)
    else:
        i = path[0] % len(data)
        data[i] = _set_path(data[i], path[1:], value)
    return data


def _check(course_dir: Path) -> None:
    started = time.monotonic()
    try:
        result = load_course(course_dir)
    except CourseValidationError as exc:
        assert exc.errors, "a refusal lists at least one error"
        for error in exc.errors:
            assert Path(error.file).is_relative_to(course_dir), error
            assert error.rule and error.message, error
            assert error.line is None or error.line >= 1, error
    else:
        assert isinstance(result, Course)
    assert time.monotonic() - started < PER_EXAMPLE_SECONDS, "the loader must not hang on hostile input"


def _course_with(course_yaml: str | None = None, lesson: str | bytes | None = None) -> tuple[tempfile.TemporaryDirectory[str], Path]:
    tmp = tempfile.TemporaryDirectory()
    course = Path(tmp.name) / "kurs"
    shutil.copytree(VALID, course)
    if course_yaml is not None:
        (course / "course.yaml").write_text(course_yaml, "utf-8", errors="surrogatepass")
    if isinstance(lesson, bytes):
        (course / "lessons" / "01-alt.md").write_bytes(lesson)
    elif lesson is not None:
        (course / "lessons" / "01-alt.md").write_text(lesson, "utf-8", errors="surrogatepass")
    return tmp, course


@FUZZ
@given(path=st.lists(st.integers(min_value=0, max_value=50), max_size=6), value=values)
def test_a_course_yaml_with_any_value_anywhere_loads_or_is_refused_with_file_and_field(path: list[int], value: Any) -> None:
    data = _set_path(yaml.safe_load(COURSE_YAML), path, value)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    tmp, course = _course_with(course_yaml=text)
    with tmp:
        _check(course)


@FUZZ
@given(line=st.integers(min_value=0, max_value=40), fragment=yaml_fragments, drop=st.integers(min_value=0, max_value=3))
def test_course_yaml_with_hostile_yaml_pasted_in_loads_or_is_refused(line: int, fragment: str, drop: int) -> None:
    lines = COURSE_YAML.splitlines(keepends=True)
    at = min(line, len(lines))
    text = "".join(lines[:at]) + fragment + "".join(lines[at + drop :])
    tmp, course = _course_with(course_yaml=text)
    with tmp:
        _check(course)


@FUZZ
@given(line=st.integers(min_value=0, max_value=160), fragment=st.one_of(md_fragments, hostile_text.map(lambda t: t + "\n")),
       drop=st.integers(min_value=0, max_value=4))
def test_a_lesson_with_hostile_markdown_or_yaml_loads_or_is_refused(line: int, fragment: str, drop: int) -> None:
    lines = LESSON.splitlines(keepends=True)
    at = min(line, len(lines))
    text = "".join(lines[:at]) + fragment + "".join(lines[at + drop :])
    tmp, course = _course_with(lesson=text)
    with tmp:
        _check(course)


@FUZZ
@given(noise=st.binary(max_size=64), at=st.integers(min_value=0, max_value=5000))
def test_a_lesson_with_arbitrary_bytes_loads_or_is_refused(noise: bytes, at: int) -> None:
    raw = LESSON.encode("utf-8")
    at = min(at, len(raw))
    tmp, course = _course_with(lesson=raw[:at] + noise + raw[at:])
    with tmp:
        _check(course)
