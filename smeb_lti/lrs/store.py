"""Queries and writes on the LRS tables (:mod:`smeb_lti.lrs.tables`): tenants, statements, attachments.

Documents live in :mod:`smeb_lti.lrs.document_store`, the GET statements query in
:mod:`smeb_lti.lrs.query`, the ``stored`` clock in :mod:`smeb_lti.lrs.clock`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from smeb_lti.lrs import statements as st
from smeb_lti.lrs.clock import advance_clock, now_us
from smeb_lti.lrs.errors import NotFound
from smeb_lti.lrs.tables import activities, attachments, sha256_hex, statement_links, statements, tenants


def rowcount(result: Any) -> int:
    """Rows an UPDATE/DELETE matched: its result is a CursorResult (Session.execute is typed for SELECTs)."""
    return cast("CursorResult[Any]", result).rowcount


# --------------------------------------------------------------------------- tenants
@dataclass(frozen=True)
class Tenant:
    id: int
    slug: str
    name: str


_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def tenant_by_slug(session: Session, slug: str) -> Tenant | None:
    # A slug that cannot exist is not looked up: a NUL in the path would fail in PostgreSQL's driver (500).
    if not _SLUG.fullmatch(slug):
        return None
    row = session.execute(sa.select(tenants).where(tenants.c.slug == slug)).first()
    return Tenant(row.id, row.slug, row.name) if row else None


def add_tenant(session: Session, slug: str, name: str | None = None) -> Tenant:
    """Create a tenant; ValueError if the slug is taken or not a URL-safe name."""
    if not _SLUG.fullmatch(slug):
        raise ValueError(f"tenant slug {slug!r}: use 1-64 lowercase letters, digits and '-' (it appears in URLs)")
    if tenant_by_slug(session, slug):
        raise ValueError(f"tenant {slug!r} exists already")
    # An INSERT's result is a CursorResult (Session.execute is typed for SELECTs): it carries the new key.
    result = cast("CursorResult[Any]", session.execute(sa.insert(tenants).values(slug=slug, name=name or slug, created_us=now_us())))
    key = result.inserted_primary_key
    assert key is not None  # a single-row INSERT always reports its key
    return Tenant(int(key[0]), slug, name or slug)


def list_tenants(session: Session) -> list[Tenant]:
    return [Tenant(r.id, r.slug, r.name) for r in session.execute(sa.select(tenants).order_by(tenants.c.slug))]


# --------------------------------------------------------------------------- statements
@dataclass
class Prepared:
    """A validated statement ready to store, with its derived index columns."""

    statement: dict[str, Any]
    stored_us: int  # provisional until insert_statements takes the tenant's clock
    links: set[tuple[str, str, bool]] = field(default_factory=set)
    timestamp_is_stored: bool = False  # no timestamp was sent: it is set to ``stored`` (Data 2.4.7)

    @property
    def id(self) -> str:
        return self.statement["id"]

    def row(self, tenant_id: int) -> dict[str, Any]:
        stmt = self.statement
        obj = stmt.get("object") or {}
        context = stmt.get("context") or {}
        is_voiding = stmt.get("verb", {}).get("id") == st.VOIDED
        ref = obj.get("id") if obj.get("objectType") == "StatementRef" else None
        return {
            "tenant_id": tenant_id,
            "statement_id": self.id,
            "stored_us": self.stored_us,
            "verb_id": stmt["verb"]["id"],
            "activity_id": obj.get("id") if obj.get("objectType", "Activity") == "Activity" else None,
            "actor_ifi": st.agent_ifi(stmt.get("actor")),
            "registration": (context.get("registration") or "").lower() or None,
            "ref_id": ref.lower() if ref else None,
            "voiding": is_voiding,
            "voided": False,
            "has_attachments": bool(stmt.get("attachments")),
            "full_json": json.dumps(stmt, ensure_ascii=False, separators=(",", ":")),
        }


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _by_key(session: Session, tenant_id: int, key: str, values: Sequence[str], columns: Sequence[str], *where: Any) -> Iterator[Any]:
    """SELECTs of ``columns`` of the tenant's statements whose ``key`` column is one of ``values``.

    ``key`` is statement_id (unique per tenant), or ref_id for a membership test: on PostgreSQL
    only one row per value is read, so callers must not count rows per ref_id.

    SQLite: ``key IN (...)`` in chunks under its bound-parameter limit. PostgreSQL: one probe per
    value, ``unnest(:values) CROSS JOIN LATERAL (... LIMIT 1)``: a nested loop over the
    (tenant_id, key) index whatever the statistics say. With ``key = ANY(:values)`` a young table
    that autovacuum has not analyzed yet is read by tenant alone (the planner guesses a few rows),
    so each batch scanned every stored statement of the tenant.
    """
    if not values:
        return
    column = statements.c[key]
    if dialect(session) == "postgresql":
        array = ARRAY(column.type)
        wanted = sa.func.unnest(sa.cast(sa.bindparam("wanted", list(values), type_=array), array)).table_valued("value").render_derived()
        match = (
            sa.select(*[statements.c[name] for name in columns])
            .where(statements.c.tenant_id == tenant_id, column == wanted.c.value, *where)
            .limit(1)
            .lateral("match")
        )
        yield sa.select(*[match.c[name] for name in columns]).select_from(wanted.join(match, sa.true()))
        return
    for start in range(0, len(values), 500):
        yield sa.select(*[statements.c[name] for name in columns]).where(
            statements.c.tenant_id == tenant_id, column.in_(values[start : start + 500]), *where
        )


def _chunks(values: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    """``values`` in pieces small enough for SQLite's bound-parameter limit."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def existing_statements(session: Session, tenant_id: int, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Stored statements by id (for conflict checks), with their voiding flag: one query per batch."""
    found: dict[str, dict[str, Any]] = {}
    for query in _by_key(session, tenant_id, "statement_id", list(ids), ("statement_id", "full_json", "voiding")):
        for row in session.execute(query):
            found[row.statement_id] = {"statement": json.loads(row.full_json), "voiding": row.voiding}
    return found


