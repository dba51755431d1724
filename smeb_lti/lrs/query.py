"""GET statements: the filtered, paged query over the store (Communication 2.1.3)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.lrs.store import StoredStatement, dialect
from smeb_lti.lrs.tables import statement_links, statements


@dataclass(frozen=True)
class Query:
    """The filters of GET statements (Communication 2.1.3), already parsed."""

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since_us: int | None = None
    until_us: int | None = None
    ascending: bool = False
    mine_agent: str | None = None  # statements/read/mine for launch tokens: only this actor's statements
    mine_authority: str | None = None  # statements/read/mine for Basic credentials: only what it stored
    through_us: int | None = None  # Consistent-Through of this read: later statements wait for the next one


def _filtered(table: Any, tenant_id: int, q: Query, link_exists: bool = False) -> tuple[Any, list[Any], Any, bool]:
    """FROM clause, conditions, ordering column, and whether any non-time filter applies.

    Agent and related-activity filters join ``lrs_statement_links`` so the index
    (tenant_id, kind, value, seq) drives the query in seq order: no scan of the store.
    With ``link_exists`` they become correlated EXISTS checks instead (when another table drives).
    """
    source: Any = table
    conditions: list[Any] = [table.c.tenant_id == tenant_id]
    order = table.c.seq
    links: list[tuple[str, str, bool]] = []
    if q.verb:
        conditions.append(table.c.verb_id == q.verb)
    if q.registration:
        conditions.append(table.c.registration == q.registration.lower())
    if q.activity:
        if q.related_activities:
            links.append(("activity", q.activity, False))
        else:
            conditions.append(table.c.activity_id == q.activity)
    if q.agent:
        links.append(("agent", q.agent, not q.related_agents))
    if q.mine_authority and not link_exists:
        links.append(("auth", q.mine_authority, False))
    for index, (kind, value, direct_only) in enumerate(links):
        link = statement_links.alias(f"{table.name}_l{index}")
        matches = [link.c.tenant_id == tenant_id, link.c.kind == kind, link.c.value == value]
        if direct_only:
            matches.append(link.c.direct.is_(True))
        if link_exists:
            conditions.append(sa.exists(sa.select(link.c.seq).where(link.c.seq == table.c.seq, *matches)))
            continue
        source = source.join(link, link.c.seq == table.c.seq)
        conditions += matches
        if index == 0:
            order = link.c.seq
    return source, conditions, order, bool(q.verb or q.registration or q.activity or q.agent)


def max_seq(session: Session, tenant_id: int) -> int:
    return int(session.execute(sa.select(sa.func.coalesce(sa.func.max(statements.c.seq), 0)).where(statements.c.tenant_id == tenant_id)).scalar_one())


def query_statements(
    session: Session, tenant_id: int, q: Query, limit: int, after_seq: int | None, high_seq: int
) -> list[tuple[int, StoredStatement]]:
    """One page of non-voided statements matching ``q``; ``after_seq`` continues a previous page.

    StatementRef rule (Communication 2.1.3, "Filter Conditions for StatementRefs"): a statement
    whose object refers to a statement that matches the non-time filters matches too, recursively
    (a reference to a reference to a match matches). A second query walks the reference chains
    with a recursive CTE over the few referring statements only, and its rows are merged by seq.
    The time bounds, voiding and read/mine apply to the referring statement itself.
    """
    s = statements.alias("s")

    def bounds(table: Any, order: Any) -> list[Any]:
        where: list[Any] = [table.c.voided.is_(False), order <= high_seq]
        if q.since_us is not None:
            where.append(table.c.stored_us > q.since_us)
        if q.until_us is not None:
            where.append(table.c.stored_us <= q.until_us)
        if q.through_us is not None:
            where.append(table.c.stored_us <= q.through_us)
        if q.mine_agent:
            where.append(table.c.actor_ifi == q.mine_agent)
        if after_seq is not None:
            where.append(order > after_seq if q.ascending else order < after_seq)
        return where

    source, conditions, order, filtered = _filtered(s, tenant_id, q)
    direction = order.asc() if q.ascending else order.desc()
    rows = session.execute(
        sa.select(s.c.seq, s.c.full_json, s.c.stored_us).select_from(source).where(*conditions, *bounds(s, order)).order_by(direction).limit(limit)
    ).all()
    found = {row.seq: row for row in rows}
    # Most stores hold few or no StatementRefs: ask the ref index first (one index probe), so the
    # chain query below only runs when there is a chain to walk.
    has_refs = filtered and session.execute(
        sa.select(statements.c.seq).where(statements.c.tenant_id == tenant_id, statements.c.ref_id > "").limit(1)
    ).first() is not None
    if has_refs:
        # chain(seq, target): every statement a referring statement reaches through references,
        # seeded from the ref index. Each step follows one reference by a correlated lookup on the
        # (tenant_id, statement_id) key rather than a join: SQLite runs the recursive step once per
        # row and would build a Bloom filter or automatic index over its join input every time.
        # UNION (not UNION ALL) drops repeated rows, so a reference cycle ends.
        chain = (
            sa.select(statements.c.seq.label("seq"), statements.c.ref_id.label("target"))
            .where(statements.c.tenant_id == tenant_id, statements.c.ref_id > "")
            .cte("chain", recursive=True)
        )
        hop, ref = statements.alias("hop"), statements.alias("ref")
        follows = sa.select(hop.c.ref_id).where(hop.c.tenant_id == tenant_id, hop.c.statement_id == chain.c.target).scalar_subquery()
        refers_on = sa.exists(sa.select(ref.c.seq).where(ref.c.tenant_id == tenant_id, ref.c.statement_id == chain.c.target, ref.c.ref_id > ""))
        chain = chain.union(sa.select(chain.c.seq, follows).where(refers_on))
        # The referring statements whose chain reaches a statement matching the (non-time) filters,
        # as an IN list of seqs: the store is then read by primary key only (no join for SQLite to
        # build a Bloom filter over, no walk of the store in seq order).
        t = statements.alias("t")
        _, target_conditions, _, _ = _filtered(t, tenant_id, q, link_exists=True)
        matching = sa.select(chain.c.seq).where(sa.exists(sa.select(t.c.seq).where(t.c.statement_id == chain.c.target, *target_conditions)))
        r = statements.alias("r")
        where = [r.c.tenant_id == tenant_id, r.c.seq.in_(matching), *bounds(r, r.c.seq)]
        if q.mine_authority:
            mine = statement_links.alias("mine")
            where.append(sa.exists(sa.select(mine.c.seq).where(mine.c.seq == r.c.seq, mine.c.kind == "auth", mine.c.value == q.mine_authority)))
        # SQLite: order by an expression, not the bare rowid, or with the LIMIT its planner walks the
        # whole store in rowid order testing each statement against the list.
        sort_key = r.c.seq + 0 if dialect(session) == "sqlite" else r.c.seq
        referring = session.execute(
            sa.select(r.c.seq, r.c.full_json, r.c.stored_us)
            .where(*where)
            .order_by(sort_key.asc() if q.ascending else sort_key.desc())
            .limit(limit)
        ).all()
        for row in referring:
            found.setdefault(row.seq, row)
    ordered = sorted(found, reverse=not q.ascending)[:limit]
    return [(seq, StoredStatement(json.loads(found[seq].full_json), found[seq].stored_us, False)) for seq in ordered]
