"""xapi.delivery.worker in-process: the real Ralph LRS, the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence

import pytest
from sqlalchemy import Engine, select

from smeb_lti.db import make_engine
from tests.support.ralph import RalphServer, ScriptedLrs, free_port, ralph_rejects_this_statement, sample_statement
from xapi.delivery import outbox
from xapi.delivery.destinations import Destination
from xapi.delivery.sender import Batch, DeliveryPolicy, PassStats, backoff_delay
from xapi.delivery.worker import Worker

#: The ``scripted_lrs`` fixture: starts an LRS that answers as scripted.
StartLrs = Callable[..., ScriptedLrs]

pytestmark = pytest.mark.ralph
T = outbox.outbox_table


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_db_url)
    yield engine
    engine.dispose()


def _destination(server: RalphServer, password: str | None = None) -> Destination:
    return Destination("ralph", server.endpoint, server.username, password or server.password)


def _statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.item_id: r.status for r in conn.execute(select(T.c.item_id, T.c.status))}


def test_backoff_is_full_jitter_below_a_capped_exponential_bound() -> None:
    def top(low: float, high: float) -> float:
        return high

    assert [backoff_delay(n, 1.0, 60.0, top) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_delay(10_000, 1.0, 60.0, top) == 60  # no overflow for a row retried for months
    rng = random.Random(7)
    delays = [backoff_delay(5, 1.0, 60.0, rng.uniform) for _ in range(200)]
    assert all(0 <= d <= 32 for d in delays) and max(delays) - min(delays) > 10


def test_a_policy_whose_lease_is_shorter_than_the_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="lease_seconds"):
        DeliveryPolicy(lease_seconds=5, timeout=10)
    with pytest.raises(ValueError, match="batch_size"):
        DeliveryPolicy(batch_size=101)


def test_many_batches_are_delivered_once_each_and_every_row_is_settled_at_the_end(engine: Engine, ralph: RalphServer) -> None:
    with engine.begin() as conn:
        ids = [outbox.enqueue(conn, sample_statement(n), ["ralph"]) for n in range(250)]
    with Worker(engine, {"ralph": _destination(ralph)}) as worker:
        stats = worker.run_once()  # each batch's mark rides with the next claim; the last is flushed at the end
        assert (stats.delivered, stats.requests) == (250, 3)
        assert worker.run_once().requests == 0  # a second pass (a fresh helper connection) finds nothing due
    with engine.connect() as conn:
        rows = conn.execute(select(T.c.status, T.c.attempts, T.c.lease_token, T.c.delivered_at)).all()
    assert {(r.status, r.attempts, r.lease_token) for r in rows} == {("delivered", 1, None)}
    assert all(r.delivered_at is not None for r in rows)
    assert ralph.stored_id_counts() == {i: 1 for i in ids}


def test_one_bad_statement_is_isolated_and_parked_while_the_rest_are_delivered(engine: Engine, ralph: RalphServer) -> None:
    with engine.begin() as conn:
        good = [outbox.enqueue(conn, sample_statement(n), ["ralph"]) for n in range(150)]
        bad = outbox.enqueue(conn, ralph_rejects_this_statement(), ["ralph"])
        good += [outbox.enqueue(conn, sample_statement(n), ["ralph"]) for n in range(150, 200)]
    with Worker(engine, {"ralph": _destination(ralph)}) as worker:
        stats = worker.run_once()
    assert (stats.delivered, stats.parked) == (200, 1)
    assert stats.requests <= 2 + 2 * 7  # a binary search, not one request per statement
    statuses = _statuses(engine)
    assert statuses.pop(bad) == "parked" and set(statuses.values()) == {"delivered"}
    with engine.connect() as conn:
        [parked] = outbox.parked_rows(conn)
    assert "422" in (parked.last_error or "") and "mbox_sha1sum" in (parked.last_error or "")
    assert set(ralph.stored_id_counts()) == set(good)


def test_a_statement_ralph_already_holds_under_its_id_counts_as_delivered(engine: Engine, ralph: RalphServer) -> None:
    with engine.begin() as conn:
        statement_id = outbox.enqueue(conn, sample_statement(1), ["ralph"])
        payload = conn.execute(select(T.c.payload)).scalar_one()
    from xapi.delivery.client import LrsClient

    with LrsClient(ralph.endpoint, username=ralph.username, password=ralph.password) as client:
        different = payload.replace('"completion":true', '"completion":false')
        assert client.send([different]).ok  # someone else stored another statement under our id
    with Worker(engine, {"ralph": _destination(ralph)}) as worker:
        assert worker.run_once().delivered == 1
    with engine.connect() as conn:
        note = conn.execute(select(T.c.last_error)).scalar_one()
    assert _statuses(engine) == {statement_id: "delivered"} and "409" in note


def test_wrong_credentials_keep_everything_and_name_the_problem(engine: Engine, ralph: RalphServer) -> None:
    with engine.begin() as conn:
        ids = [outbox.enqueue(conn, sample_statement(n), ["ralph"]) for n in range(120)]
    with Worker(engine, {"ralph": _destination(ralph, password="wrong")}) as worker:
        stats = worker.run_once()
    assert stats.delivered == 0 and stats.requests == 1  # no second batch sent to an LRS refusing us
    assert "credentials" in stats.errors[0]
    assert set(_statuses(engine).values()) == {"pending"}
    with engine.begin() as conn:
        outbox.retry(conn)
    with Worker(engine, {"ralph": _destination(ralph)}) as worker:
        assert worker.run_once().delivered == 120
    assert set(ralph.stored_id_counts()) == set(ids)


def test_rows_for_a_destination_nobody_configured_are_reported_not_dropped(engine: Engine, ralph: RalphServer) -> None:
    with engine.begin() as conn:
        outbox.enqueue(conn, sample_statement(1), ["gone"])
    with Worker(engine, {"ralph": _destination(ralph)}) as worker:
        stats = worker.run_once()
    assert "'gone'" in stats.errors[0] and set(_statuses(engine).values()) == {"pending"}


def test_a_server_error_in_the_middle_of_isolating_a_bad_statement_keeps_the_rest_pending(engine: Engine, scripted_lrs: StartLrs) -> None:
    server = scripted_lrs({"*": [(400, {"detail": "one is bad"}), (503, {"detail": "now down"})]})
    with engine.begin() as conn:
        for n in range(10):
            outbox.enqueue(conn, sample_statement(n), ["scripted"])
    with Worker(engine, {"scripted": Destination("scripted", server.endpoint)}) as worker:
        stats = worker.run_once()
    assert (stats.delivered, stats.parked, stats.rescheduled) == (0, 0, 10)
    assert set(_statuses(engine).values()) == {"pending"}
    assert len(server.seen) == 2


def test_after_a_failed_batch_no_row_stays_leased_so_nothing_waits_for_a_lease_to_expire(engine: Engine) -> None:
    with engine.begin() as conn:
        for n in range(250):
            outbox.enqueue(conn, sample_statement(n), ["down"])
    nobody = Destination("down", f"http://127.0.0.1:{free_port()}/xAPI/", "k", "s")
    with Worker(engine, {"down": nobody}, DeliveryPolicy(timeout=2)) as worker:
        stats = worker.run_once()
    assert (stats.requests, stats.rescheduled) == (1, 100)
    with engine.connect() as conn:
        leased = conn.execute(select(T.c.id).where(T.c.lease_token.is_not(None))).all()
        attempts = sorted(conn.execute(select(T.c.attempts)).scalars())
    assert leased == []  # the batch claimed ahead while the first was in flight was given back
    assert attempts == [0] * 150 + [1] * 100


class _RecordingSender:
    """A sender for another kind of destination: what the LTI tool's AGS sender plugs in."""

    kind = "ags"
    policy = DeliveryPolicy(batch_size=3)

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[str]]] = []

    def destinations(self, waiting: Sequence[str], stats: PassStats) -> list[str]:
        return list(waiting)

    def send(self, destination: str, batch: Batch) -> PassStats:
        self.batches.append((destination, [row.item_id for row in batch.rows]))
        first, *rest = batch.rows
        batch.delivered([first.id])
        if rest:
            batch.park([row.id for row in rest], "refused")
        return PassStats(requests=1, delivered=1, parked=len(rest))

    def close(self) -> None:
        pass


def test_one_worker_loop_serves_a_registered_sender_for_its_kind_only(engine: Engine) -> None:
    with engine.begin() as conn:
        mine = [outbox.enqueue(conn, sample_statement(n), [Destination("ags:7", "https://lms.example/", kind="ags")]) for n in range(4)]
        lrs_row = outbox.enqueue(conn, sample_statement(9), ["ralph"])
    sender = _RecordingSender()
    with Worker(engine, senders=[sender]) as worker:  # no LRS sender: the xAPI rows are not this pass's business
        stats = worker.run_once()
    assert sender.batches == [("ags:7", mine[:3]), ("ags:7", mine[3:])]  # batches of the sender's own size
    assert (stats.requests, stats.delivered, stats.parked, stats.errors) == (2, 2, 2, [])
    assert _statuses(engine) == {mine[0]: "delivered", mine[1]: "parked", mine[2]: "parked", mine[3]: "delivered", lrs_row: "pending"}
