"""The durable outbox: statements wait in the database until an upstream has them.

The learner event and its statement are written in ONE transaction: :func:`enqueue` takes the
caller's ``Connection`` (or ORM ``Session``) and never commits. A row exists per
(item, destination), so one LRS being down does not hold back another.

Rows are generic, so LTI AGS scores use the same table: ``kind`` says what the payload is
(``lrs``: an xAPI statement; ``ags``: an LTI AGS score, see ``smeb_lti.lti.ags``), ``item_id`` is the
idempotency key (the statement id), ``payload`` is the exact text sent on every try (byte-stable, so a retry
of a request whose answer we lost is a no-op at the LRS, not a 409).

The tables are in :mod:`xapi.delivery.tables` (on this package's own ``MetaData``: ``xapi`` imports
nothing of ``smeb_lti``); the DDL itself is written out in the Alembic revision ``outbox_0001``.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    DateTime,
    Engine,
    Integer,
    String,
    Text,
    Update,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from xapi.delivery.client import serialize_statement
from xapi.delivery.destinations import Destination
from xapi.delivery.tables import outbox_table
from xapi.validation import validate_statement

PENDING, DELIVERED, PARKED = "pending", "delivered", "parked"
#: Settled without sending: an LTI AGS score that a newer score for the same line item and user replaced
#: (``smeb_lti.lti.ags``; the migration ``ags_0001`` adds it to the status CHECK).
SUPERSEDED = "superseded"

Executor = Connection | Session


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    destination: str
    item_id: str
    payload: str
    status: str
    attempts: int
    last_error: str | None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _timestamp(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def prepare_statement(statement: Mapping[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
    """A copy with ``id`` and ``timestamp`` set by us, so every retry sends the very same statement."""
    prepared = dict(statement)
    prepared.setdefault("id", str(uuid.uuid4()))
    prepared.setdefault("timestamp", _timestamp(now or utcnow()))
    return prepared


def enqueue(
    conn: Executor,
    statement: Mapping[str, Any],
    destinations: Iterable[str | Destination],
    *,
    version: str = "1.0.3",
    now: dt.datetime | None = None,
) -> str:
    """Validate ``statement`` and add one outbox row per destination, in the caller's transaction.

    Returns the statement id. Raises ``StatementValidationError`` (nothing written) when the
    statement is invalid: an invalid statement must fail the learner event, not the worker.
    """
    now = now or utcnow()
    prepared = prepare_statement(statement, now)
    validate_statement(prepared, version=version)
    payload = serialize_statement(prepared)
    rows = []
    for destination in destinations:
        name, kind = (destination.name, destination.kind) if isinstance(destination, Destination) else (destination, "lrs")
        rows.append(
            {
                "kind": kind,
                "destination": name,
                "item_id": prepared["id"],
                "payload": payload,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    if not rows:
        raise ValueError("enqueue needs at least one destination")
    conn.execute(outbox_table.insert(), rows)
    return str(prepared["id"])


# -- the worker's side -----------------------------------------------------------------

#: Where the worker's bookkeeping runs: a short transaction of its own on ``Engine``, or on a
#: ``Connection`` the worker holds for a whole pass (no pool checkout, no pre-ping per batch).
Db = Engine | Connection


@contextmanager
def _worker_transaction(db: Db) -> Iterator[Connection]:
    """One short transaction of the delivery worker's own bookkeeping (claim, mark, reschedule).

    On PostgreSQL its commit does not wait for the WAL flush (``SET LOCAL synchronous_commit``,
    this transaction only). A bookkeeping commit lost to a database crash can only mean a lease
    never taken or a row not yet marked delivered, so the statement is sent once more — a no-op
    at the LRS, whose statement ids make delivery idempotent. The learner's own transaction
    (:func:`enqueue`) keeps full durability.
    """
    if isinstance(db, Engine):
        with db.begin() as conn:
            _relax_commit(conn)
            yield conn
    else:
        with db.begin():
            _relax_commit(db)
            yield db


def _relax_commit(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def _as_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:  # SQLite keeps no offset; we only ever store UTC
        return value.replace(tzinfo=dt.UTC)
    return value


_When = DateTime(timezone=True)


@functools.cache
def _claim_statement(dialect: str) -> Update:
    """The claim, built once per dialect: only its bound values change from batch to batch."""
    t = outbox_table
    now = bindparam("claim_now", type_=_When)
    lease_free = or_(t.c.lease_until.is_(None), t.c.lease_until < now)
    due = and_(
        t.c.destination == bindparam("claim_destination", type_=String()),
        t.c.kind == bindparam("claim_kind", type_=String()),
        t.c.status == PENDING,
        t.c.next_attempt_at <= now,
        lease_free,
    )
    chosen = select(t.c.id).where(due).order_by(t.c.next_attempt_at, t.c.id).limit(bindparam("claim_limit", type_=Integer()))
    if dialect == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    # MATERIALIZED: PostgreSQL must run the locking LIMIT query once, not re-plan it as a join.
    chosen_ids = chosen.cte("chosen").prefix_with("MATERIALIZED")
    return (
        update(t)
        .where(t.c.id.in_(select(chosen_ids.c.id)), lease_free, t.c.status == PENDING)
        .values(lease_token=bindparam("claim_token", type_=String()), lease_until=bindparam("claim_until", type_=_When))
        .returning(t.c.id, t.c.kind, t.c.destination, t.c.item_id, t.c.payload, t.c.status, t.c.attempts, t.c.last_error)
    )


_MARK_DELIVERED = (
    update(outbox_table)
    .where(outbox_table.c.id.in_(bindparam("mark_ids", expanding=True)), outbox_table.c.status != DELIVERED)
    .values(
        status=DELIVERED,
        delivered_at=bindparam("mark_now", type_=_When),
        lease_token=None,
        lease_until=None,
        last_error=bindparam("mark_note", type_=Text()),
        attempts=outbox_table.c.attempts + 1,
    )
)


def _claim(conn: Connection, destination: str, limit: int, lease_seconds: float, now: dt.datetime, kind: str) -> tuple[str, list[OutboxRow]]:
    token = str(uuid.uuid4())
    params = {
        "claim_now": now,
        "claim_destination": destination,
        "claim_kind": kind,
        "claim_limit": limit,
        "claim_token": token,
        "claim_until": now + dt.timedelta(seconds=lease_seconds),
    }
    rows = sorted(conn.execute(_claim_statement(conn.dialect.name), params).all(), key=lambda r: r[0])
    return token, [OutboxRow(*row) for row in rows]


def _mark_delivered(conn: Connection, ids: Sequence[int], note: str | None, now: dt.datetime) -> None:
    if ids:
        conn.execute(_MARK_DELIVERED, {"mark_ids": list(ids), "mark_now": now, "mark_note": note})


def claim_batch(
    db: Db,
    destination: str,
    *,
    limit: int = 100,
    lease_seconds: float = 120.0,
    now: dt.datetime | None = None,
    kind: str = "lrs",
) -> tuple[str, list[OutboxRow]]:
    """Lease up to ``limit`` due rows of one destination; returns (lease token, rows by id).

    One statement: ``WITH chosen AS MATERIALIZED (SELECT ... LIMIT n) UPDATE ... RETURNING``. On PostgreSQL the
    inner select is ``FOR UPDATE SKIP LOCKED``, so concurrent workers take disjoint rows without
    waiting; SQLite runs the whole UPDATE under its single writer lock. A worker killed
    mid-batch leaves a lease that expires after ``lease_seconds``; the next claim takes those
    rows again. Longest-waiting rows first, so a batch that keeps failing cannot starve the
    rows behind it.
    """
    return settle_and_claim(db, destination, (), limit=limit, lease_seconds=lease_seconds, now=now, kind=kind)


def settle_and_claim(
    db: Db,
    destination: str,
    delivered: Iterable[tuple[Sequence[int], str | None]],
    *,
    limit: int = 100,
    lease_seconds: float = 120.0,
    now: dt.datetime | None = None,
    kind: str = "lrs",
) -> tuple[str, list[OutboxRow]]:
    """Mark earlier batches delivered (``(ids, note)`` pairs, as :func:`mark_delivered`) and
    lease the next batch (as :func:`claim_batch`) in ONE transaction: one commit per batch
    instead of two. The marks come first, so a crash between the two loses neither."""
    now = now or utcnow()
    with _worker_transaction(db) as conn:
        for ids, note in delivered:
            _mark_delivered(conn, ids, note, now)
        return _claim(conn, destination, limit, lease_seconds, now, kind)


def release(db: Db, token: str) -> None:
    """Give back a claimed batch that will not be sent now (e.g. the LRS just failed)."""
    with _worker_transaction(db) as conn:
        conn.execute(update(outbox_table).where(outbox_table.c.lease_token == token).values(lease_token=None, lease_until=None))


def extend_lease(db: Db, token: str, ids: Sequence[int], lease_seconds: float) -> None:
    with _worker_transaction(db) as conn:
        conn.execute(
            update(outbox_table)
            .where(outbox_table.c.id.in_(ids), outbox_table.c.lease_token == token)
            .values(lease_until=utcnow() + dt.timedelta(seconds=lease_seconds))
        )


def mark_delivered(db: Db, ids: Sequence[int], note: str | None = None) -> None:
    """The upstream has these items (whoever's lease it was: delivered is true either way)."""
    if ids:
        settle(db, [(ids, note)])


def settle(db: Db, delivered: Iterable[tuple[Sequence[int], str | None]]) -> None:
    """:func:`mark_delivered` for several ``(ids, note)`` batches, in one transaction."""
    now = utcnow()
    with _worker_transaction(db) as conn:
        for ids, note in delivered:
            _mark_delivered(conn, ids, note, now)


def park(db: Db, token: str, ids: Sequence[int], reason: str) -> None:
    """Permanently rejected: keep the row for a human (``smeb outbox parked``), never resend by itself."""
    with _worker_transaction(db) as conn:
        conn.execute(
            update(outbox_table)
            .where(outbox_table.c.id.in_(ids), outbox_table.c.lease_token == token, outbox_table.c.status == PENDING)
            .values(status=PARKED, lease_token=None, lease_until=None, last_error=reason[:4000],
                    attempts=outbox_table.c.attempts + 1)
        )


def reschedule(db: Db, token: str, delays: Mapping[int, float], reason: str) -> None:
    """Try again later: each row gets its own delay (the caller computes backoff with jitter)."""
    now = utcnow()
    with _worker_transaction(db) as conn:
        for row_id, delay in delays.items():
            conn.execute(
                update(outbox_table)
                .where(outbox_table.c.id == row_id, outbox_table.c.lease_token == token, outbox_table.c.status == PENDING)
                .values(next_attempt_at=now + dt.timedelta(seconds=delay), lease_token=None, lease_until=None,
                        last_error=reason[:4000], attempts=outbox_table.c.attempts + 1)
            )


# -- operators' views ------------------------------------------------------------------


def status_counts(conn: Executor) -> dict[tuple[str, str], int]:
    """{(destination, status): count}."""
    t = outbox_table
    rows = conn.execute(select(t.c.destination, t.c.status, func.count()).group_by(t.c.destination, t.c.status))
    return {(d, s): n for d, s, n in rows}


def oldest_pending(conn: Executor) -> dict[str, dt.datetime]:
    t = outbox_table
    rows = conn.execute(select(t.c.destination, func.min(t.c.created_at)).where(t.c.status == PENDING).group_by(t.c.destination))
    return {d: _as_utc(c) for d, c in rows if c is not None}


def parked_rows(conn: Executor, limit: int = 100) -> list[OutboxRow]:
    t = outbox_table
    rows = conn.execute(select(t).where(t.c.status == PARKED).order_by(t.c.id).limit(limit)).mappings()
    return [OutboxRow(r["id"], r["kind"], r["destination"], r["item_id"], r["payload"], r["status"], r["attempts"], r["last_error"]) for r in rows]


def pending_destinations(conn: Executor, kind: str | None = None) -> list[str]:
    """Destinations that have rows waiting (of one ``kind`` — 'lrs' or 'ags' — when given)."""
    t = outbox_table
    query = select(t.c.destination).where(t.c.status == PENDING)
    if kind is not None:
        query = query.where(t.c.kind == kind)
    return list(conn.execute(query.distinct()).scalars())


def retry(conn: Executor, *, parked: bool = False, destination: str | None = None) -> int:
    """Make pending rows due now (and, with ``parked``, put parked rows back in the queue)."""
    t = outbox_table
    statuses = [PENDING, PARKED] if parked else [PENDING]
    query = update(t).where(t.c.status.in_(statuses)).values(status=PENDING, next_attempt_at=utcnow(), lease_token=None, lease_until=None)
    if destination:
        query = query.where(t.c.destination == destination)
    result = conn.execute(query)
    assert isinstance(result, CursorResult)  # an UPDATE answers with a CursorResult, through a Session too
    return result.rowcount or 0
