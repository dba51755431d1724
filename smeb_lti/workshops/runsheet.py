"""The run-sheet of a workshop session: agenda items of the course's workshop block with clock times. Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from content.model import ActionPlanBlock, Course, WorkshopBlock


@dataclass(frozen=True)
class Item:
    index: int
    starts: dt.datetime
    ends: dt.datetime
    minutes: int
    title: str
    notes: str | None


def workshop_blocks(course: Course) -> list[WorkshopBlock]:
    """The course's workshop sessions, in course order."""
    return [b for b in course.blocks() if isinstance(b, WorkshopBlock)]


def action_plans(course: Course) -> list[ActionPlanBlock]:
    """The course's action plans (the assignments between sessions), in course order."""
    return [b for b in course.blocks() if isinstance(b, ActionPlanBlock)]


def run_sheet(block: WorkshopBlock, starts_at: dt.datetime, locale: str) -> list[Item]:
    """Each agenda item with its start and end time, one after the other from ``starts_at``."""
    items: list[Item] = []
    clock = starts_at
    for i, item in enumerate(block.agenda):
        end = clock + dt.timedelta(minutes=item.minutes)
        items.append(Item(i, clock, end, item.minutes, item.title.get(locale), item.notes.get(locale) if item.notes else None))
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
