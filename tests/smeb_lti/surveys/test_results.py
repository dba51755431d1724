"""Survey results as a tree of groups: what the facilitator and a company admin are shown, and that it is safe."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from smeb_lti.aggregates import Group, derivable_small_groups
from smeb_lti.surveys.forms import PSYCHOLOGICAL_SAFETY
from smeb_lti.surveys.periods import periods
from smeb_lti.surveys.results import ALL, GroupResult, survey_results, trend_svg

WEEKS = periods("weekly", dt.date(2026, 11, 2), dt.date(2026, 11, 22))  # three weeks
LABELS = {"c1": "Firma A", "c2": "Firma B", "c3": "Firma C"}
ANSWER = {"unsure": 4, "mistakes": 3, "speak-up": 5, "stop-work": 4, "learn": 2}


def _rows(counts: dict[tuple[int, str], int]) -> list[tuple[int, str, dict[str, int]]]:
    return [(period, key, ANSWER) for (period, key), n in counts.items() for _ in range(n)]


def _walk(node: GroupResult) -> list[GroupResult]:
    return [node] + [n for child in node.children for n in _walk(child)]


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.tuples(st.integers(0, 2), st.sampled_from(sorted(LABELS))), st.integers(0, 9)))
def test_no_published_result_of_a_series_survey_lets_anyone_subtract_a_small_group(counts: dict[tuple[int, str], int]) -> None:
    tree = survey_results(PSYCHOLOGICAL_SAFETY, WEEKS, _rows(counts), frequency="weekly", locale="nb", group_labels=LABELS)
    groups = [Group(ALL, None, sum(counts.values()))]
    for p in WEEKS:
        groups.append(Group(("p", p.index), ALL, sum(n for (i, _), n in counts.items() if i == p.index)))
        groups += [Group(("g", p.index, k), ("p", p.index), counts.get((p.index, k), 0)) for k in LABELS]
    shown = {node.key for node in _walk(tree) if node.shown}
    assert all(node.n >= 5 for node in _walk(tree) if node.shown)
    assert derivable_small_groups(groups, shown) == []


def test_a_company_admin_is_shown_only_their_company_never_the_totals_with_other_companies() -> None:
    counts = {(0, "c1"): 5, (0, "c2"): 6, (1, "c1"): 7, (1, "c2"): 5}
    tree = survey_results(PSYCHOLOGICAL_SAFETY, WEEKS[:2], _rows(counts), frequency="weekly", locale="en", group_labels=LABELS,
                          visible_groups={"c1"})
    assert tree.restricted and not tree.shown and tree.stats == ()
    assert all(p.restricted and not p.stats for p in tree.children)
    companies = [c for p in tree.children for c in p.children]
    assert [c.label for c in companies] == ["Firma A", "Firma A"] and [c.n for c in companies] == [5, 7]


def test_the_trend_chart_is_labelled_leaves_gaps_for_hidden_periods_and_escapes_labels() -> None:
    question = PSYCHOLOGICAL_SAFETY.questions[0]
    svg = trend_svg(question, [("Uke 45", 3.5), ("<b>", None), ("Uke 47", 4.0)], "nb", "trend-x")
    assert 'role="img"' in svg and 'aria-labelledby="trend-x-t"' in svg and "Utvikling: På arbeidsplassen" in svg
    assert svg.count("<circle") == 2 and svg.count("<polyline") == 2 and "&lt;b&gt;" in svg and "<b>" not in svg
