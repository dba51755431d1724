"""The LRS tables (created only by the ``lrs`` Alembic branch) and the queries on them.

Statements are stored as the exact JSON the LRS returns for ``format=exact`` plus derived
index columns; ``lrs_statement_links`` holds one row per (agent IFI | activity id) a
statement mentions, so agent/activity filters (direct or related) are index lookups.
Ordering and paging use ``seq`` (insert order), which follows ``stored``.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.db import Base
from smeb_lti.lrs import statements as st
from smeb_lti.lrs.errors import NotFound

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IRI = sa.String(2048)
# Longest identifier (IRI, IFI) stored in an indexed column, in UTF-8 bytes: VARCHAR(2048) counts
# characters, but a PostgreSQL btree entry holds at most ~2,700 bytes, so bytes are what must be bounded.
MAX_INDEXED_BYTES = 2048
MAX_CONTENT_TYPE = 255  # lrs_documents.content_type, lrs_attachments.content_type
metadata = Base.metadata

tenants = sa.Table(
    "lrs_tenants",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
)
credentials = sa.Table(
    "lrs_credentials",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("lrs_tenants.id"), nullable=False),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(128), nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("scopes", sa.String(300), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("revoked_us", sa.BigInteger(), nullable=True),
)
statements = sa.Table(
    "lrs_statements",
    metadata,
    sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.Integer(), nullable=False),
    sa.Column("statement_id", sa.String(36), nullable=False),
    sa.Column("stored_us", sa.BigInteger(), nullable=False),
    sa.Column("verb_id", IRI, nullable=False),
    sa.Column("activity_id", IRI, nullable=True),
    sa.Column("actor_ifi", IRI, nullable=True),
    sa.Column("registration", sa.String(36), nullable=True),
    sa.Column("ref_id", sa.String(36), nullable=True),
    sa.Column("voiding", sa.Boolean(), nullable=False),
    sa.Column("voided", sa.Boolean(), nullable=False),
    sa.Column("has_attachments", sa.Boolean(), nullable=False),
    sa.Column("full_json", sa.Text(), nullable=False),
    sa.UniqueConstraint("tenant_id", "statement_id"),
)
statement_links = sa.Table(
    "lrs_statement_links",
    metadata,
    sa.Column("seq", SEQ, sa.ForeignKey("lrs_statements.seq", ondelete="CASCADE"), primary_key=True),
    sa.Column("tenant_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("value", IRI, primary_key=True),
    sa.Column("direct", sa.Boolean(), nullable=False),
)
attachments = sa.Table(
    "lrs_attachments",
    metadata,
    sa.Column("tenant_id", sa.Integer(), primary_key=True),
    sa.Column("sha2", sa.String(128), primary_key=True),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
)
activities = sa.Table(
    "lrs_activities",
    metadata,
    sa.Column("tenant_id", sa.Integer(), primary_key=True),
    sa.Column("activity_hash", sa.String(64), primary_key=True),
    sa.Column("activity_id", IRI, nullable=False),
    sa.Column("definition_json", sa.Text(), nullable=False),
)
documents = sa.Table(
    "lrs_documents",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("tenant_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("scope_hash", sa.String(64), nullable=False),
    sa.Column("doc_hash", sa.String(64), nullable=False),
    sa.Column("doc_id", sa.Text(), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("etag", sa.String(40), nullable=False),
    sa.Column("updated_us", sa.BigInteger(), nullable=False),
    sa.UniqueConstraint("tenant_id", "kind", "scope_hash", "doc_hash"),
)
secrets_table = sa.Table(
    "lrs_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
)
cmi5_sessions = sa.Table(
    "lrs_cmi5_sessions",
    metadata,
    sa.Column("session_id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.Integer(), nullable=False),
    sa.Column("registration", sa.String(36), nullable=False),
    sa.Column("actor_json", sa.Text(), nullable=False),
    sa.Column("activity_id", IRI, nullable=False),
    sa.Column("publisher_id", IRI, nullable=False),
    sa.Column("course_id", IRI, nullable=False),
    sa.Column("launch_mode", sa.String(16), nullable=False),
    sa.Column("mastery_score", sa.Float(), nullable=True),
    sa.Column("move_on", sa.String(32), nullable=False),
    sa.Column("fetch_hash", sa.String(64), nullable=False),
    sa.Column("fetched", sa.Boolean(), nullable=False),
    sa.Column("initialized", sa.Boolean(), nullable=False),
    sa.Column("terminated", sa.Boolean(), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("customer_json", sa.Text(), nullable=True),  # the launch's customer (routing of forwarded statements)
    sa.Column("course_publisher_id", IRI, nullable=True),  # the course's id in cmi5.xml (NULL: launched before lrs_0003)
)
# One row per (registration, node): an AU (its generated activity id; the once-only flags of cmi5 9.3
# and satisfied = its moveOn is met) or a block/course object (satisfied = "satisfied" was recorded).
cmi5_registrations = sa.Table(
    "lrs_cmi5_registrations",
    metadata,
    sa.Column("tenant_id", sa.Integer(), primary_key=True),
    sa.Column("registration", sa.String(36), primary_key=True),
    sa.Column("activity_id", IRI, primary_key=True),
    sa.Column("completed", sa.Boolean(), nullable=False),
    sa.Column("passed", sa.Boolean(), nullable=False),
    sa.Column("failed", sa.Boolean(), nullable=False),
    sa.Column("waived", sa.Boolean(), nullable=False),
    sa.Column("satisfied", sa.Boolean(), nullable=False),
)
cmi5_courses = sa.Table(
    "lrs_cmi5_courses",
    metadata,
    sa.Column("tenant_id", sa.Integer(), primary_key=True),
    sa.Column("activity_id", IRI, primary_key=True),  # the generated course object id (cmi5 9.4)
    sa.Column("publisher_id", IRI, nullable=False),
    sa.Column("structure_json", sa.Text(), nullable=False),
    sa.Column("imported_us", sa.BigInteger(), nullable=False),
)

# One row per tenant: the ``stored`` of its latest statement write (lrs_0004). Writers advance it as
# the last step before inserting, and hold its row lock until they commit, so ``stored`` values are
# handed out in commit order; readers take it as X-Experience-API-Consistent-Through. See
# :func:`advance_clock` and :func:`consistent_through`.
clock = sa.Table(
    "lrs_clock",
    metadata,
    sa.Column("tenant_id", sa.Integer(), primary_key=True),
    sa.Column("stored_us", sa.BigInteger(), nullable=False),
)

_last_us = 0


def now_us() -> int:
    """Wall-clock microseconds, truncated to ms (what ``stored`` shows), never going backwards."""
    global _last_us
    value = (time.time_ns() // 1_000_000) * 1000
    _last_us = max(_last_us, value)
    return _last_us


def advance_clock(session: Session, tenant_id: int) -> int:
    """The ``stored`` (µs, whole ms) for the statements this transaction writes: later than every earlier one.

    One upsert on the tenant's ``lrs_clock`` row: ``max(now, previous + 1 ms)``. Its row lock (PostgreSQL)
    or the database write lock (SQLite) is held until the transaction ends, so a writer that takes the
    clock after another commits after it: ``stored`` grows in commit order on every host and worker, and
    the committed clock value is a point up to which every statement is visible (Communication 2.1.3,
    X-Experience-API-Consistent-Through). Call it as late as possible: it serializes a tenant's writers
    from here to their commit. The 1 ms step keeps ``stored`` distinct per write at the millisecond
    precision it is shown with, so ``since=<Consistent-Through>`` never skips a later write.
    """
    # Driver-level SQL (constant text, bound values): built with sa.insert().on_conflict_do_update() it
    # cost ~1.5 ms of SQLAlchemy statement construction per write, more than the database's own work.
    sql = _CLOCK_SQL["postgresql" if _dialect(session) == "postgresql" else "sqlite"]
    value = int(session.connection().exec_driver_sql(sql, (tenant_id, now_us())).scalar_one())
    _remember_through(tenant_id, value)
    return value


_CLOCK_SQL = {
    "postgresql": "INSERT INTO lrs_clock (tenant_id, stored_us) VALUES (%s, %s) ON CONFLICT (tenant_id) "
    "DO UPDATE SET stored_us = greatest(excluded.stored_us, lrs_clock.stored_us + 1000) RETURNING stored_us",
    "sqlite": "INSERT INTO lrs_clock (tenant_id, stored_us) VALUES (?, ?) ON CONFLICT (tenant_id) "
    "DO UPDATE SET stored_us = max(excluded.stored_us, lrs_clock.stored_us + 1000) RETURNING stored_us",
}
_through: dict[int, int] = {}


def _remember_through(tenant_id: int, value: int) -> None:
    if value > _through.get(tenant_id, -1):
        _through[tenant_id] = value


def consistent_through(session: Session, tenant_id: int) -> int:
    """X-Experience-API-Consistent-Through (µs): every statement with ``stored`` up to it is visible now.

    The committed clock value: the writer that set it has committed, and so has every writer before it
    (they held the clock until their commit); every later writer gets a larger ``stored``. 0 before the
    first write. A GET bounds its results by this value, so ``since=<header>`` sees each statement once.
    """
    value = session.execute(sa.select(clock.c.stored_us).where(clock.c.tenant_id == tenant_id)).scalar_one_or_none()
    result = int(value or 0)
    _remember_through(tenant_id, result)
    return result


def last_known_through(tenant_id: int | None) -> int:
    """A Consistent-Through this process has seen for the tenant (0 if none), for error answers that do
    not reach the database: any value once read stays valid, since visible statements stay visible."""
    return _through.get(tenant_id, 0) if tenant_id is not None else 0


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", slug):
        raise ValueError(f"tenant slug {slug!r}: use 1-64 lowercase letters, digits and '-' (it appears in URLs)")
    if tenant_by_slug(session, slug):
        raise ValueError(f"tenant {slug!r} exists already")
    result = session.execute(sa.insert(tenants).values(slug=slug, name=name or slug, created_us=now_us()))
    return Tenant(int(result.inserted_primary_key[0]), slug, name or slug)  # type: ignore[attr-defined]


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


def _dialect(session: Session) -> str:
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
    if _dialect(session) == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

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
    if _dialect(session) == "postgresql":
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
    if _dialect(session) == "postgresql":
        inserted = _unnest_insert(session, statements, _STATEMENT_COLUMNS, rows, returning="statement_id, seq").all()
        seq_of = dict(inserted)  # type: ignore[arg-type]
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
        sort_key = r.c.seq + 0 if _dialect(session) == "sqlite" else r.c.seq
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


def attachment_data(session: Session, tenant_id: int, sha2s: Iterable[str]) -> dict[str, tuple[str, bytes]]:
    found: dict[str, tuple[str, bytes]] = {}
    keys = list(set(sha2s))
    for chunk in range(0, len(keys), 500):
        for row in session.execute(
            sa.select(attachments).where(attachments.c.tenant_id == tenant_id, attachments.c.sha2.in_(keys[chunk : chunk + 500]))
        ):
            found[row.sha2] = (row.content_type, bytes(row.content))
    return found


# --------------------------------------------------------------------------- documents
@dataclass(frozen=True)
class Document:
    doc_id: str
    content: bytes
    content_type: str
    etag: str
    updated_us: int


def _scope_hash(kind: str, activity_id: str | None, agent_ifi: str | None, registration: str | None) -> str:
    return sha256_hex(json.dumps([kind, activity_id or "", agent_ifi or "", (registration or "").lower()]))


@dataclass(frozen=True)
class DocumentScope:
    """Where a document lives: state (activity+agent[+registration]), activity or agent profile."""

    kind: str
    activity_id: str | None = None
    agent_ifi: str | None = None
    registration: str | None = None

    @property
    def hash(self) -> str:
        return _scope_hash(self.kind, self.activity_id, self.agent_ifi, self.registration)


def get_document(session: Session, tenant_id: int, scope: DocumentScope, doc_id: str) -> Document | None:
    row = session.execute(
        sa.select(documents).where(
            documents.c.tenant_id == tenant_id,
            documents.c.kind == scope.kind,
            documents.c.scope_hash == scope.hash,
            documents.c.doc_hash == sha256_hex(doc_id),
        )
    ).first()
    return Document(row.doc_id, bytes(row.content), row.content_type, row.etag, row.updated_us) if row else None


class StaleDocument(Exception):
    """The document changed between the precondition check and the write (a concurrent writer won)."""


def put_document(
    session: Session, tenant_id: int, scope: DocumentScope, doc_id: str, content: bytes, content_type: str, expected_etag: str | None = None
) -> Document:
    """Create or replace a document; with ``expected_etag`` only if it still has that ETag (compare-and-set).

    Raises:
        StaleDocument: another request replaced or deleted it since ``expected_etag`` was read.
    """
    etag = hashlib.sha1(content).hexdigest()
    updated = now_us()
    where = [
        documents.c.tenant_id == tenant_id,
        documents.c.kind == scope.kind,
        documents.c.scope_hash == scope.hash,
        documents.c.doc_hash == sha256_hex(doc_id),
    ]
    if expected_etag is not None:
        # One UPDATE with the ETag in its WHERE: of two writers holding the same ETag only one matches a row.
        result = session.execute(
            sa.update(documents).where(*where, documents.c.etag == expected_etag)
            .values(content=content, content_type=content_type, etag=etag, updated_us=updated)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleDocument(doc_id)
    elif session.execute(sa.select(documents.c.id).where(*where)).first():
        session.execute(sa.update(documents).where(*where).values(content=content, content_type=content_type, etag=etag, updated_us=updated))
    else:
        session.execute(
            sa.insert(documents).values(
                tenant_id=tenant_id,
                kind=scope.kind,
                scope_hash=scope.hash,
                doc_hash=sha256_hex(doc_id),
                doc_id=doc_id,
                content=content,
                content_type=content_type,
                etag=etag,
                updated_us=updated,
            )
        )
    return Document(doc_id, content, content_type, etag, updated)


def list_documents(session: Session, tenant_id: int, scope: DocumentScope, since_us: int | None) -> list[tuple[str, int]]:
    where = [documents.c.tenant_id == tenant_id, documents.c.kind == scope.kind, documents.c.scope_hash == scope.hash]
    if since_us is not None:
        where.append(documents.c.updated_us > since_us)
    return [(r.doc_id, r.updated_us) for r in session.execute(sa.select(documents.c.doc_id, documents.c.updated_us).where(*where).order_by(documents.c.doc_id))]


def delete_documents(session: Session, tenant_id: int, scope: DocumentScope, doc_id: str | None, expected_etag: str | None = None) -> None:
    where = [documents.c.tenant_id == tenant_id, documents.c.kind == scope.kind, documents.c.scope_hash == scope.hash]
    if doc_id is not None:
        where.append(documents.c.doc_hash == sha256_hex(doc_id))
    if expected_etag is not None:
        where.append(documents.c.etag == expected_etag)
    result = session.execute(sa.delete(documents).where(*where))
    if expected_etag is not None and result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleDocument(doc_id or "")


def require_tenant(session: Session, slug: str) -> Tenant:
    tenant = tenant_by_slug(session, slug)
    if tenant is None:
        raise NotFound(f"no LRS tenant {slug!r}; create it with `smeb lrs tenant add {slug}`")
    return tenant


