"""Attacks on the comparison's suppression, on the pure rule (smeb_lti.dashboard.comparison.publish).

The attacker is the manager of one company: they know every person of their own company and its
figures exactly (the dashboard lists them), they see "all companies", and they may be any company.
Whatever they subtract, no group of fewer than k people (from fewer than 4 other companies) may come out.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from smeb_lti.dashboard.comparison import MIN_COMPANIES, closed_quarters, publish, quarter_of

K = 5


def _companies(*sizes: int, value: float = 0.5) -> dict[str, dict[str, float | int]]:
    return {f"c{i}": {"n": n, "value": value} for i, n in enumerate(sizes)}


def test_attack_one_big_company_subtracts_itself_to_read_four_single_learners() -> None:
    # 20 + 1 + 1 + 1 + 1: "all" minus the big company would be 4 people -> all companies hidden, for every viewer
    data = _companies(20, 1, 1, 1, 1)
    for viewer in data:
        assert publish("completion", data, viewer, K).everyone is None


def test_attack_four_companies_are_not_enough_however_many_people() -> None:
    data = _companies(50, 50, 50, 50)
    assert publish("score", data, "c0", K).everyone is None
    assert publish("score", {**data, "c4": {"n": 1, "value": 0.1}}, "c0", K).everyone is not None  # 5th company, 151 others


def test_attack_a_company_learns_nothing_about_a_single_other_company() -> None:
    # 5 companies where the others-than-the-largest hold exactly k-1 people: hidden; k people: shown
    assert publish("completion", _companies(10, 1, 1, 1, 1), "c1", K).everyone is None
    shown = publish("completion", _companies(10, 2, 1, 1, 1), "c1", K)
    assert shown.everyone is not None and shown.companies == 5 and shown.everyone_n == 15


def test_a_stricter_configured_minimum_applies_and_a_weaker_one_does_not() -> None:
    data = _companies(6, 6, 6, 6, 6)
    assert publish("completion", data, "c0", 7).yours is None and publish("completion", data, "c0", 7).everyone is not None
    assert publish("completion", _companies(4, 4, 4, 4, 4), "c0", 1).yours is None  # never below 5


def test_values_are_rounded_so_a_published_mean_is_not_a_precise_sum() -> None:
    figure = publish("pulse:unsure", _companies(5, 5, 5, 5, 5, value=3.14159), "c0", K)
    assert figure.everyone == 3.1 and figure.yours == 3.1
    assert publish("score", _companies(5, 5, 5, 5, 5, value=0.83333), "c0", K).everyone == 0.83


def test_periods_are_fixed_closed_quarters_never_the_open_one() -> None:
    quarters = closed_quarters(dt.date(2026, 10, 1))
    assert [q.label for q in quarters] == ["2026-Q3", "2026-Q2", "2026-Q1", "2025-Q4"]
    assert quarter_of(dt.date(2026, 12, 31)).end == dt.date(2027, 1, 1)
    assert all(q.end <= dt.date(2026, 10, 1) for q in quarters)


sizes = st.dictionaries(st.sampled_from([f"c{i}" for i in range(9)]), st.integers(min_value=0, max_value=12), max_size=9)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(sizes=sizes, k=st.integers(min_value=1, max_value=9))
def test_fuzz_no_viewer_can_subtract_its_way_to_a_small_group(sizes: dict[str, int], k: int) -> None:
    data = {c: {"n": n, "value": 0.5} for c, n in sizes.items()}
    threshold = max(K, k)
    figures = {viewer: publish("completion", data, viewer, k) for viewer in data}
    published = {(f.everyone, f.everyone_n, f.companies) for f in figures.values()}
    assert len(published) <= 1  # one publication: whether "all" is shown never depends on who looks
    for viewer, figure in figures.items():
        if figure.yours is not None:
            assert sizes[viewer] >= threshold
        if figure.everyone is not None:
            contributing = {c: n for c, n in sizes.items() if n >= 1}
            assert figure.companies == len(contributing) >= MIN_COMPANIES
            # every possible attacker (any contributing company, not only this viewer) keeps >= k others
            for attacker, own in contributing.items():
                assert figure.everyone_n - own >= threshold, (attacker, sizes)
