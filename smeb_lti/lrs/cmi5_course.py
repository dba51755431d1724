"""cmi5 course structures (cmi5 spec 13, 14): the AUs and blocks an LMS satisfies against.

The LMS needs the whole structure to judge ``satisfied`` (9.3.9): a block is satisfied when the
moveOn criteria of every AU in it (nested blocks included) are met, the course when those of every
AU in the course are. :func:`parse_course_structure` reads ``cmi5.xml``; :func:`single_au_course`
is the structure assumed for a launch of an AU whose course was never imported (one AU = the course).
Pure: no database, no Flask (storage is :mod:`smeb_lti.lrs.cmi5`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

MOVE_ON = ("Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable")
NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"


class Cmi5CourseError(ValueError):
    """A course structure is not one the LMS can use; the message names the element and attribute."""


@dataclass(frozen=True)
class AuNode:
    publisher_id: str
    move_on: str = "NotApplicable"  # 13.1.4: the default when cmi5.xml gives none
    mastery_score: float | None = None
    title: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class BlockNode:
    publisher_id: str
    children: tuple[AuNode | BlockNode, ...]
    title: dict[str, str] = field(default_factory=dict, compare=False)

    def aus(self) -> Iterator[AuNode]:
        for child in self.children:
            if isinstance(child, AuNode):
                yield child
            else:
                yield from child.aus()

    def blocks(self) -> Iterator[BlockNode]:
        """Nested blocks, innermost first (a block is judged after the blocks inside it)."""
        for child in self.children:
            if isinstance(child, BlockNode):
                yield from child.blocks()
                yield child


@dataclass(frozen=True)
class CourseStructure(BlockNode):
    """The course is the outermost block: its ``publisher_id`` is the course id of cmi5.xml."""

    def find_au(self, publisher_id: str) -> AuNode | None:
        return next((au for au in self.aus() if au.publisher_id == publisher_id), None)

    def to_json(self) -> str:
        return json.dumps(_node_dict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CourseStructure:
        data = json.loads(text)
        return cls(data["id"], tuple(_node_from(c) for c in data["children"]), dict(data.get("title") or {}))


def _node_dict(node: AuNode | BlockNode) -> dict[str, Any]:
    if isinstance(node, AuNode):
        return {"au": True, "id": node.publisher_id, "moveOn": node.move_on, "masteryScore": node.mastery_score, "title": node.title}
    return {"id": node.publisher_id, "title": node.title, "children": [_node_dict(c) for c in node.children]}


def _node_from(data: dict[str, Any]) -> AuNode | BlockNode:
    if data.get("au"):
        return AuNode(data["id"], data["moveOn"], data.get("masteryScore"), dict(data.get("title") or {}))
    return BlockNode(data["id"], tuple(_node_from(c) for c in data["children"]), dict(data.get("title") or {}))


def single_au_course(course_publisher_id: str, au_publisher_id: str, move_on: str, mastery_score: float | None) -> CourseStructure:
    """The structure of a launch whose course was never imported: the course is that one AU."""
    return CourseStructure(course_publisher_id, (AuNode(au_publisher_id, move_on, mastery_score),))


def _title(element: Any) -> dict[str, str]:
    title = element.find(f"{{{NS}}}title")
    if title is None:
        return {}
    return {str(s.get("lang") or "und"): (s.text or "").strip() for s in title.findall(f"{{{NS}}}langstring")}


def _children(element: Any, where: str, seen: set[str]) -> tuple[AuNode | BlockNode, ...]:
    out: list[AuNode | BlockNode] = []
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag not in (f"{{{NS}}}au", f"{{{NS}}}block"):
            continue
        kind = tag.rsplit("}", 1)[-1]
        publisher_id = (child.get("id") or "").strip()  # 13.1: whitespace is removed on import
        if not publisher_id:
            raise Cmi5CourseError(f"{where}: <{kind}> without an id attribute (13.1.2, 13.1.4)")
        if publisher_id in seen:
            raise Cmi5CourseError(f"{where}: id {publisher_id!r} is used twice; ids must be unique in the course structure (13.1)")
        seen.add(publisher_id)
        if kind == "block":
            out.append(BlockNode(publisher_id, _children(child, f"{where} > block {publisher_id}", seen), _title(child)))
            continue
        move_on = (child.get("moveOn") or "NotApplicable").strip()
        if move_on not in MOVE_ON:
            raise Cmi5CourseError(f"{where}: au {publisher_id} has moveOn {move_on!r}; expected one of {MOVE_ON}")
        mastery_text = child.get("masteryScore")
        mastery: float | None = None
        if mastery_text is not None:
            try:
                mastery = float(mastery_text.strip())
            except ValueError:
                raise Cmi5CourseError(f"{where}: au {publisher_id} has masteryScore {mastery_text!r}; expected a decimal 0..1") from None
            if not 0 <= mastery <= 1:
                raise Cmi5CourseError(f"{where}: au {publisher_id} has masteryScore {mastery}; expected a decimal 0..1 (13.1.4)")
        out.append(AuNode(publisher_id, move_on, mastery, _title(child)))
    return tuple(out)


def parse_course_structure(xml: bytes) -> CourseStructure:
    """Read ``cmi5.xml`` (CourseStructure.xsd namespace); raises :class:`Cmi5CourseError` naming what is wrong."""
    try:
        root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        raise Cmi5CourseError(f"cmi5.xml is not well-formed XML: {error}") from None
    if root.tag != f"{{{NS}}}courseStructure":
        raise Cmi5CourseError(f"cmi5.xml: the root must be <courseStructure xmlns=\"{NS}\">, got {root.tag}")
    course = root.find(f"{{{NS}}}course")
    course_id = (course.get("id") or "").strip() if course is not None else ""
    if not course_id:
        raise Cmi5CourseError("cmi5.xml: <course id=...> is required (13.1.1)")
    structure = CourseStructure(course_id, _children(root, "cmi5.xml", {course_id}), _title(course))
    if not any(True for _ in structure.aus()):
        raise Cmi5CourseError("cmi5.xml: a course structure has at least one <au> (5.0)")
    return structure
