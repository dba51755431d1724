"""Survey results as aggregates that respect :mod:`smeb_lti.aggregates`, and the trend chart. Pure.

The groups of one survey form one tree: all closed periods → each closed period → (series surveys)
each company in that period. :func:`smeb_lti.aggregates.publishable` decides over the whole tree; a
viewer is then shown a subset of it (a company admin sees their own company and the totals, never
another company), and a subset of a safe publication is safe.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from smeb_lti.aggregates import Group, publishable
from smeb_lti.surveys.forms import Question, SurveyTemplate
from smeb_lti.surveys.periods import Period

ALL = ("all",)


@dataclass(frozen=True)
class QuestionStats:
    question: Question
    n: int
    mean: float | None = None
    distribution: tuple[int, ...] = ()  # scale/Likert: counts of 1..top; choice: counts per option
    ranking: tuple[tuple[int, int, int], ...] = ()  # rank: (option index, points, times in the top places), best first
    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupResult:
    key: Hashable
    label: str
    n: int  # respondents; 0 when suppressed (the real number is not shown either)
    shown: bool
    stats: tuple[QuestionStats, ...] = ()
    restricted: bool = False  # a total over other companies: not for this viewer (a company admin in a series)
    children: list[GroupResult] = field(default_factory=list)


def question_stats(question: Question, answers: list[Mapping[str, Any]]) -> QuestionStats:
    values = [a[question.id] for a in answers if question.id in a]
    if question.kind in ("scale", "likert"):
        ints = [int(v) for v in values]
        counts = Counter(ints)
        return QuestionStats(question, len(ints), round(sum(ints) / len(ints), 2) if ints else None,
                             tuple(counts.get(i, 0) for i in range(1, question.top + 1)))
    if question.kind == "choice":
        chosen = Counter(str(v) for v in values)
        return QuestionStats(question, len(values), distribution=tuple(chosen.get(o, 0) for o in question.option_ids()))
    if question.kind == "rank":
        points: Counter[str] = Counter()
        times: Counter[str] = Counter()
        for ranked in values:
            for place, option in enumerate(ranked):
                points[option] += question.pick - place
                times[option] += 1
        ids = question.option_ids()
        ranking = sorted(((i, points.get(o, 0), times.get(o, 0)) for i, o in enumerate(ids)), key=lambda r: (-r[1], r[0]))
        return QuestionStats(question, len(values), ranking=tuple(ranking))
    # Alphabetical, not in answer order: the order must not hint at who wrote what or when.
    return QuestionStats(question, len(values), texts=tuple(sorted(str(v) for v in values)))


def survey_results(template: SurveyTemplate, closed: list[Period], rows: Iterable[tuple[int, str, Mapping[str, Any]]], *,
                   frequency: str, locale: str, group_labels: Mapping[str, str] | None = None, visible_groups: set[str] | None = None,
                   min_size: int | None = None) -> GroupResult:
    """The tree of results: the total of the closed periods, each period, and (with ``group_labels``) each company.

    ``visible_groups``: company keys this viewer may see (``None``: all, for the series facilitator).
    """
    by_node: dict[Hashable, list[Mapping[str, Any]]] = {ALL: []}
    closed_ids = {p.index for p in closed}
    for period, group_key, answers in rows:
        if period not in closed_ids:
            continue
        by_node[ALL].append(answers)
        by_node.setdefault(("p", period), []).append(answers)
        if group_labels is not None:
            by_node.setdefault(("g", period, group_key), []).append(answers)
    groups = [Group(ALL, None, len(by_node[ALL]))]
    for p in closed:
        groups.append(Group(("p", p.index), ALL, len(by_node.get(("p", p.index), []))))
        for key in sorted(group_labels or {}):
            groups.append(Group(("g", p.index, key), ("p", p.index), len(by_node.get(("g", p.index, key), []))))
    shown = publishable(groups, min_size)

    def result(key: Hashable, label: str) -> GroupResult:
        answers = by_node.get(key, [])
        if visible_groups is not None and not (isinstance(key, tuple) and key[0] == "g"):
            return GroupResult(key, label, 0, False, restricted=True)
        if key not in shown:
            return GroupResult(key, label, 0, False)
        return GroupResult(key, label, len(answers), True, tuple(question_stats(q, answers) for q in template.questions))

    total = result(ALL, "Alle perioder" if locale == "nb" else "All periods")
    for p in closed:
        node = result(("p", p.index), p.label(frequency, locale))
        for key, label in sorted((group_labels or {}).items(), key=lambda kv: kv[1]):
            if visible_groups is None or key in visible_groups:
                node.children.append(result(("g", p.index, key), label))
        total.children.append(node)
    return total


def trend_svg(question: Question, points: list[tuple[str, float | None]], locale: str, svg_id: str) -> str:
    """An inline SVG line chart of the mean per period (gaps where a period is suppressed).

    The chart is ``aria-hidden``-free but labelled: its title names the question, and the page puts the
    same numbers in a table right after it (the text alternative).
    """
    width, height, left, right, top, bottom = 320, 160, 28, 8, 10, 30
    low, high = 1, question.top
    n = max(1, len(points))
    step = (width - left - right) / max(1, n - 1) if n > 1 else 0

    def x(i: int) -> float:
        return left + (i * step if n > 1 else (width - left - right) / 2)

    def y(v: float) -> float:
        return top + (high - v) / (high - low) * (height - top - bottom)

    parts = [(f'<svg id="{escape(svg_id)}" class="trend" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{escape(svg_id)}-t" '
              f'xmlns="http://www.w3.org/2000/svg">'),
             f'<title id="{escape(svg_id)}-t">{escape(("Utvikling: " if locale == "nb" else "Trend: ") + question.prompt[locale])}</title>']
    for v in (low, (low + high) / 2, high):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{left - 4}" y="{y(v) + 4:.1f}" text-anchor="end" class="axis">{v:g}</text>')
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (_, mean) in enumerate(points):
        if mean is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(mean):.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        parts.append(f'<polyline points="{" ".join(seg)}" class="line"/>')
    for i, (label, mean) in enumerate(points):
        if mean is not None:
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(mean):.1f}" r="4" class="dot"/>')
        parts.append(f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" class="axis">{escape(label[:10])}</text>')
    parts.append("</svg>")
    return "".join(parts)
