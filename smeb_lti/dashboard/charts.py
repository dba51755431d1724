"""Inline SVG charts, made on the server (pure: numbers in, markup out; no script, no inline style).

Each chart is ``role="img"`` named by its ``<title>`` and described by a ``<desc>`` that states the
numbers in words; the page puts a data table with the same numbers next to it, so nothing is only
visible. Colours are presentation attributes (CSP allows no inline ``style``) and meet 3:1 against
white; labels are #1b1b1b text. Every value that came from people (course titles) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from smeb_lti.dashboard.report import CourseTotal

DONE = "#1d6b35"  # completed: dark green (7:1 on white)
STARTED = "#0b4f8a"  # started, not completed: blue outline
TEXT = "#1b1b1b"


def _svg(svg_id: str, width: int, height: int, title: str, desc: str, body: str) -> str:
    return (
        f'<svg class="chart" id="{escape(svg_id)}" role="img" aria-labelledby="{escape(svg_id)}-t {escape(svg_id)}-d" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(svg_id)}-t">{escape(title)}</title><desc id="{escape(svg_id)}-d">{escape(desc)}</desc>{body}</svg>'
    )


def per_course_svg(totals: Sequence[CourseTotal], locale: str, svg_id: str = "chart-courses") -> str:
    """Horizontal bars: for each course, everyone who started (outline) and who completed (filled)."""
    nb = locale == "nb"
    title = "Fullføring per kurs" if nb else "Completion per course"
    if not totals:
        return _svg(svg_id, 320, 40, title, "Ingen data." if nb else "No data.",
                    f'<text x="0" y="24" fill="{TEXT}" font-size="14">{"Ingen data" if nb else "No data"}</text>')
    width, label_h, bar_h, gap = 320, 18, 18, 14
    top = max(t.started for t in totals) or 1
    parts, words = [], []
    y = 0
    for t in totals:
        started_w = round(280 * t.started / top)
        done_w = round(280 * t.done / top)
        label = f"{t.title}: {t.done} av {t.started} fullført" if nb else f"{t.title}: {t.done} of {t.started} completed"
        words.append(label)
        parts.append(f'<text x="0" y="{y + 14}" fill="{TEXT}" font-size="13">{escape(label)}</text>')
        parts.append(f'<rect x="0" y="{y + label_h}" width="{max(started_w, 1)}" height="{bar_h}" fill="#ffffff" stroke="{STARTED}" stroke-width="2"/>')
        if done_w:
            parts.append(f'<rect x="0" y="{y + label_h}" width="{done_w}" height="{bar_h}" fill="{DONE}"/>')
        y += label_h + bar_h + gap
    return _svg(svg_id, width, y, title, "; ".join(words) + ".", "".join(parts))


def over_time_svg(months: Sequence[tuple[str, int]], locale: str, svg_id: str = "chart-time") -> str:
    """Vertical bars: completions per month, with the count above each bar and the month below."""
    nb = locale == "nb"
    title = "Fullføringer over tid" if nb else "Completions over time"
    if not months:
        return _svg(svg_id, 320, 40, title, "Ingen fullføringer ennå." if nb else "No completions yet.",
                    f'<text x="0" y="24" fill="{TEXT}" font-size="14">{"Ingen fullføringer ennå" if nb else "No completions yet"}</text>')
    slot = 44
    width, chart_h, base = max(320, slot * len(months)), 140, 160
    top = max(n for _m, n in months) or 1
    parts = [f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="#767676" stroke-width="1"/>']
    for i, (month, count) in enumerate(months):
        x = i * slot + 6
        h = round(chart_h * count / top)
        if h:
            parts.append(f'<rect x="{x}" y="{base - h}" width="{slot - 12}" height="{h}" fill="{DONE}"/>')
        parts.append(f'<text x="{x + (slot - 12) / 2}" y="{base - h - 4}" fill="{TEXT}" font-size="12" text-anchor="middle">{count}</text>')
        parts.append(f'<text x="{x + (slot - 12) / 2}" y="{base + 16}" fill="{TEXT}" font-size="10" text-anchor="middle">{escape(month[2:])}</text>')
    desc = ", ".join(f"{m}: {n}" for m, n in months)
    desc = ("Fullføringer per måned: " if nb else "Completions per month: ") + desc + "."
    return _svg(svg_id, width, base + 24, title, desc, "".join(parts))
