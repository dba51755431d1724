"""The lesson file format: front matter and ``::: <type> <id>`` … ``:::`` block directives (docs/course-format.md).

:func:`split_lesson` cuts a lesson into its front matter and raw blocks (each block's fields as YAML, with
the lines they came from); :func:`build_block` turns a block the schema accepted into the typed model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from content.diagnostics import Collector
from content.markdown import render_markdown
from content.model import (
    ActionPlanBlock,
    ActionPlanExample,
    AgendaItem,
    Block,
    CaseBlock,
    CaseChoice,
    CaseStep,
    QuizBlock,
    QuizChoice,
    ReflectionBlock,
    SurveyBlock,
    Text,
    TextBlock,
    VideoBlock,
    WorkshopBlock,
)
from content.yaml_source import parse_yaml

_DIRECTIVE_OPEN = re.compile(r"^:::\s*(?P<type>[A-Za-z][\w-]*)\s+(?P<id>\S+)\s*$")
_DIRECTIVE_CLOSE = re.compile(r"^:::\s*$")
_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")


def text_of(data: dict[str, str]) -> Text:
    """A text the schema has checked (``{nb, en}``)."""
    return Text(data["nb"], data["en"])


def optional_text_of(data: dict[str, str] | None) -> Text | None:
    return Text(data["nb"], data["en"]) if data else None


def build_block(data: dict[str, Any]) -> Block:
    """The typed block of ``data`` that the schema has accepted (so fields have their types and vocabularies)."""
    kind = data["type"]
    if kind == "text":
        markdown = text_of(data)
        # Rendered once, here: the HTML is the block's content in the model and in the course JSON.
        return TextBlock(id=data["id"], html=Text(render_markdown(markdown.nb), render_markdown(markdown.en)), markdown=markdown)
    if kind == "video":
        return VideoBlock(
            id=data["id"],
            title=text_of(data["title"]),
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
                situation=text_of(s["situation"]),
                choices=tuple(
                    CaseChoice(c["id"], text_of(c["text"]), text_of(c["feedback"]), c["quality"], c.get("next"))
                    for c in s["choices"]
                ),
            )
            for s in data["steps"]
        )
        return CaseBlock(id=data["id"], title=text_of(data["title"]), start=data["start"], steps=steps)
    if kind == "quiz":
        choices = tuple(
            QuizChoice(c["id"], text_of(c["text"]), bool(c.get("correct", False)), text_of(c["feedback"]))
            for c in data["choices"]
        )
        return QuizBlock(id=data["id"], kind=data["kind"], question=text_of(data["question"]), points=data["points"], choices=choices)
    if kind == "survey":
        return SurveyBlock(
            id=data["id"],
            kind=data["kind"],
            prompt=text_of(data["prompt"]),
            low=optional_text_of(data.get("low")),
            high=optional_text_of(data.get("high")),
            options=tuple(text_of(o) for o in data.get("options", [])),
            pick=data.get("pick", 3),
        )
    if kind == "reflection":
        return ReflectionBlock(id=data["id"], prompt=text_of(data["prompt"]))
    if kind == "action-plan":
        examples = tuple(
            ActionPlanExample(text_of(e["measure"]), optional_text_of(e.get("responsible")), optional_text_of(e.get("deadline")))
            for e in data.get("examples", [])
        )
        return ActionPlanBlock(id=data["id"], prompt=text_of(data["prompt"]), min_rows=data.get("min_rows", 1), examples=examples)
    if kind == "workshop":
        agenda = tuple(AgendaItem(a["minutes"], text_of(a["title"]), optional_text_of(a.get("notes"))) for a in data["agenda"])
        return WorkshopBlock(
            id=data["id"], title=text_of(data["title"]), mode=data["mode"], agenda=agenda, description=optional_text_of(data.get("description"))
        )
    raise AssertionError(f"unhandled block type {kind}")  # schema guarantees this is unreachable


@dataclass
class RawBlock:
    data: dict[str, Any]
    node: yaml.Node | None
    line: int
    file: str
    path: str


def split_lesson(collector: Collector, rel: str, text: str) -> tuple[Any, yaml.Node | None, list[RawBlock], bool] | None:
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
    parsed = parse_yaml(collector, rel, "\n".join(lines[1:end]), line_offset=1)
    front, front_node = parsed if parsed else (None, None)
    blocks: list[RawBlock] = []
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
        parsed_body = parse_yaml(collector, rel, body, line_offset=start + 1)
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
                blocks.append(RawBlock(data, node, start + 1, rel, f"$.blocks[{index}]"))
        i = j + 1
        index += 1
    return front, front_node, blocks, complete
