"""The tenant clock: ``stored`` values handed out in commit order, and X-Experience-API-Consistent-Through."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.lrs.tables import clock

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
    sql = _CLOCK_SQL["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]
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
