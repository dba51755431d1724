"""Survey periods: weekly (ISO weeks), monthly (calendar months) or once, cut to the survey's start and end. Pure.

A period is open from its first day to the end of its last day (Norwegian time); after that it is
closed: answers can no longer be changed, the double-answer tokens are dropped, and its results
may be shown. Results of an open period are never shown, so watching the numbers change while
people answer cannot reveal one person's answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Frequency = Literal["weekly", "monthly", "once"]
FREQUENCIES: tuple[str, ...] = ("weekly", "monthly", "once")
MAX_PERIODS = 260  # five years of weeks: a survey longer than that is a typo

MONTHS = {
    "nb": ("januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"),
}


class ScheduleInvalid(ValueError):
    """A schedule that cannot be run; the message says what to change."""


@dataclass(frozen=True)
class Period:
    index: int
    first: dt.date
    last: dt.date

    def is_closed(self, today: dt.date) -> bool:
        return today > self.last

    def is_open(self, today: dt.date) -> bool:
        return self.first <= today <= self.last

    def label(self, frequency: str, locale: str) -> str:
        lang = "nb" if locale == "nb" else "en"
        if frequency == "weekly":
            year, week, _ = self.first.isocalendar()
            return f"{'Uke' if lang == 'nb' else 'Week'} {week} {year}"
        if frequency == "monthly":
            return f"{MONTHS[lang][self.first.month - 1]} {self.first.year}"
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def periods(frequency: str, starts_on: dt.date, ends_on: dt.date) -> list[Period]:
    """Every period of a schedule, in order."""
    if frequency not in FREQUENCIES:
        raise ScheduleInvalid(f"frequency must be one of {', '.join(FREQUENCIES)}, not {frequency!r}")
    if ends_on < starts_on:
        raise ScheduleInvalid(f"the survey ends ({ends_on}) before it starts ({starts_on}): pick an end date after the start")
    if frequency == "once":
        return [Period(0, starts_on, ends_on)]
    out: list[Period] = []
    first = starts_on
    while first <= ends_on:
        if frequency == "weekly":
            boundary = first + dt.timedelta(days=7 - first.weekday())  # next Monday
        else:
            boundary = _next_month(first)
        last = min(ends_on, boundary - dt.timedelta(days=1))
        out.append(Period(len(out), first, last))
        if len(out) > MAX_PERIODS:
            raise ScheduleInvalid(f"this schedule has more than {MAX_PERIODS} periods: pick a nearer end date")
        first = boundary
    return out


def current(all_periods: list[Period], today: dt.date) -> Period | None:
    return next((p for p in all_periods if p.is_open(today)), None)
