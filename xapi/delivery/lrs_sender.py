"""The worker's sender for upstream LRSs: a claimed batch of statements goes out as ONE POST.

* delivered (2xx, or 409 for a single statement: the LRS already holds that id) → ``delivered``;
* the LRS rejects the batch (400/409/413/422) → split in halves and send each, until the
  bad statement is alone; then it is ``parked`` with the LRS's reason and the rest go through;
* wrong credentials (401/403) → rescheduled with backoff, logged as an error, never dropped;
* 5xx, timeouts, connection errors → rescheduled with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from xapi.delivery import outbox
from xapi.delivery.client import LrsClient, Outcome, SendResult
from xapi.delivery.destinations import Destination
from xapi.delivery.sender import DEFAULT_POLICY, Batch, DeliveryPolicy, PassStats

__all__ = ["LrsSender"]

log = logging.getLogger("xapi.delivery")  # the worker's logger: one name for everything delivery logs


class LrsSender:
    """Sends ``kind = "lrs"`` rows to the configured LRS destinations; one HTTP client per LRS."""

    kind = "lrs"

    def __init__(self, destinations: Mapping[str, Destination], policy: DeliveryPolicy = DEFAULT_POLICY) -> None:
        self.destinations_by_name = dict(destinations)
        self.policy = policy
        self._clients: dict[str, LrsClient] = {}

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

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

    def destinations(self, waiting: Sequence[str], stats: PassStats) -> list[str]:
        for name in waiting:
            if name not in self.destinations_by_name:
                stats.errors.append(f"outbox rows wait for destination {name!r}, which is not configured")
                log.error(stats.errors[-1])
        # AGS destinations have their own sender (the LTI tool's); configured LRSs are served even
        # with nothing pending: the claim then finds nothing.
        return [name for name, destination in self.destinations_by_name.items() if destination.kind == self.kind]

    def send(self, destination: str, batch: Batch) -> PassStats:
        return self._deliver(self.destinations_by_name[destination], batch, batch.rows, on_sent=batch.on_sent)

    def _deliver(
        self, destination: Destination, batch: Batch, rows: Sequence[outbox.OutboxRow], on_sent: Callable[[], None] | None = None
    ) -> PassStats:
        stats = PassStats(requests=1)
        result: SendResult = self.client(destination).send([row.payload for row in rows], on_sent=on_sent)
        ids = [row.id for row in rows]
        outcome = result.outcome
        if outcome is Outcome.DELIVERED or (outcome is Outcome.CONFLICT and len(rows) == 1):
            note = None if outcome is Outcome.DELIVERED else f"already at the LRS under this id ({result.detail})"
            batch.delivered(ids, note)
            stats.delivered += len(ids)
        elif outcome in (Outcome.REJECTED, Outcome.CONFLICT) and len(rows) > 1:
            # One bad statement rejects the whole batch (xAPI POST is atomic): isolate it.
            middle = len(rows) // 2
            first, second = rows[:middle], rows[middle:]
            batch.extend_lease(ids)
            first_stats = self._deliver(destination, batch, first)
            stats.add(first_stats)
            if first_stats.rescheduled:
                batch.reschedule(second, "not sent: the LRS failed while we isolated a rejected statement")
                stats.rescheduled += len(second)
            else:
                batch.extend_lease([r.id for r in second])
                stats.add(self._deliver(destination, batch, second))
        elif outcome is Outcome.REJECTED:
            batch.park(ids, f"rejected by {destination.name}: {result.detail}")
            stats.parked += 1
            log.warning("parked %s for %s: %s", rows[0].item_id, destination.name, result.detail)
        else:  # CREDENTIALS or RETRYABLE
            batch.reschedule(rows, result.detail)
            stats.rescheduled += len(rows)
            stats.errors.append(f"{destination.name}: {result.detail}")
            level = logging.ERROR if outcome is Outcome.CREDENTIALS else logging.WARNING
            log.log(level, "%s: %s (%d statements kept for later)", destination.name, result.detail, len(rows))
        return stats
