"""Course sources (course.yaml + Markdown lessons + media/) → one immutable :class:`Course`.

Every problem is collected, not only the first, each with file, line, field
path and what was expected; the loader never writes anything.

Lesson file format (see docs/course-format.md)::

    ---
    id: lesson-id
    title: {nb: ..., en: ...}
    ---

    ::: text intro
    nb: |
      Markdown på bokmål
    en: |
      Markdown in English
    :::

Each ``::: <type> <id>`` … ``:::`` directive holds the block's fields as YAML.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml

from content.errors import CourseNotFoundError, CourseValidationError, SourceError
from content.limits import SourceLimits, source_limits
from content.markdown import image_tokens, is_safe_image
from content.model import (
    COMPLETABLE_TYPES,
    ActionPlanBlock,
    ActionPlanExample,
    AgendaItem,
    Block,
    CaseBlock,
    CaseChoice,
    CaseStep,
    CompetenceTag,
    Course,
    Lesson,
    Module,
    QuizBlock,
    QuizChoice,
    ReflectionBlock,
    SurveyBlock,
    Text,
    TextBlock,
    VideoBlock,
    WorkshopBlock,
)

BLOCK_TYPES = ("text", "video", "case", "quiz", "survey", "reflection", "action-plan", "workshop")
_DIRECTIVE_OPEN = re.compile(r"^:::\s*(?P<type>[A-Za-z][\w-]*)\s+(?P<id>\S+)\s*$")
_DIRECTIVE_CLOSE = re.compile(r"^:::\s*$")
_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")


# libyaml (PyYAML's C parser, in its wheels) when present: the loader reads every lesson's blocks, and the pure
# Python parser made a 450-question course take seconds. Both give the same nodes and marks.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Yaml12Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """SafeLoader with YAML 1.2 booleans: only true/false.

    YAML 1.1 reads ``no``, ``yes``, ``on`` and ``off`` as booleans, which would
    turn the language code ``no`` and the Norwegian answers "Ja"/"Nei" into
    True/False in course texts.
    """


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Yaml12Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0, ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"))
    )


@lru_cache(maxsize=1)
def course_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of course sources, shipped inside the package."""
    text = resources.files("content").joinpath("schema/course.schema.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=None)
def _validator(definition: str | None) -> jsonschema.Draft202012Validator:
    # One validator per definition: building one (and resolving its $refs) per block made large courses slow.
    schema = course_schema()
    if definition is not None:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(schema)


def _json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        if isinstance(part, str) and part.startswith("$"):
            out = part
            continue
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _line_of(node: yaml.Node | None, parts: Iterable[Any]) -> int | None:
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
    if kw == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        return f"missing required field {missing[0]!r}" if missing else error.message
    if kw == "additionalProperties" or kw == "propertyNames":
        extra = re.findall(r"'([^']+)'", error.message)
        allowed = sorted(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        if kw == "propertyNames" and isinstance(error.validator_value, dict):
            allowed = list(error.validator_value.get("enum", []))
        name = extra[0] if extra else "?"
        return f"unknown field {name!r}; expected one of: {', '.join(map(str, allowed))}"
    if kw == "pattern":
        desc = error.schema.get("description") if isinstance(error.schema, dict) else None
        return f"{error.instance!r} does not match the expected form{': ' + desc if desc else ' ' + error.validator_value}"
    if kw == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(repr, error.validator_value))}"
    if kw == "type":
        return f"expected {error.validator_value}, got {type(error.instance).__name__} {error.instance!r}"[:200]
    return error.message[:300]


@dataclass
class _Collector:
    root: Path
    errors: list[SourceError]
    limits: SourceLimits = SourceLimits()

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
            self.add(file, _line_of(node, parts[len(prefix):]), _json_path(parts), rule, message)
        return ok