_STATEMENT_COLUMNS = (
    "tenant_id", "statement_id", "stored_us", "verb_id", "activity_id", "actor_ifi", "registration",
    "ref_id", "voiding", "voided", "has_attachments", "full_json",
)
_LINK_COLUMNS = ("seq", "tenant_id", "kind", "value", "direct")


def _unnest_insert(session: Session, table: sa.Table, names: Sequence[str], rows: Sequence[dict[str, Any]], returning: str = "") -> Any:
    """PostgreSQL: ``INSERT INTO table (names) SELECT ... FROM unnest(%(a)b, ...) WITH ORDINALITY ORDER BY ordinality``.

    One array per column instead of one placeholder per value: a short statement whatever the
    batch size, sent once (executemany costs one round trip per row in psycopg's pipeline, and a
    multi-row VALUES list makes psycopg parse a statement that grows with the batch). The arrays
    go in binary (``%b``): psycopg's text format escapes every element with a regex, which cost
    more than the insert for statement JSON. The ORDER BY keeps the sequence values in batch order.
    The SQL is built from the table's own (constant) column names and types, never from input.
    """
    dialect = session.get_bind().dialect
    arrays = ", ".join(f"%(u_{name})b::{table.c[name].type.compile(dialect=dialect)}[]" for name in names)
    columns = ", ".join(names)
    sql = (
        f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM unnest({arrays}) "
        f"WITH ORDINALITY AS u({columns}, ordinality) ORDER BY ordinality"
    )
    if returning:
        sql += " RETURNING " + returning
    params = {f"u_{name}": [row[name] for row in rows] for name in names}
    return session.connection().exec_driver_sql(sql, params)


