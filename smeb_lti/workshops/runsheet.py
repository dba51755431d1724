"""The run-sheet of a workshop session: agenda items of the course's workshop block with clock times. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Item:
    index: int
    starts: dt.datetime
    ends: dt.datetime
    minutes: int
    title: str
    notes: str | None


def course_blocks(course: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    """Blocks of one type, in course order (``workshop`` for sessions, ``action-plan`` for assignments)."""
    return [b for m in course["modules"] for lesson in m["lessons"] for b in lesson["blocks"] if b.get("type") == kind]


def run_sheet(block: Mapping[str, Any], starts_at: dt.datetime, locale: str) -> list[Item]:
    """Each agenda item with its start and end time, one after the other from ``starts_at``."""
    items: list[Item] = []
    clock = starts_at
    for i, raw in enumerate(block.get("agenda") or ()):
        minutes = int(raw["minutes"])
        end = clock + dt.timedelta(minutes=minutes)
        notes = raw.get("notes")
        items.append(Item(i, clock, end, minutes, raw["title"].get(locale) or raw["title"]["nb"],
                          (notes.get(locale) or notes.get("nb")) if isinstance(notes, Mapping) else None))
        clock = end
    return items


def now_and_next(items: list[Item], now: dt.datetime) -> tuple[Item | None, Item | None]:
    """The item running at ``now`` (if any) and the one after it (or the first, before the start)."""
    for i, item in enumerate(items):
        if item.starts <= now < item.ends:
            return item, items[i + 1] if i + 1 < len(items) else None
        if now < item.starts:
            return None, item
    return None, None