def _read_text(collector: _Collector, rel: str) -> str | None:
    path = collector.root / rel
    limit = collector.limits.max_file_bytes
    try:
        # Size first, and never more than the limit read: a huge (or endless, e.g. a FIFO) file must not be loaded.
        if not path.is_file():
            collector.add(rel, None, "", "missing-file", "file not found")
            return None
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except FileNotFoundError:
        collector.add(rel, None, "", "missing-file", "file not found")
        return None
    except OSError as exc:
        collector.add(rel, None, "", "missing-file", f"cannot read the file: {exc.strerror or exc}")
        return None
    if len(raw) > limit:
        collector.add(rel, None, "", "file-size", f"the file is larger than {limit} bytes (SMEB_COURSE_MAX_FILE_BYTES); split the lesson or move media to media/")
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        collector.add(rel, line, "", "encoding", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save the file as UTF-8")
        return None


def _yaml_error_line(exc: yaml.YAMLError, text: str) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(exc, "position", None)  # ReaderError (control characters such as NUL) has a character offset
    if isinstance(position, int):
        return text[:position].count("\n") + 1
    return None


def _screen_yaml(collector: _Collector, rel: str, text: str, line_offset: int) -> bool:
    """Refuse anchors/aliases and deep nesting from the event stream, before any node is built.

    An alias bomb ("billion laughs") is a few lines that expand to billions of nodes for anything that walks
    the document (schema validation, line lookup); deep nesting exhausts the parser's recursion. The event
    stream is read in linear time and stops at the first problem.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_Yaml12Loader):
        line = event.start_mark.line + 1 + line_offset
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            collector.add(rel, line, "", "yaml-alias", "YAML anchors (&name) and aliases (*name) are not allowed in course sources; write the value out in full")
            return False
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > collector.limits.max_yaml_depth:
                collector.add(rel, line, "", "yaml-depth", f"YAML nested deeper than {collector.limits.max_yaml_depth} levels (SMEB_COURSE_MAX_YAML_DEPTH)")
                return False
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return True


def _parse_yaml(collector: _Collector, rel: str, text: str, line_offset: int = 0) -> tuple[Any, yaml.Node | None] | None:
    try:
        if not _screen_yaml(collector, rel, text, line_offset):
            return None
        node = yaml.compose(text, Loader=_Yaml12Loader)
        data = _construct(node)
    except yaml.YAMLError as exc:
        line = _yaml_error_line(exc, text)
        line = line + line_offset if line is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        collector.add(rel, line, "", "yaml-syntax", f"invalid YAML: {problem}")
        return None
    if node is not None and line_offset:
        _shift_marks(node, line_offset)
    return data, node


def _construct(node: yaml.Node | None) -> Any:
    """Python data from an already composed (and screened) node: the text is parsed once, not twice."""
    if node is None:
        return None
    loader = _Yaml12Loader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _shift_marks(node: yaml.Node, offset: int) -> None:
    stack = [node]
    while stack:
        n = stack.pop()
        n.start_mark = yaml.Mark(n.start_mark.name, n.start_mark.index, n.start_mark.line + offset, n.start_mark.column, None, None)
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.extend((k, v))
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)


def _inside(root: Path, rel: str) -> bool:
    try:
        (root / rel).resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _text(data: dict[str, str] | None) -> Text | None:
    return Text(data["nb"], data["en"]) if data else None


def _build_block(data: dict[str, Any]) -> Block:
    kind = data["type"]
    if kind == "text":
        return TextBlock(id=data["id"], nb=data["nb"], en=data["en"])
    if kind == "video":
        return VideoBlock(
            id=data["id"],
            title=_text(data["title"]),  # type: ignore[arg-type]
            src=data["src"],
            poster=data["poster"],
            captions=tuple(sorted(data["captions"].items())),
            transcript=tuple(sorted(data.get("transcript", {}).items())),
            duration=data["duration"],
        )
    if kind == "case":
        steps = tuple(
            CaseStep(
                id=s["id"],
                situation=_text(s["situation"]),  # type: ignore[arg-type]
                choices=tuple(
                    CaseChoice(c["id"], _text(c["text"]), _text(c["feedback"]), c["quality"], c.get("next"))  # type: ignore[arg-type]
                    for c in s["choices"]
                ),
            )
            for s in data["steps"]
        )
        return CaseBlock(id=data["id"], title=_text(data["title"]), start=data["start"], steps=steps)  # type: ignore[arg-type]
    if kind == "quiz":
        choices = tuple(
            QuizChoice(c["id"], _text(c["text"]), bool(c.get("correct", False)), _text(c["feedback"]))  # type: ignore[arg-type]
            for c in data["choices"]
        )
        return QuizBlock(id=data["id"], kind=data["kind"], question=_text(data["question"]), points=data["points"], choices=choices)  # type: ignore[arg-type]
    if kind == "survey":
        return SurveyBlock(
            id=data["id"],
            kind=data["kind"],
            prompt=_text(data["prompt"]),  # type: ignore[arg-type]
            low=_text(data.get("low")),
            high=_text(data.get("high")),
            options=tuple(_text(o) for o in data.get("options", [])),  # type: ignore[misc]
            pick=data.get("pick", 3),
        )
    if kind == "reflection":
        return ReflectionBlock(id=data["id"], prompt=_text(data["prompt"]))  # type: ignore[arg-type]
    if kind == "action-plan":
        examples = tuple(
            ActionPlanExample(_text(e["measure"]), _text(e.get("responsible")), _text(e.get("deadline")))  # type: ignore[arg-type]
            for e in data.get("examples", [])
        )
        return ActionPlanBlock(id=data["id"], prompt=_text(data["prompt"]), min_rows=data.get("min_rows", 1), examples=examples)  # type: ignore[arg-type]
    if kind == "workshop":
        agenda = tuple(AgendaItem(a["minutes"], _text(a["title"]), _text(a.get("notes"))) for a in data["agenda"])  # type: ignore[arg-type]
        return WorkshopBlock(
            id=data["id"], title=_text(data["title"]), mode=data["mode"], agenda=agenda, description=_text(data.get("description"))  # type: ignore[arg-type]
        )
    raise AssertionError(f"unhandled block type {kind}")  # schema guarantees this is unreachable


@dataclass
class _RawBlock:
    data: dict[str, Any]
    node: yaml.Node | None
    line: int
    file: str
    path: str


def _split_lesson(collector: _Collector, rel: str, text: str) -> tuple[Any, yaml.Node | None, list[_RawBlock], bool] | None:
    """Front matter and raw blocks of a lesson, and whether every block could be read."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        collector.add(rel, 1, "", "front-matter", "a lesson starts with YAML front matter between '---' lines (id, title)")
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        collector.add(rel, 1, "", "front-matter", "front matter is not closed with a '---' line")
        return None
    parsed = _parse_yaml(collector, rel, "\n".join(lines[1:end]), line_offset=1)
    front, front_node = parsed if parsed else (None, None)
    blocks: list[_RawBlock] = []
    complete = True
    i = end + 1
    index = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or _COMMENT.match(line):
            i += 1
            continue
        opened = _DIRECTIVE_OPEN.match(line)
        if not opened:
            collector.add(rel, i + 1, "", "outside-block", f"text outside a block: {line.strip()[:60]!r}; wrap it in '::: text <id>' … ':::'")
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and not _DIRECTIVE_CLOSE.match(lines[j]):
            if _DIRECTIVE_OPEN.match(lines[j]):
                break
            j += 1
        if j >= len(lines) or not _DIRECTIVE_CLOSE.match(lines[j]):
            collector.add(rel, start + 1, f"$.blocks[{index}]", "unclosed-block", f"block '{opened['id']}' opened here is not closed with ':::'")
            complete = False
            i = j
            index += 1
            continue
        body = "\n".join(lines[start + 1 : j])
        parsed_body = _parse_yaml(collector, rel, body, line_offset=start + 1)
        if parsed_body is None:
            complete = False
        else:
            data, node = parsed_body
            if data is None:
                data = {}
            if not isinstance(data, dict):
                collector.add(rel, start + 2, f"$.blocks[{index}]", "schema-type", "a block holds YAML fields (key: value)")
            else:
                data = {"type": opened["type"], "id": opened["id"], **data}
                blocks.append(_RawBlock(data, node, start + 1, rel, f"$.blocks[{index}]"))
        i = j + 1
        index += 1
    return front, front_node, blocks, complete


def _check_media(collector: _Collector, rel: str, line: int, path: str, media: str, rule: str = "missing-media") -> None:
    # Media are files inside the course's own media/ folder: no '..' (even one that stays in the course, such as
    # media/../course.yaml, would ship a source file), no symlink out of media/, nothing absolute or remote.
    inside = media.startswith("media/") and _inside(collector.root, media) and _inside(collector.root / "media", media.removeprefix("media/"))
    if ".." in media.split("/") or not inside:
        collector.add(rel, line, path, "path-escape", f"{media!r} points outside the course's media/ folder; media are files under media/")
    elif not (collector.root / media).is_file():
        collector.add(rel, line, path, rule, f"media file {media!r} not found in the course folder")


def _check_block_refs(collector: _Collector, raw: _RawBlock) -> None:
    data, rel = raw.data, raw.file
    if data["type"] == "text":
        for lang in ("nb", "en"):
            base = _line_of(raw.node, [lang]) or raw.line
            for src, alt, line in image_tokens(data[lang]):
                where = f"{raw.path}.{lang}"
                if not is_safe_image(src):
                    collector.add(rel, base + line, where, "path-escape" if ".." in src else "image-path", f"image {src!r} must be a file under media/ in this course")
                    continue
                _check_media(collector, rel, base + line, where, src)
                if not alt.strip():
                    collector.add(rel, base + line, where, "image-alt", f"image {src!r} needs alternative text: ![what it shows]({src})")
    elif data["type"] == "video":
        _check_media(collector, rel, _line_of(raw.node, ["src"]) or raw.line, f"{raw.path}.src", data["src"])
        _check_media(collector, rel, _line_of(raw.node, ["poster"]) or raw.line, f"{raw.path}.poster", data["poster"])
        for lang, vtt in data["captions"].items():
            line = _line_of(raw.node, ["captions", lang]) or raw.line
            where = f"{raw.path}.captions.{lang}"
            before = len(collector.errors)
            _check_media(collector, rel, line, where, vtt, rule="missing-caption")
            if len(collector.errors) == before:
                with (collector.root / vtt).open("rb") as handle:  # the first bytes only: media can be large
                    head = handle.read(16).lstrip(b"\xef\xbb\xbf")
                if not head.startswith(b"WEBVTT"):
                    collector.add(rel, line, where, "caption-format", f"{vtt!r} is not a WebVTT file (it must start with 'WEBVTT')")
        for lang, path in data.get("transcript", {}).items():
            _check_media(collector, rel, _line_of(raw.node, ["transcript", lang]) or raw.line, f"{raw.path}.transcript.{lang}", path)
    elif data["type"] == "case":
        step_ids = [s["id"] for s in data["steps"]]
        seen: set[str] = set()
        for si, step_id in enumerate(step_ids):
            if step_id in seen:
                collector.add(rel, _line_of(raw.node, ["steps", si, "id"]), f"{raw.path}.steps[{si}].id", "duplicate-id", f"step id {step_id!r} is used twice in case '{data['id']}'")
            seen.add(step_id)
        if data["start"] not in seen:
            collector.add(rel, _line_of(raw.node, ["start"]), f"{raw.path}.start", "dangling-branch", f"start step {data['start']!r} does not exist; steps are: {', '.join(step_ids)}")
            return
        for si, step in enumerate(data["steps"]):
            for ci, choice in enumerate(step["choices"]):
                nxt = choice.get("next")
                if nxt is not None and nxt not in seen:
                    collector.add(rel, _line_of(raw.node, ["steps", si, "choices", ci, "next"]), f"{raw.path}.steps[{si}].choices[{ci}].next", "dangling-branch", f"branch to step {nxt!r}, which does not exist in case '{data['id']}'; steps are: {', '.join(step_ids)}")
        _check_case_graph(collector, raw)
    elif data["type"] == "quiz":
        correct = [c for c in data["choices"] if c.get("correct")]
        ids = [c["id"] for c in data["choices"]]
        if len(set(ids)) != len(ids):
            collector.add(rel, _line_of(raw.node, ["choices"]), f"{raw.path}.choices", "duplicate-id", f"choice ids must be unique in quiz '{data['id']}'")
        if not correct:
            collector.add(rel, _line_of(raw.node, ["choices"]), f"{raw.path}.choices", "unreachable-completion", f"quiz '{data['id']}' has no correct choice, so it can never be answered right; mark one with 'correct: true'")
        elif data["kind"] in ("single", "true-false") and len(correct) != 1:
            collector.add(rel, _line_of(raw.node, ["choices"]), f"{raw.path}.choices", "quiz-correct-count", f"a {data['kind']} quiz has exactly one correct choice; '{data['id']}' has {len(correct)}")
        if data["kind"] == "true-false" and sorted(ids) != ["false", "true"]:
            collector.add(rel, _line_of(raw.node, ["choices"]), f"{raw.path}.choices", "quiz-true-false", "a true-false quiz has exactly two choices with ids 'true' and 'false'")
    elif data["type"] == "survey":
        if data["kind"] == "scale" and ("low" not in data or "high" not in data):
            collector.add(rel, raw.line, raw.path, "survey-scale-labels", "a 1–10 scale survey needs 'low' and 'high' labels (what 1 and 10 mean)")
        if data["kind"] == "rank" and len(data.get("options", [])) < data.get("pick", 3):
            collector.add(rel, _line_of(raw.node, ["options"]) or raw.line, f"{raw.path}.options", "survey-rank-options", f"a rank survey needs at least 'pick' ({data.get('pick', 3)}) options to rank")
        elif data["kind"] != "rank" and ("options" in data or "pick" in data):
            collector.add(rel, _line_of(raw.node, ["options"]) or raw.line, f"{raw.path}.options", "survey-options", f"'options' and 'pick' belong to rank surveys; this one is '{data['kind']}' (use kind: rank)")


def _check_case_graph(collector: _Collector, raw: _RawBlock) -> None:
    """Every step must be reachable from the start, and an end must be reachable from every step."""
    steps = {s["id"]: s for s in raw.data["steps"]}
    dangling = any(c.get("next") not in (None, *steps) for s in steps.values() for c in s["choices"])
    edges = {sid: [c.get("next") for c in s["choices"]] for sid, s in steps.items()}
    reachable: set[str] = set()
    frontier = [raw.data["start"]]
    while frontier:
        sid = frontier.pop()
        if sid in reachable or sid not in steps:
            continue
        reachable.add(sid)
        frontier.extend(n for n in edges[sid] if n is not None)
    for index, sid in enumerate(steps):
        if sid not in reachable:
            collector.add(raw.file, _line_of(raw.node, ["steps", index]), f"{raw.path}.steps[{index}]", "unreachable-step", f"step {sid!r} of case '{raw.data['id']}' cannot be reached from the start step")
    # Steps from which the scenario can end (a choice without 'next').
    can_end = {sid for sid, nexts in edges.items() if None in nexts}
    changed = True
    while changed:
        changed = False
        for sid, nexts in edges.items():
            if sid not in can_end and any(n in can_end for n in nexts):
                can_end.add(sid)
                changed = True
    if raw.data["start"] not in can_end and not dangling:
        collector.add(raw.file, raw.line, raw.path, "unreachable-completion", f"case '{raw.data['id']}' can never end: every path loops; give at least one choice no 'next'")


def _list(value: Any) -> list[Any]:
    """``value`` when it is a list; anything else (already reported by the schema) is walked as empty."""
    return value if isinstance(value, list) else []


def _find_course_dir(path: Path) -> Path:
    if path.is_file() and path.name == "course.yaml":
        return path.parent
    if (path / "course.yaml").is_file():
        return path
    raise CourseNotFoundError(f"{path}: no course.yaml here; a course is a folder with course.yaml, lessons/ and media/")


def load_course(path: str | Path) -> Course:
    """Load and validate the course at ``path`` (its folder or its course.yaml).

    Raises:
        CourseNotFoundError: there is no course.yaml at ``path``.
        CourseValidationError: the sources are invalid; lists every error.
    """
    root = _find_course_dir(Path(path))
    collector = _Collector(root, [], source_limits())
    text = _read_text(collector, "course.yaml")
    parsed = _parse_yaml(collector, "course.yaml", text) if text is not None else None
    if parsed is None:
        raise CourseValidationError(str(root), collector.errors)
    data, node = parsed
    if not isinstance(data, dict):
        collector.add("course.yaml", 1, "$", "schema-type", "course.yaml holds a mapping of fields (id, title, modules, ...)")
        raise CourseValidationError(str(root), collector.errors)
    schema_ok = collector.schema("course.yaml", node, data, None, [])

    ids: dict[str, tuple[str, int | None]] = {}

    def claim(kind: str, ident: str, file: str, line: int | None, path: str) -> None:
        if ident in ids:
            other_file, other_line = ids[ident]
            collector.add(file, line, path, "duplicate-id", f"{kind} id {ident!r} is already used at {root / other_file}:{other_line}; ids must be unique in the course")
        else:
            ids[ident] = (file, line)

    modules: list[Module] = []
    raw_blocks: list[_RawBlock] = []
    # Completion can only be judged when every lesson could be read; otherwise it would add noise.
    all_lessons_read = True
    for mi, mod in enumerate(_list(data.get("modules"))):
        if not isinstance(mod, dict) or not isinstance(mod.get("id"), str):
            continue
        claim("module", mod["id"], "course.yaml", _line_of(node, ["modules", mi, "id"]), f"$.modules[{mi}].id")
        lessons: list[Lesson] = []
        for li, ref in enumerate(_list(mod.get("lessons"))):
            if not isinstance(ref, str):
                continue
            where = f"$.modules[{mi}].lessons[{li}]"
            line = _line_of(node, ["modules", mi, "lessons", li])
            if not _inside(root, ref):
                collector.add("course.yaml", line, where, "path-escape", f"lesson {ref!r} points outside the course folder")
                all_lessons_read = False
                continue
            if not (root / ref).is_file():
                collector.add("course.yaml", line, where, "missing-file", f"lesson file {ref!r} not found")
                all_lessons_read = False
                continue
            lesson_text = _read_text(collector, ref)
            if lesson_text is None:
                all_lessons_read = False
                continue
            split = _split_lesson(collector, ref, lesson_text)
            if split is None:
                all_lessons_read = False
                continue
            front, front_node, blocks, complete = split
            all_lessons_read = all_lessons_read and complete
            if front is None or not collector.schema(ref, front_node, front, "lessonFrontMatter", []):
                continue
            claim("lesson", front["id"], ref, _line_of(front_node, ["id"]), "$.id")
            built: list[Block] = []
            for raw in blocks:
                claim("block", raw.data["id"], ref, raw.line, f"{raw.path}.id")
                raw_blocks.append(raw)
                if not collector.schema(ref, raw.node, raw.data, "block", [raw.path]):
                    continue
                _check_block_refs(collector, raw)
                built.append(_build_block(raw.data))
            if not blocks:
                collector.add(ref, None, "", "empty-lesson", "the lesson has no blocks")
            lessons.append(Lesson(id=front["id"], title=_text(front["title"]), blocks=tuple(built), source=ref, duration=front.get("duration")))  # type: ignore[arg-type]
        if schema_ok:
            modules.append(Module(id=mod["id"], title=_text(mod["title"]), lessons=tuple(lessons), summary=_text(mod.get("summary")), kind=mod.get("kind", "digital")))  # type: ignore[arg-type]

    for ti, tag in enumerate(_list(data.get("competence_tags"))):
        if isinstance(tag, dict) and isinstance(tag.get("id"), str):
            if sum(1 for t in data["competence_tags"] if isinstance(t, dict) and t.get("id") == tag["id"]) > 1:
                collector.add("course.yaml", _line_of(node, ["competence_tags", ti]), f"$.competence_tags[{ti}].id", "duplicate-id", f"competence tag {tag['id']!r} is listed twice")

    required: tuple[str, ...] = ()
    if schema_ok and all_lessons_read:
        blocks_by_id = {raw.data["id"]: raw.data["type"] for raw in raw_blocks}
        rule = data["completion"]["require"]
        if rule == "all":
            required = tuple(bid for bid, kind in blocks_by_id.items() if kind in COMPLETABLE_TYPES)
            if not required:
                collector.add("course.yaml", _line_of(node, ["completion"]), "$.completion.require", "unreachable-completion", "completion 'all' needs at least one quiz, case, video, reflection or action-plan block")
        else:
            for ri, bid in enumerate(rule):
                line = _line_of(node, ["completion", "require", ri])
                where = f"$.completion.require[{ri}]"
                if bid not in blocks_by_id:
                    collector.add("course.yaml", line, where, "unreachable-completion", f"required block {bid!r} does not exist, so the course can never be completed")
                elif blocks_by_id[bid] == "text":
                    collector.add("course.yaml", line, where, "unreachable-completion", f"required block {bid!r} is a text block, which a learner cannot complete; require a quiz, case, video, reflection, action-plan, survey or workshop block")
            required = tuple(rule)
        if data["passing_score"] > 0 and not any(kind == "quiz" for kind in blocks_by_id.values()):
            collector.add("course.yaml", _line_of(node, ["passing_score"]), "$.passing_score", "unreachable-completion", f"passing score {data['passing_score']} needs quiz points, but the course has no quiz; set passing_score: 0")

    if collector.errors:
        raise CourseValidationError(str(root), collector.errors)
    return Course(
        id=data["id"],
        slug=root.resolve().name,
        version=data["version"],
        title=_text(data["title"]),  # type: ignore[arg-type]
        summary=_text(data["summary"]),  # type: ignore[arg-type]
        duration=data["duration"],
        passing_score=float(data["passing_score"]),
        certificate=data["certificate"],
        competence_tags=tuple(CompetenceTag(t["id"], _text(t["title"])) for t in data["competence_tags"]),  # type: ignore[arg-type]
        required_blocks=required,
        modules=tuple(modules),
        root=root,
        language=data["language"],
    )


def shipped_courses_dir() -> Path:
    """The folder that holds the courses shipped with SMEB."""
    return Path(str(resources.files("content").joinpath("courses")))


def discover(paths: Iterable[str | Path] = ()) -> list[Path]:
    """Course folders under ``paths`` (each a course folder or a folder of courses), sorted."""
    found: list[Path] = []
    for base in [Path(p) for p in paths] or [shipped_courses_dir()]:
        if (base / "course.yaml").is_file() or base.name == "course.yaml":
            found.append(base if base.is_dir() else base.parent)
        elif base.is_dir():
            found.extend(sorted(p.parent for p in base.glob("*/course.yaml")))
        else:
            raise CourseNotFoundError(f"{base}: no such course folder")
    return found
