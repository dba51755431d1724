"""The delivery worker: outbox rows → upstream LRSs, losing nothing and duplicating nothing.

One pass (:meth:`Worker.run_once`) goes through the configured destinations; for each it
claims batches of at most ``batch_size`` due rows under a lease and sends them as one POST:

* delivered (2xx, or 409 for a single statement: the LRS already holds that id) → ``delivered``;
* the LRS rejects the batch (400/409/413/422) → split in halves and send each, until the
  bad statement is alone; then it is ``parked`` with the LRS's reason and the rest go through;
* wrong credentials (401/403) → rescheduled with backoff, logged as an error, never dropped;
* 5xx, timeouts, connection errors → rescheduled with exponential backoff and full jitter
  (``uniform(0, min(cap, base * 2**attempts))``, AWS Architecture Blog, "Exponential Backoff
  And Jitter"), so many workers do not hammer a recovering LRS in step.

A batch that failed as retryable ends the destination's turn in this pass: we do not pile
more requests onto an LRS that is down or slow. Only one request per destination is ever in
flight per worker, and each has the client's timeout, so the work in flight is bounded.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine

from xapi import outbox
from xapi.client import LrsClient, Outcome, SendResult
from xapi.destinations import Destination

log = logging.getLogger("xapi.delivery")
T = TypeVar("T")


@dataclass(frozen=True)
class DeliveryPolicy:
    batch_size: int = 100
    lease_seconds: float = 120.0
    backoff_base: float = 1.0
    backoff_cap: float = 600.0
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 100:
            raise ValueError(f"batch_size must be 1..100, got {self.batch_size}")
        if self.lease_seconds <= self.timeout:
            raise ValueError("lease_seconds must exceed the HTTP timeout, or a slow batch would be claimed twice")


@dataclass
class PassStats:
    delivered: int = 0
    parked: int = 0
    rescheduled: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: PassStats) -> None:
        self.delivered += other.delivered
        self.parked += other.parked
        self.rescheduled += other.rescheduled
        self.requests += other.requests
        self.errors += other.errors


def backoff_delay(attempts: int, base: float, cap: float, rng: Callable[[float, float], float] = random.uniform) -> float:
    """Full jitter: a uniform delay below the exponential bound for the ``attempts``-th failure."""
    return rng(0.0, min(cap, base * (2 ** min(attempts, 30))))


class _BookkeepingThread:
    """One helper thread for the worker's database work, on one connection it holds.

    Holding the connection spares a pool checkout (and on PostgreSQL the pre-ping round trip)
    per transaction. It is used from this thread only; after a database error it is closed
    and the next job opens a fresh one.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-db")
        self._conn: Connection | None = None

    def connection(self) -> Connection:
        """The held connection (call from jobs only)."""
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    def submit(self, job: Callable[..., T], *args: Any) -> Future[T]:
        def run() -> T:
            try:
                return job(*args)
            except BaseException:
                self._drop()
                raise

        return self._pool.submit(run)

    def _drop(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except Exception:  # already broken: the job's own error is the one to report
                log.debug("closing a failed bookkeeping connection", exc_info=True)

    def close(self) -> None:
        self._pool.submit(self._drop).result()
        self._pool.shutdown(wait=True)


class Worker:
    """Delivers the outbox of one database to the given destinations."""

    def __init__(
        self,
        engine: Engine,
        destinations: Mapping[str, Destination],
        policy: DeliveryPolicy = DeliveryPolicy(),
        stop: threading.Event | None = None,
    ) -> None:
        self.engine = engine
        self.destinations = dict(destinations)
        self.policy = policy
        self.stop = stop or threading.Event()
        self._clients: dict[str, LrsClient] = {}
        self._db: _BookkeepingThread | None = None
        self._pending_marks: list[tuple[list[int], str | None]] = []

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def client(self, destination: Destination) -> LrsClient:
        if destination.name not in self._clients:
            self._clients[destination.name] = LrsClient(
                destination.endpoint,
                username=destination.username,
                password=destination.password,
                version=destination.version,
                timeout=self.policy.timeout,
            )
        return self._clients[destination.name]

    # -- passes ----------------------------------------------------------------------------

    def run_once(self) -> PassStats:
        """Deliver everything that is due now (one pass over all destinations)."""
        stats = PassStats()
        with self.engine.connect() as conn:
            # Grades (kind 'ags') are posted by the LTI tool's AGS sender, not by this worker.
            waiting = outbox.pending_destinations(conn, kind="lrs")
        for name in waiting:
            if name not in self.destinations:
                stats.errors.append(f"outbox rows wait for destination {name!r}, which is not configured")
                log.error(stats.errors[-1])
        for destination in self.destinations.values():
            if destination.kind != "lrs":
                continue  # AGS delivery comes with the LTI tool
            stats.add(self.deliver_destination(destination))
        return stats

    def run_forever(self, idle_seconds: float = 1.0) -> PassStats:
        """Pass after pass until :attr:`stop` is set (SIGTERM): the batch in flight completes first."""
        total = PassStats()
        while not self.stop.is_set():
            stats = self.run_once()
            total.add(stats)
            if stats.requests == 0 or stats.rescheduled:
                self.stop.wait(idle_seconds)
        return total

    def deliver_destination(self, destination: Destination) -> PassStats:
        """Batches until none is due. The database work overlaps the HTTP request in flight:
        one helper thread, on one connection it holds for the whole pass, records the previous
        batch as delivered and claims the next one in a single transaction while we wait for
        the LRS (a mark lost to a crash only means a resend, a no-op)."""
        stats = PassStats()
        db = _BookkeepingThread(self.engine)
        self._db = db
        self._pending_marks = []

        def settle_and_claim(
            marks: list[tuple[list[int], str | None]], sent: threading.Event | None = None
        ) -> tuple[str, list[outbox.OutboxRow]]:
            if sent is not None:
                # Start once the POST is on the wire: our database work would otherwise contend
                # for the GIL with building and writing the request, on the critical path.
                sent.wait()
            return outbox.settle_and_claim(
                db.connection(), destination.name, marks, limit=self.policy.batch_size, lease_seconds=self.policy.lease_seconds
            )

        prefetched: Future[tuple[str, list[outbox.OutboxRow]]] | None = db.submit(settle_and_claim, [])
        try:
            while prefetched is not None and not self.stop.is_set():
                token, rows = prefetched.result()
                prefetched = None
                if not rows:
                    break
                marks, self._pending_marks = self._pending_marks, []
                sent = threading.Event()
                prefetched = db.submit(settle_and_claim, marks, sent)
                try:
                    batch = self._deliver(destination, token, rows, on_sent=sent.set)
                finally:
                    sent.set()  # never leave the helper waiting (e.g. the batch failed before its POST)
                stats.add(batch)
                if batch.rescheduled:
                    break  # the LRS is down, slow or refusing us: do not pile more work onto it
        finally:
            try:
                if prefetched is not None:
                    token, rows = prefetched.result()
                    if rows:
                        db.submit(lambda: outbox.release(db.connection(), token)).result()
                marks, self._pending_marks = self._pending_marks, []
                if marks:
                    db.submit(lambda: outbox.settle(db.connection(), marks)).result()
            finally:
                self._db = None
                db.close()
        return stats

    def _mark_delivered(self, ids: list[int], note: str | None) -> None:
        if self._db is not None:
            self._pending_marks.append((ids, note))  # written with the next claim, in its transaction
        else:
            outbox.mark_delivered(self.engine, ids, note)

    # -- one batch -------------------------------------------------------------------------

    def _deliver(
        self, destination: Destination, token: str, rows: Sequence[outbox.OutboxRow], on_sent: Callable[[], None] | None = None
    ) -> PassStats:
        stats = PassStats(requests=1)
        result: SendResult = self.client(destination).send([row.payload for row in rows], on_sent=on_sent)
        ids = [row.id for row in rows]
        outcome = result.outcome
        if outcome is Outcome.DELIVERED or (outcome is Outcome.CONFLICT and len(rows) == 1):
            note = None if outcome is Outcome.DELIVERED else f"already at the LRS under this id ({result.detail})"
            self._mark_delivered(ids, note)
            stats.delivered += len(ids)
        elif outcome in (Outcome.REJECTED, Outcome.CONFLICT) and len(rows) > 1:
            # One bad statement rejects the whole batch (xAPI POST is atomic): isolate it.
            middle = len(rows) // 2
            first, second = rows[:middle], rows[middle:]
            outbox.extend_lease(self.engine, token, ids, self.policy.lease_seconds)
            first_stats = self._deliver(destination, token, first)
            stats.add(first_stats)
            if first_stats.rescheduled:
                self._reschedule(token, second, "not sent: the LRS failed while we isolated a rejected statement")
                stats.rescheduled += len(second)
            else:
                outbox.extend_lease(self.engine, token, [r.id for r in second], self.policy.lease_seconds)
                stats.add(self._deliver(destination, token, second))
        elif outcome is Outcome.REJECTED:
            outbox.park(self.engine, token, ids, f"rejected by {destination.name}: {result.detail}")
            stats.parked += 1
            log.warning("parked %s for %s: %s", rows[0].item_id, destination.name, result.detail)
        else:  # CREDENTIALS or RETRYABLE
            self._reschedule(token, rows, result.detail)
            stats.rescheduled += len(rows)
            stats.errors.append(f"{destination.name}: {result.detail}")
            level = logging.ERROR if outcome is Outcome.CREDENTIALS else logging.WARNING
            log.log(level, "%s: %s (%d statements kept for later)", destination.name, result.detail, len(rows))
        return stats

    def _reschedule(self, token: str, rows: Sequence[outbox.OutboxRow], reason: str) -> None:
        delays = {row.id: backoff_delay(row.attempts, self.policy.backoff_base, self.policy.backoff_cap) for row in rows}
        outbox.reschedule(self.engine, token, delays, reason)