def _insert_rows(session: Session, table: sa.Table, names: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """One bulk INSERT of plain rows (str/int/bool/None values only)."""
    if dialect(session) == "postgresql":
        _unnest_insert(session, table, names, rows)
        return
    # SQLite: straight to the driver's executemany (the statement is prepared once). Going through
    # sa.insert() costs a Python parameter-processing pass per row, more than sqlite's own insert;
    # these columns need no type processing (sqlite3 stores bool as 1/0 as SQLAlchemy does).
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    session.connection().exec_driver_sql(sql, [tuple(row[name] for name in names) for row in rows])


def insert_statements(
    session: Session,
    tenant_id: int,
    prepared: Sequence[Prepared],
    raw_attachments: dict[str, tuple[str, bytes]],
    update_definitions: bool,
) -> int | None:
    """Store new statements (already checked for conflicts), their links, attachments and voiding.

    A fixed number of SQL round trips per batch, whatever its size (SQLite: per 500 statements):
    one INSERT per table, one lookup for earlier voiding statements, one UPDATE for voided
    targets, one SELECT each for known attachments and activity definitions.

    ``update_definitions``: the caller may change canonical Activity definitions (``define`` scope);
    without it, statements only fill gaps in them (see :func:`statements.merge_definition`).

    ``stored`` is assigned here, from :func:`advance_clock` (so in commit order); returns it (None
    when there was nothing to store).
    """
    if not prepared:
        return None
    stored_us = advance_clock(session, tenant_id)
    stored = st.format_timestamp(stored_us)
    for p in prepared:
        p.stored_us = stored_us
        p.statement["stored"] = stored
        if p.timestamp_is_stored:
            p.statement["timestamp"] = stored
    rows = [p.row(tenant_id) for p in prepared]
    # Mark as voided at insert time when a voiding statement for it arrived earlier. A voiding
    # statement is never voided (Data 2.3.2), whichever order the two arrive in: the ``voiding``
    # tests here and in the UPDATE below keep one that targets another voiding statement inert.
    ids = [r["statement_id"] for r in rows if not r["voiding"]]
    pre_voided: set[str] = set()
    for query in _by_key(session, tenant_id, "ref_id", ids, ("ref_id",), statements.c.voiding.is_(True)):
        pre_voided.update(session.execute(query).scalars())
    batch_voided = {r["ref_id"] for r in rows if r["voiding"]}
    for r in rows:
        if not r["voiding"] and (r["statement_id"] in pre_voided or r["statement_id"] in batch_voided):
            r["voided"] = True
    if dialect(session) == "postgresql":
        inserted = _unnest_insert(session, statements, _STATEMENT_COLUMNS, rows, returning="statement_id, seq").all()
        seq_of = {statement_id: seq for statement_id, seq in inserted}
    else:
        # SQLite: executemany without RETURNING (with it, SQLAlchemy falls back to one INSERT per
        # row to keep the order), then the new seqs in one indexed lookup by (tenant_id, statement_id).
        _insert_rows(session, statements, _STATEMENT_COLUMNS, rows)
        seq_of = {}
        for query in _by_key(session, tenant_id, "statement_id", [r["statement_id"] for r in rows], ("statement_id", "seq")):
            seq_of.update(session.execute(query).all())
    link_rows = [
        {"seq": seq_of[p.id], "tenant_id": tenant_id, "kind": kind, "value": value, "direct": direct}
        for p in prepared
        for kind, value, direct in p.links
    ]
    if link_rows:
        _insert_rows(session, statement_links, _LINK_COLUMNS, link_rows)
    targets = [r["ref_id"] for r in rows if r["voiding"] and r["ref_id"]]
    if targets:
        for query in _by_key(session, tenant_id, "statement_id", targets, ("seq",), statements.c.voiding.is_(False)):
            session.execute(sa.update(statements).where(statements.c.seq.in_(query.scalar_subquery())).values(voided=True))
    if raw_attachments:
        known: set[str] = set()
        for chunk in _chunks(raw_attachments):
            known.update(
                session.execute(
                    sa.select(attachments.c.sha2).where(attachments.c.tenant_id == tenant_id, attachments.c.sha2.in_(chunk))
                ).scalars()
            )
        fresh = [
            {"tenant_id": tenant_id, "sha2": sha2, "content_type": content_type, "content": data}
            for sha2, (content_type, data) in raw_attachments.items()
            if sha2 not in known
        ]
        if fresh:
            session.execute(sa.insert(attachments), fresh)
    _merge_activities(
        session,
        tenant_id,
        [(activity["id"], activity["definition"]) for p in prepared for activity in st.activities_with_definitions(p.statement)],
        trusted=update_definitions,
    )
    return stored_us


def _merge_activities(session: Session, tenant_id: int, found: list[tuple[str, dict[str, Any]]], trusted: bool) -> None:
    """Merge the definitions into the canonical ones, in statement order; write only what changed.

    The same result as merging one statement at a time into the table: each definition merges
    into the result of the ones before it; a row is written when its final JSON differs.
    """
    if not found:
        return
    keys = {activity_id: sha256_hex(activity_id) for activity_id, _ in found}
    stored: dict[str, str] = {}
    for chunk in _chunks(set(keys.values())):
        stored.update(
            session.execute(
                sa.select(activities.c.activity_hash, activities.c.definition_json).where(
                    activities.c.tenant_id == tenant_id, activities.c.activity_hash.in_(chunk)
                )
            ).all()
        )
    current: dict[str, dict[str, Any]] = {key: json.loads(text) for key, text in stored.items()}
    for activity_id, definition in found:
        key = keys[activity_id]
        current[key] = st.merge_definition(current.get(key), definition, trusted=trusted)
    fresh: list[dict[str, Any]] = []
    for activity_id, key in keys.items():
        text = json.dumps(current[key], ensure_ascii=False)
        if key not in stored:
            fresh.append({"tenant_id": tenant_id, "activity_hash": key, "activity_id": activity_id, "definition_json": text})
        elif text != stored[key]:
            session.execute(
                sa.update(activities).where(activities.c.tenant_id == tenant_id, activities.c.activity_hash == key).values(definition_json=text)
            )
    if fresh:
        session.execute(sa.insert(activities), fresh)


def canonical_definitions(session: Session, tenant_id: int, activity_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    by_hash = {sha256_hex(a): a for a in activity_ids}
    found: dict[str, dict[str, Any]] = {}
    keys = list(by_hash)
    for chunk in range(0, len(keys), 500):
        for row in session.execute(
            sa.select(activities.c.activity_id, activities.c.definition_json).where(
                activities.c.tenant_id == tenant_id, activities.c.activity_hash.in_(keys[chunk : chunk + 500])
            )
        ):
            found[row.activity_id] = json.loads(row.definition_json)
    return found


@dataclass(frozen=True)
class StoredStatement:
    statement: dict[str, Any]
    stored_us: int
    voided: bool


def get_statement(session: Session, tenant_id: int, statement_id: str) -> StoredStatement | None:
    row = session.execute(
        sa.select(statements.c.full_json, statements.c.stored_us, statements.c.voided).where(
            statements.c.tenant_id == tenant_id, statements.c.statement_id == statement_id.lower()
        )
    ).first()
    return StoredStatement(json.loads(row.full_json), row.stored_us, row.voided) if row else None


def attachment_data(session: Session, tenant_id: int, sha2s: Iterable[str]) -> dict[str, tuple[str, bytes]]:
    found: dict[str, tuple[str, bytes]] = {}
    keys = list(set(sha2s))
    for chunk in range(0, len(keys), 500):
        for row in session.execute(
            sa.select(attachments).where(attachments.c.tenant_id == tenant_id, attachments.c.sha2.in_(keys[chunk : chunk + 500]))
        ):
            found[row.sha2] = (row.content_type, bytes(row.content))
    return found


def require_tenant(session: Session, slug: str) -> Tenant:
    tenant = tenant_by_slug(session, slug)
    if tenant is None:
        raise NotFound(f"no LRS tenant {slug!r}; create it with `smeb lrs tenant add {slug}`")
    return tenant
