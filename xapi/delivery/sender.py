"""What the delivery worker and its senders share: the policy, the pass statistics, the claimed
:class:`Batch` and the :class:`Sender` protocol one kind of destination implements."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine

from xapi.delivery import outbox

__all__ = ["DEFAULT_POLICY", "Batch", "DeliveryPolicy", "Marks", "PassStats", "Sender", "backoff_delay"]

#: Delivered rows not yet recorded: ``(ids, note)`` per batch, written with the next claim.
Marks = list[tuple[list[int], str | None]]


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


#: The defaults (``smeb worker`` without options).
DEFAULT_POLICY = DeliveryPolicy()


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


@dataclass
class Batch:
    """Rows of one destination leased to this worker, and how a sender settles them.

    Delivered rows are recorded with the next claim, in its transaction (a mark lost to a crash only
    means a resend, which the upstream answers as a duplicate); the other outcomes are written at once.
    """

    engine: Engine
    token: str
    rows: Sequence[outbox.OutboxRow]
    policy: DeliveryPolicy
    marks: Marks = field(default_factory=list)
    sent: threading.Event = field(default_factory=threading.Event)

    def on_sent(self) -> None:
        """The request is on the wire: the worker may claim the next batch while the upstream answers.

        A sender that never calls it gets its batches one after the other.
        """
        self.sent.set()

    def delivered(self, ids: Sequence[int], note: str | None = None) -> None:
        self.marks.append((list(ids), note))

    def park(self, ids: Sequence[int], reason: str) -> None:
        outbox.park(self.engine, self.token, ids, reason)

    def reschedule(self, rows: Sequence[outbox.OutboxRow], reason: str) -> None:
        delays = {row.id: backoff_delay(row.attempts, self.policy.backoff_base, self.policy.backoff_cap) for row in rows}
        outbox.reschedule(self.engine, self.token, delays, reason)

    def extend_lease(self, ids: Sequence[int]) -> None:
        outbox.extend_lease(self.engine, self.token, ids, self.policy.lease_seconds)


class Sender(Protocol):
    """How the rows of one kind of destination leave (xAPI LRS, LTI AGS score)."""

    #: The outbox ``kind`` of the rows it sends.
    kind: str
    #: Batch size, lease, backoff and timeout for its rows.
    policy: DeliveryPolicy

    def destinations(self, waiting: Sequence[str], stats: PassStats) -> list[str]:
        """The destinations to serve in this pass; ``waiting`` have rows of this kind pending.

        A sender that cannot serve some of them adds why to ``stats.errors`` (the rows stay queued).
        """
        ...

    def send(self, destination: str, batch: Batch) -> PassStats:
        """Send one claimed batch and settle each of its rows through ``batch``."""
        ...

    def close(self) -> None:
        """Release connections held across batches."""
        ...
