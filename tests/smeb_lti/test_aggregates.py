"""Small-group privacy: no group under the threshold is shown, and none can be derived by subtraction."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smeb_lti.aggregates import (
    MIN_GROUP_SIZE,
    Group,
    GroupTreeInvalid,
    derivable_small_groups,
    min_group_size,
    publishable,
)


def test_the_threshold_is_five_and_configuration_can_only_raise_it() -> None:
    assert min_group_size() == MIN_GROUP_SIZE == 5
    assert min_group_size(3) == 5 and min_group_size(0) == 5 and min_group_size(-10) == 5
    assert min_group_size(8) == 8


def test_a_group_of_four_is_suppressed_and_a_group_of_five_is_shown() -> None:
    assert publishable([Group("company", None, 4)]) == frozenset()
    assert publishable([Group("company", None, 5)]) == {"company"}


def test_a_configured_threshold_of_seven_suppresses_six() -> None:
    assert publishable([Group("company", None, 6)], min_size=7) == frozenset()


def test_two_teams_that_add_up_to_the_company_are_all_shown_when_each_has_five() -> None:
    groups = [Group("company", None, 12), Group("a", "company", 7), Group("b", "company", 5)]
    assert publishable(groups) == {"company", "a", "b"}


def test_a_small_team_takes_its_sibling_with_it_so_it_cannot_be_subtracted() -> None:
    groups = [Group("company", None, 12), Group("a", "company", 8), Group("b", "company", 4)]
    shown = publishable(groups)
    assert shown == {"company"}  # 12 - 8 would reveal team b's 4


def test_people_outside_every_team_count_as_a_hidden_group_of_their_own() -> None:
    groups = [Group("company", None, 15), Group("a", "company", 6), Group("b", "company", 6)]
    shown = publishable(groups)
    assert "company" in shown and len(shown & {"a", "b"}) == 1  # 15 - 6 - 6 = 3 would be revealed


def test_a_period_and_its_sub_periods_follow_the_same_rule() -> None:
    groups = [Group("2026", None, 11), Group("2026-05", "2026", 6), Group("2026-06", "2026", 5),
              Group("2026-06-w1", "2026-06", 1), Group("2026-06-w2", "2026-06", 4)]
    assert publishable(groups) == {"2026", "2026-05", "2026-06"}


def test_a_suppressed_middle_group_does_not_expose_its_parts_through_the_grandparent() -> None:
    # series 23: firm x 20 (teams 10 + 10), firm y 3. y is hidden; series - x would reveal y, so x goes,
    # then series - (teams 10 + 10) = 3 would reveal y again, so a team goes too.
    groups = [Group("series", None, 23), Group("x", "series", 20), Group("y", "series", 3),
              Group("x1", "x", 10), Group("x2", "x", 10)]
    shown = publishable(groups)
    assert "y" not in shown and "series" in shown
    assert derivable_small_groups(groups, shown) == []
    assert not {"x", "x1", "x2"} <= shown


def test_inconsistent_trees_are_refused_with_the_group_named() -> None:
    with pytest.raises(GroupTreeInvalid, match="inside 'company' count 6"):
        publishable([Group("company", None, 5), Group("a", "company", 6)])
    with pytest.raises(GroupTreeInvalid, match="'nobody'"):
        publishable([Group("a", "nobody", 6)])
    with pytest.raises(GroupTreeInvalid, match="twice"):
        publishable([Group("a", None, 6), Group("a", None, 6)])


def test_the_audit_finds_a_naive_publication_that_leaks() -> None:
    groups = [Group("company", None, 12), Group("a", "company", 8), Group("b", "company", 4)]
    assert derivable_small_groups(groups, {"company", "a"}) == [("company", 4)]


# -- property: nothing under the threshold can be derived by subtracting published totals ------------


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[Group], dict[int, frozenset[int]]]:
    """Random group trees with real members: each group has some members of its own plus its children's."""
    size = draw(st.integers(1, 8))
    parents = [None] + [draw(st.integers(0, i - 1)) if draw(st.booleans()) or i == 1 else None for i in range(1, size)]
    own = [draw(st.integers(0, 9)) for _ in range(size)]
    members: dict[int, set[int]] = {i: set() for i in range(size)}
    next_id = 0
    for i in range(size):
        people = set(range(next_id, next_id + own[i]))
        next_id += own[i]
        node: int | None = i
        while node is not None:
            members[node] |= people
            node = parents[node]
    groups = [Group(i, parents[i], len(members[i])) for i in range(size)]
    return groups, {i: frozenset(m) for i, m in members.items()}


@settings(max_examples=400, deadline=None)
@given(trees(), st.integers(0, 9))
def test_no_published_set_of_counts_lets_anyone_derive_a_group_below_the_threshold(
    tree: tuple[list[Group], dict[int, frozenset[int]]], configured: int
) -> None:
    groups, members = tree
    k = min_group_size(configured)
    shown = publishable(groups, configured)
    assert all(members[key] and len(members[key]) >= k for key in shown)
    for key in shown:
        inside = [c for c in shown if c != key and members[c] <= members[key]]
        # every way of subtracting published groups inside a published group (counts of disjoint sets subtract exactly)
        for r in range(1, len(inside) + 1):
            for chosen in combinations(inside, r):
                sets = [members[c] for c in chosen]
                if sum(len(s) for s in sets) != len(frozenset().union(*sets)):
                    continue  # overlapping groups: their counts do not subtract to a set
                left = members[key] - frozenset().union(*sets)
                assert len(left) == 0 or len(left) >= k, (groups, shown, key, chosen)
    assert derivable_small_groups(groups, shown, configured) == []


@settings(max_examples=200, deadline=None)
@given(trees())
def test_every_group_of_at_least_the_threshold_without_children_is_shown(tree: tuple[list[Group], dict[int, frozenset[int]]]) -> None:
    groups, _ = tree
    parents = {g.parent for g in groups}
    shown = publishable(groups)
    for group in groups:
        if group.key not in parents and group.parent is None:
            assert (group.key in shown) == (group.count >= 5)
