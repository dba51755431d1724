"""Checks the schema cannot express: media inside the course, images with alt text, WebVTT captions, case
branches that land and can end, quiz answer keys that can be met, survey options that fit their kind."""

from __future__ import annotations

from pathlib import Path

from content.diagnostics import Collector, line_of
from content.lessons import RawBlock
from content.markdown import image_tokens, is_safe_image


def is_inside(root: Path, rel: str) -> bool:
    try:
        (root / rel).resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def check_media(collector: Collector, rel: str, line: int, path: str, media: str, rule: str = "missing-media") -> None:
    # Media are files inside the course's own media/ folder: no '..' (even one that stays in the course, such as
    # media/../course.yaml, would ship a source file), no symlink out of media/, nothing absolute or remote.
    inside = media.startswith("media/") and is_inside(collector.root, media) and is_inside(collector.root / "media", media.removeprefix("media/"))
    if ".." in media.split("/") or not inside:
        collector.add(rel, line, path, "path-escape", f"{media!r} points outside the course's media/ folder; media are files under media/")
    elif not (collector.root / media).is_file():
        collector.add(rel, line, path, rule, f"media file {media!r} not found in the course folder")


def check_block_refs(collector: Collector, raw: RawBlock) -> None:
    data, rel = raw.data, raw.file
    if data["type"] == "text":
        for lang in ("nb", "en"):
            base = line_of(raw.node, [lang]) or raw.line
            for src, alt, line in image_tokens(data[lang]):
                where = f"{raw.path}.{lang}"
                if not is_safe_image(src):
                    collector.add(rel, base + line, where, "path-escape" if ".." in src else "image-path", f"image {src!r} must be a file under media/ in this course")
                    continue
                check_media(collector, rel, base + line, where, src)
                if not alt.strip():
                    collector.add(rel, base + line, where, "image-alt", f"image {src!r} needs alternative text: ![what it shows]({src})")
    elif data["type"] == "video":
        check_media(collector, rel, line_of(raw.node, ["src"]) or raw.line, f"{raw.path}.src", data["src"])
        check_media(collector, rel, line_of(raw.node, ["poster"]) or raw.line, f"{raw.path}.poster", data["poster"])
        for lang, vtt in data["captions"].items():
            line = line_of(raw.node, ["captions", lang]) or raw.line
            where = f"{raw.path}.captions.{lang}"
            before = len(collector.errors)
            check_media(collector, rel, line, where, vtt, rule="missing-caption")
            if len(collector.errors) == before:
                with (collector.root / vtt).open("rb") as handle:  # the first bytes only: media can be large
                    head = handle.read(16).lstrip(b"\xef\xbb\xbf")
                if not head.startswith(b"WEBVTT"):
                    collector.add(rel, line, where, "caption-format", f"{vtt!r} is not a WebVTT file (it must start with 'WEBVTT')")
        for lang, path in data.get("transcript", {}).items():
            check_media(collector, rel, line_of(raw.node, ["transcript", lang]) or raw.line, f"{raw.path}.transcript.{lang}", path)
    elif data["type"] == "case":
        step_ids = [s["id"] for s in data["steps"]]
        seen: set[str] = set()
        for si, step_id in enumerate(step_ids):
            if step_id in seen:
                collector.add(rel, line_of(raw.node, ["steps", si, "id"]), f"{raw.path}.steps[{si}].id", "duplicate-id", f"step id {step_id!r} is used twice in case '{data['id']}'")
            seen.add(step_id)
        if data["start"] not in seen:
            collector.add(rel, line_of(raw.node, ["start"]), f"{raw.path}.start", "dangling-branch", f"start step {data['start']!r} does not exist; steps are: {', '.join(step_ids)}")
            return
        for si, step in enumerate(data["steps"]):
            for ci, choice in enumerate(step["choices"]):
                nxt = choice.get("next")
                if nxt is not None and nxt not in seen:
                    collector.add(rel, line_of(raw.node, ["steps", si, "choices", ci, "next"]), f"{raw.path}.steps[{si}].choices[{ci}].next", "dangling-branch", f"branch to step {nxt!r}, which does not exist in case '{data['id']}'; steps are: {', '.join(step_ids)}")
        check_case_graph(collector, raw)
    elif data["type"] == "quiz":
        correct = [c for c in data["choices"] if c.get("correct")]
        ids = [c["id"] for c in data["choices"]]
        if len(set(ids)) != len(ids):
            collector.add(rel, line_of(raw.node, ["choices"]), f"{raw.path}.choices", "duplicate-id", f"choice ids must be unique in quiz '{data['id']}'")
        if not correct:
            collector.add(rel, line_of(raw.node, ["choices"]), f"{raw.path}.choices", "unreachable-completion", f"quiz '{data['id']}' has no correct choice, so it can never be answered right; mark one with 'correct: true'")
        elif data["kind"] in ("single", "true-false") and len(correct) != 1:
            collector.add(rel, line_of(raw.node, ["choices"]), f"{raw.path}.choices", "quiz-correct-count", f"a {data['kind']} quiz has exactly one correct choice; '{data['id']}' has {len(correct)}")
        if data["kind"] == "true-false" and sorted(ids) != ["false", "true"]:
            collector.add(rel, line_of(raw.node, ["choices"]), f"{raw.path}.choices", "quiz-true-false", "a true-false quiz has exactly two choices with ids 'true' and 'false'")
    elif data["type"] == "survey":
        if data["kind"] == "scale" and ("low" not in data or "high" not in data):
            collector.add(rel, raw.line, raw.path, "survey-scale-labels", "a 1–10 scale survey needs 'low' and 'high' labels (what 1 and 10 mean)")
        if data["kind"] == "rank" and len(data.get("options", [])) < data.get("pick", 3):
            collector.add(rel, line_of(raw.node, ["options"]) or raw.line, f"{raw.path}.options", "survey-rank-options", f"a rank survey needs at least 'pick' ({data.get('pick', 3)}) options to rank")
        elif data["kind"] != "rank" and ("options" in data or "pick" in data):
            collector.add(rel, line_of(raw.node, ["options"]) or raw.line, f"{raw.path}.options", "survey-options", f"'options' and 'pick' belong to rank surveys; this one is '{data['kind']}' (use kind: rank)")


def check_case_graph(collector: Collector, raw: RawBlock) -> None:
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
            collector.add(raw.file, line_of(raw.node, ["steps", index]), f"{raw.path}.steps[{index}]", "unreachable-step", f"step {sid!r} of case '{raw.data['id']}' cannot be reached from the start step")
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
