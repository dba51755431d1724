"""The delivery worker: ONE loop that takes outbox rows to their destinations, losing nothing and duplicating nothing.

Each kind of destination has one :class:`Sender`: :class:`xapi.delivery.lrs_sender.LrsSender` posts
xAPI statements to upstream LRSs; the LTI tool registers its AGS sender (``smeb_lti.lti.ags``), which
posts scores to the platforms (this package imports nothing of ``smeb_lti``). One pass
(:meth:`Worker.run_once`) goes through every sender's destinations; for each destination it claims
batches of at most the sender's ``batch_size`` due rows under a lease and hands each batch to the
sender, which settles every row through the :class:`Batch` (delivered, parked, rescheduled).

Retries use exponential backoff with full jitter (``uniform(0, min(cap, base * 2**attempts))``,
AWS Architecture Blog, "Exponential Backoff And Jitter"), so many workers do not hammer a
recovering upstream in step. A batch that had rows rescheduled ends the destination's turn in this
pass: we do not pile more requests onto an upstream that is down or slow. Only one request per
destination is ever in flight per worker, and each has the sender's timeout, so the work in flight
is bounded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine

from xapi.delivery import outbox
from xapi.delivery.destinations import Destination
from xapi.delivery.lrs_sender import LrsSender
from xapi.delivery.sender import DEFAULT_POLICY, Batch, DeliveryPolicy, Marks, PassStats, Sender

__all__ = ["Worker"]

log = logging.getLogger("xapi.delivery")  # the name operators filter on; unchanged by the move to a package
T = TypeVar("T")


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
    """Delivers the outbox of one database: xAPI statements to ``destinations`` (the LRSs), plus
    whatever the extra ``senders`` deliver (LTI AGS scores)."""

    def __init__(
        self,
        engine: Engine,
        destinations: Mapping[str, Destination] | None = None,
        policy: DeliveryPolicy = DEFAULT_POLICY,
        stop: threading.Event | None = None,
        *,
        senders: Sequence[Sender] = (),
    ) -> None:
        self.engine = engine
        self.stop = stop or threading.Event()
        self.lrs = LrsSender(destinations, policy) if destinations is not None else None
        self.senders: list[Sender] = [*([self.lrs] if self.lrs is not None else []), *senders]

    def close(self) -> None:
        for sender in self.senders:
            sender.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- passes ----------------------------------------------------------------------------

    def run_once(self) -> PassStats:
        """Deliver everything that is due now (one pass over every sender's destinations)."""
        stats = PassStats()
        for sender in self.senders:
            with self.engine.connect() as conn:
                waiting = outbox.pending_destinations(conn, kind=sender.kind)
            for name in sender.destinations(waiting, stats):
                if self.stop.is_set():
                    break
                stats.add(self.deliver_destination(sender, name))
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

    def deliver_destination(self, sender: Sender, destination: str) -> PassStats:
        """Batches until none is due. The database work overlaps the request in flight: one
        helper thread, on one connection it holds for the whole turn, records the previous batch
        as delivered and claims the next one in a single transaction while we wait for the
        upstream (once the sender says its request is on the wire, :meth:`Batch.on_sent`)."""
        stats = PassStats()
        policy = sender.policy
        db = _BookkeepingThread(self.engine)
        pending_marks: Marks = []

        def settle_and_claim(marks: Marks, sent: threading.Event | None = None) -> tuple[str, list[outbox.OutboxRow]]:
            if sent is not None:
                # Start once the request is on the wire: our database work would otherwise contend
                # for the GIL with building and writing the request, on the critical path.
                sent.wait()
            return outbox.settle_and_claim(
                db.connection(), destination, marks, limit=policy.batch_size, lease_seconds=policy.lease_seconds, kind=sender.kind
            )

        prefetched: Future[tuple[str, list[outbox.OutboxRow]]] | None = db.submit(settle_and_claim, [])
        try:
            while prefetched is not None and not self.stop.is_set():
                token, rows = prefetched.result()
                prefetched = None
                if not rows:
                    break
                batch = Batch(self.engine, token, rows, policy)
                marks, pending_marks = pending_marks, batch.marks
                prefetched = db.submit(settle_and_claim, marks, batch.sent)
                try:
                    result = sender.send(destination, batch)
                finally:
                    batch.sent.set()  # never leave the helper waiting (e.g. the batch failed before its request)
                stats.add(result)
                if result.rescheduled:
                    break  # the upstream is down, slow or refusing us: do not pile more work onto it
        finally:
            try:
                if prefetched is not None:
                    token, rows = prefetched.result()
                    if rows:
                        db.submit(lambda: outbox.release(db.connection(), token)).result()
                if pending_marks:
                    db.submit(lambda: outbox.settle(db.connection(), pending_marks)).result()
            finally:
                db.close()
        return stats
