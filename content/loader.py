"""Course sources (course.yaml + Markdown lessons + media/) → one immutable :class:`Course`.

Every problem is collected, not only the first, each with file, line, field
path and what was expected; the loader never writes anything. The parts: safe reading
of YAML (:mod:`content.yaml_source`), problem reporting and the schema
(:mod:`content.diagnostics`), the lesson format (:mod:`content.lessons`) and the checks
the schema cannot express (:mod:`content.checks`); this module walks a course.

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

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from content.checks import check_block_refs, is_inside
from content.diagnostics import Collector, line_of
from content.errors import CourseNotFoundError, CourseValidationError
from content.lessons import RawBlock, build_block, optional_text_of, split_lesson, text_of
from content.limits import SourceLimits
from content.model import COMPLETABLE_TYPES, Block, CompetenceTag, Course, Lesson, Module
from content.yaml_source import parse_yaml, read_text


def _list(value: Any) -> list[Any]:
    """``value`` when it is a list; anything else (already reported by the schema) is walked as empty."""
    return value if isinstance(value, list) else []


def _find_course_dir(path: Path) -> Path:
    if path.is_file() and path.name == "course.yaml":
        return path.parent
    if (path / "course.yaml").is_file():
        return path
    raise CourseNotFoundError(f"{path}: no course.yaml here; a course is a folder with course.yaml, lessons/ and media/")


def load_course(path: str | Path, *, limits: SourceLimits | None = None) -> Course:
    """Load and validate the course at ``path`` (its folder or its course.yaml), reading at most ``limits``.

    Raises:
        CourseNotFoundError: there is no course.yaml at ``path``.
        CourseValidationError: the sources are invalid; lists every error.
    """
    root = _find_course_dir(Path(path))
    collector = Collector(root, [], limits or SourceLimits())
    text = read_text(collector, "course.yaml")
    parsed = parse_yaml(collector, "course.yaml", text) if text is not None else None
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
    raw_blocks: list[RawBlock] = []
    # Completion can only be judged when every lesson could be read; otherwise it would add noise.
    all_lessons_read = True
    for mi, mod in enumerate(_list(data.get("modules"))):
        if not isinstance(mod, dict) or not isinstance(mod.get("id"), str):
            continue
        claim("module", mod["id"], "course.yaml", line_of(node, ["modules", mi, "id"]), f"$.modules[{mi}].id")
        lessons: list[Lesson] = []
        for li, ref in enumerate(_list(mod.get("lessons"))):
            if not isinstance(ref, str):
                continue
            where = f"$.modules[{mi}].lessons[{li}]"
            line = line_of(node, ["modules", mi, "lessons", li])
            if not is_inside(root, ref):
                collector.add("course.yaml", line, where, "path-escape", f"lesson {ref!r} points outside the course folder")
                all_lessons_read = False
                continue
            if not (root / ref).is_file():
                collector.add("course.yaml", line, where, "missing-file", f"lesson file {ref!r} not found")
                all_lessons_read = False
                continue
            lesson_text = read_text(collector, ref)
            if lesson_text is None:
                all_lessons_read = False
                continue
            split = split_lesson(collector, ref, lesson_text)
            if split is None:
                all_lessons_read = False
                continue
            front, front_node, blocks, complete = split
            all_lessons_read = all_lessons_read and complete
            if front is None or not collector.schema(ref, front_node, front, "lessonFrontMatter", []):
                continue
            claim("lesson", front["id"], ref, line_of(front_node, ["id"]), "$.id")
            built: list[Block] = []
            for raw in blocks:
                claim("block", raw.data["id"], ref, raw.line, f"{raw.path}.id")
                raw_blocks.append(raw)
                if not collector.schema(ref, raw.node, raw.data, "block", [raw.path]):
                    continue
                check_block_refs(collector, raw)
                built.append(build_block(raw.data))
            if not blocks:
                collector.add(ref, None, "", "empty-lesson", "the lesson has no blocks")
            lessons.append(Lesson(id=front["id"], title=text_of(front["title"]), blocks=tuple(built), source=ref, duration=front.get("duration")))
        if schema_ok:
            modules.append(Module(id=mod["id"], title=text_of(mod["title"]), lessons=tuple(lessons), summary=optional_text_of(mod.get("summary")), kind=mod.get("kind", "digital")))

    for ti, tag in enumerate(_list(data.get("competence_tags"))):
        if isinstance(tag, dict) and isinstance(tag.get("id"), str):
            if sum(1 for t in data["competence_tags"] if isinstance(t, dict) and t.get("id") == tag["id"]) > 1:
                collector.add("course.yaml", line_of(node, ["competence_tags", ti]), f"$.competence_tags[{ti}].id", "duplicate-id", f"competence tag {tag['id']!r} is listed twice")

    required: tuple[str, ...] = ()
    if schema_ok and all_lessons_read:
        blocks_by_id = {raw.data["id"]: raw.data["type"] for raw in raw_blocks}
        rule = data["completion"]["require"]
        if rule == "all":
            required = tuple(bid for bid, kind in blocks_by_id.items() if kind in COMPLETABLE_TYPES)
            if not required:
                collector.add("course.yaml", line_of(node, ["completion"]), "$.completion.require", "unreachable-completion", "completion 'all' needs at least one quiz, case, video, reflection or action-plan block")
        else:
            for ri, bid in enumerate(rule):
                line = line_of(node, ["completion", "require", ri])
                where = f"$.completion.require[{ri}]"
                if bid not in blocks_by_id:
                    collector.add("course.yaml", line, where, "unreachable-completion", f"required block {bid!r} does not exist, so the course can never be completed")
                elif blocks_by_id[bid] == "text":
                    collector.add("course.yaml", line, where, "unreachable-completion", f"required block {bid!r} is a text block, which a learner cannot complete; require a quiz, case, video, reflection, action-plan, survey or workshop block")
            required = tuple(rule)
        if data["passing_score"] > 0 and not any(kind == "quiz" for kind in blocks_by_id.values()):
            collector.add("course.yaml", line_of(node, ["passing_score"]), "$.passing_score", "unreachable-completion", f"passing score {data['passing_score']} needs quiz points, but the course has no quiz; set passing_score: 0")

    if collector.errors:
        raise CourseValidationError(str(root), collector.errors)
    return Course(
        id=data["id"],
        slug=root.resolve().name,
        version=data["version"],
        title=text_of(data["title"]),
        summary=text_of(data["summary"]),
        duration=data["duration"],
        passing_score=float(data["passing_score"]),
        certificate=data["certificate"],
        competence_tags=tuple(CompetenceTag(t["id"], text_of(t["title"])) for t in data["competence_tags"]),
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
