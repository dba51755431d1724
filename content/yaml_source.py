"""Reading course source files safely: size-limited, UTF-8, YAML 1.2 booleans, no aliases, bounded nesting.

Course sources may come from customers, so they are untrusted (see :mod:`content.limits`).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from content.diagnostics import Collector

# libyaml (PyYAML's C parser, in its wheels) when present: the loader reads every lesson's blocks, and the pure
# Python parser made a 450-question course take seconds. Both give the same nodes and marks.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# The ignore: the base class is chosen at import time (libyaml's CSafeLoader, which is not a SafeLoader subclass,
# or the pure one), and mypy accepts only a static class as a base.
class _Yaml12Loader(_BaseLoader):  # type: ignore[valid-type,misc]  # the base is picked at import time (libyaml's CSafeLoader when present)
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


def read_text(collector: Collector, rel: str) -> str | None:
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


def _screen_yaml(collector: Collector, rel: str, text: str, line_offset: int) -> bool:
    """Refuse anchors/aliases and deep nesting from the event stream, before any node is built.

    An alias bomb ("billion laughs") is a few lines that expand to billions of nodes for anything that walks
    the document (schema validation, line lookup); deep nesting exhausts the parser's recursion. The event
    stream is read in linear time and stops at the first problem.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_Yaml12Loader):
        line = (event.start_mark.line if event.start_mark else 0) + 1 + line_offset  # the parser marks every event
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


def parse_yaml(collector: Collector, rel: str, text: str, line_offset: int = 0) -> tuple[Any, yaml.Node | None] | None:
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
        n.start_mark = yaml.Mark(n.start_mark.name, n.start_mark.index, n.start_mark.line + offset, n.start_mark.column, None, 0)  # no buffer: no snippet
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.extend((k, v))
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
