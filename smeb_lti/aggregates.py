"""Small-group privacy for every aggregate SMEB shows: a minimum group size and complementary suppression.

Pure: data in, the set of groups that may be published out (no Flask, no database). Surveys, the
workshop series and the company dashboard all publish their numbers through :func:`publishable`.

The rules
=========

1. **Minimum group size.** A group (a company, a team, a period ...) is shown only when at least
   ``k`` people answered, ``k = max(5, configured)``: the configuration can make it stricter, never
   weaker than 5 (:func:`min_group_size`).

2. **Complementary suppression.** Groups that can be combined form a tree: the company total over its
   teams, a whole series over its companies, all closed periods over each period. Whoever sees a parent
   and some of its children can subtract. So for every published group ``P`` we look at what is left
   of it after removing the groups published inside it (its *maximal published descendants*)::

       residual(P) = count(P) - sum(count(C) for the maximal published descendants C of P)

   The residual must be 0 (nothing to learn) or at least ``k``. When it is 1..k-1 the smallest
   published descendant is suppressed too, and the check runs again until every residual is safe.

Examples (k = 5)::

    company 12 = team A 7 + team B 5        -> all published (residual 0)
    company 12 = team A 8 + team B 4        -> B suppressed (4 < 5); residual 12-8 = 4 < 5, so A is
                                               suppressed as well: company 12 alone is shown
    company 15 = team A 6 + team B 6 + 3 without a team
                                            -> residual 15-12 = 3 would reveal the 3; the smaller team
                                               (A, tie broken by key) is suppressed: residual 9
    series 20 = firm X 16 + firm Y 4        -> Y suppressed; residual 4 -> X suppressed: series total only
    all periods 11 = May 6 + June 5         -> all published

Why this is enough (the property the tests check with ``hypothesis``): in a tree of published groups,
every published group splits into the residuals of the published groups inside it. Anything a reader can
compute by subtracting published counts of disjoint groups from a published group is a union of such
residuals plus whole published groups, so it is either empty or has at least ``k`` members.

Limits (documented in docs/surveys-and-workshops.md): the groups of one publication must form a tree
(nested or disjoint, never partly overlapping); two different trees over the same respondents
(team x period cross tables) are not covered, so callers publish one tree per view. A subset of a safe
publication is safe, so different viewers may be shown different parts of one tree. Small *value*
distributions (everyone in a group of 5 answered "1") are not hidden by counting rules: results show
means and distributions only for groups that pass, and free text only for such groups.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

MIN_GROUP_SIZE = 5


class GroupTreeInvalid(ValueError):
    """The groups do not form a tree with consistent counts; the message names the group."""


@dataclass(frozen=True)
class Group:
    """One group to publish: its key, its parent's key (``None`` for a root) and how many answered."""

    key: Hashable
    parent: Hashable | None
    count: int


def min_group_size(configured: int | None = None) -> int:
    """The threshold in force: the configured value, but never below :data:`MIN_GROUP_SIZE`."""
    if configured is None:
        return MIN_GROUP_SIZE
    return max(MIN_GROUP_SIZE, int(configured))


def _check_tree(groups: Mapping[Hashable, Group]) -> dict[Hashable, list[Hashable]]:
    children: dict[Hashable, list[Hashable]] = {key: [] for key in groups}
    for group in groups.values():
        if group.count < 0:
            raise GroupTreeInvalid(f"group {group.key!r} has a negative count ({group.count})")
        if group.parent is not None:
            if group.parent not in groups:
                raise GroupTreeInvalid(f"group {group.key!r} names parent {group.parent!r}, which is not among the groups")
            children[group.parent].append(group.key)
    for key, kids in children.items():
        total = sum(groups[kid].count for kid in kids)
        if total > groups[key].count:
            raise GroupTreeInvalid(f"the groups inside {key!r} count {total}, more than {key!r} itself ({groups[key].count}): "
                                   "children must be disjoint parts of their parent")
    for key in groups:  # cycles would loop forever below
        seen = {key}
        parent = groups[key].parent
        while parent is not None:
            if parent in seen:
                raise GroupTreeInvalid(f"group {key!r} is its own ancestor")
            seen.add(parent)
            parent = groups[parent].parent
    return children


def _maximal_published(key: Hashable, children: Mapping[Hashable, list[Hashable]], published: set[Hashable]) -> list[Hashable]:
    """The published groups inside ``key`` that have no published group between them and ``key``."""
    out: list[Hashable] = []
    stack = list(children[key])
    while stack:
        kid = stack.pop()
        if kid in published:
            out.append(kid)
        else:
            stack.extend(children[kid])
    return out


def publishable(groups: Iterable[Group], min_size: int | None = None) -> frozenset[Hashable]:
    """The keys of the groups that may be shown; every other group is suppressed (see the module rules)."""
    k = min_group_size(min_size)
    by_key: dict[Hashable, Group] = {}
    for group in groups:
        if group.key in by_key:
            raise GroupTreeInvalid(f"group {group.key!r} appears twice")
        by_key[group.key] = group
    children = _check_tree(by_key)
    published = {key for key, group in by_key.items() if group.count >= k}
    changed = True
    while changed:
        changed = False
        for key in sorted(published, key=repr):
            if key not in published:
                continue
            inside = _maximal_published(key, children, published)
            residual = by_key[key].count - sum(by_key[c].count for c in inside)
            if 0 < residual < k:
                # ``key`` itself has >= k, so ``inside`` is not empty here: suppress its smallest member.
                victim = min(inside, key=lambda c: (by_key[c].count, repr(c)))
                published.discard(victim)
                changed = True
    return frozenset(published)


def derivable_small_groups(groups: Iterable[Group], published: Iterable[Hashable], min_size: int | None = None) -> list[tuple[Hashable, int]]:
    """Audit: published groups whose residual after subtracting published groups inside them is 1..k-1.

    Empty for any output of :func:`publishable`; the dashboard and tests use it as an independent check.
    """
    k = min_group_size(min_size)
    by_key = {g.key: g for g in groups}
    children = _check_tree(by_key)
    shown = set(published)
    out = []
    for key in shown:
        if by_key[key].count < k:
            out.append((key, by_key[key].count))
            continue
        residual = by_key[key].count - sum(by_key[c].count for c in _maximal_published(key, children, shown))
        if 0 < residual < k:
            out.append((key, residual))
    return out
