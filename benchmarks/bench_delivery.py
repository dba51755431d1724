"""Speed of the xAPI pipeline: build + validate + outbox write, and delivery to the real Ralph LRS.

Run from the repo root:  python benchmarks/bench_delivery.py [--events 2000] [--deliver 5000] [--quick] [--json PATH]

Prints
  1. statements/s built (xapi.statements), validated and written to the outbox, one learner
     event per transaction (as the LTI tool does), on SQLite and PostgreSQL;
  2. statements/s through the whole outbox path to Ralph: each statement queued as the tool
     queues a learner event's statement (``smeb_lti.routing.queue_statement``: the customer's
     destinations looked up, validation, the insert, one transaction per event), then delivered
     in batches of 100 (claim, POST, mark); next to POSTing the same statements straight to
     Ralph with httpx in batches of 100, each run against a fresh Ralph (its POSTs slow down as
     it fills: the fs backend reads its whole file to look for known ids); the ratio is the
     outbox's overhead with the enqueue included (the enqueue is printed apart too). Rounds
     alternate which side goes first; medians are printed with each round's ratio and the
     spread of the httpx runs alone, which is the machine's noise. The CPU time of this
     process per batch is printed for both: our work runs beside the POST, off its critical
     path, but on a loaded machine it takes CPU from Ralph;
  3. validation cost per statement next to a bare ``json.loads`` of the same text (the floor).

Ralph (tests/support/ralph.py) and PostgreSQL (tests/support/pg.py) are started as the tests do. Not a test:
the numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx

from benchmarks.figures import Figures, add_common_arguments
from smeb_lti.db import make_engine, migrate
from tests.support import pg
from tests.support.ralph import RalphServer
from xapi import statements as builders
from xapi.actors import pseudonymous_actor
from xapi.customers import CustomerScope
from xapi.delivery import outbox
from xapi.delivery.client import batch_body, serialize_statement
from xapi.delivery.destinations import Destination, save_destination
from xapi.delivery.sender import DeliveryPolicy
from xapi.delivery.worker import Worker
from xapi.validation import validate_statement

KEY = b"bench-key-not-secret"
ISSUER = "https://canvas.example.org"
# The customer of the benchmark's learner events: the outbox path routes them as the tool does.
SCOPE = CustomerScope(ISSUER, "bench-client", "1", "course-1")


def build(n: int) -> dict:
    actor = pseudonymous_actor(ISSUER, f"learner-{n % 500}", key=KEY)
    activity = builders.Activity(
        f"https://smeb.example/courses/fra-stille-feil-til-smart-kvalitet/lessons/{n % 40}",
        name={"nb": "Leksjon", "en": "Lesson"},
    )
    return builders.completed(actor, "lesson", activity, duration="PT20M")


def bench_enqueue(db_url: str, events: int) -> tuple[float, float, float]:
    """(end-to-end statements/s, µs per build, µs per enqueue) with one event per transaction."""
    migrate(db_url)
    engine = make_engine(db_url)
    building = enqueueing = 0.0
    try:
        start = time.perf_counter()
        for n in range(events):
            t0 = time.perf_counter()
            statement = build(n)  # the builder validates once
            t1 = time.perf_counter()
            with engine.begin() as conn:  # one learner event = one transaction
                outbox.enqueue(conn, statement, ["ralph"])  # validates again, inserts, commits
            enqueueing += time.perf_counter() - t1
            building += t1 - t0
        rate = events / (time.perf_counter() - start)
        return rate, building / events * 1e6, enqueueing / events * 1e6
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Run:
    """One timed delivery of the statements to a fresh Ralph."""

    rate: float  # statements/s, wall clock (outbox: enqueue + delivery)
    cpu_ms_per_batch: float  # CPU time of this process (all its threads) per batch of 100
    outside_ms_per_batch: float = 0.0  # outbox only: wall time per batch outside the POST, the enqueue included
    post_ms_per_batch: float = 0.0  # outbox only: wall time per batch inside the POST
    enqueue_us: float = 0.0  # outbox only: wall time per statement of the enqueue (its own transaction)


def bench_direct(payloads: list[str], root: Path) -> Run:
    lrs = RalphServer(root).start()
    try:
        with httpx.Client(base_url=lrs.endpoint, auth=(lrs.username, lrs.password), timeout=60) as http:
            start, cpu = time.perf_counter(), time.process_time()
            for i in range(0, len(payloads), 100):
                response = http.post(
                    "statements",
                    content=batch_body(payloads[i : i + 100]),
                    headers={"Content-Type": "application/json", "X-Experience-API-Version": "1.0.3"},
                )
                response.raise_for_status()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        batches = -(-len(payloads) // 100)
        assert len(lrs.stored_id_counts()) == len(payloads)
        return Run(len(payloads) / elapsed, cpu / batches * 1000)
    finally:
        lrs.stop()


def bench_outbox(db_url: str, statements: list[dict], root: Path) -> Run:
    """Statements/s through the outbox, enqueue included, with our CPU and the wall time outside and inside the POST per batch.

    The clock runs from the first enqueue to the last delivered batch: each statement is queued
    the way the tool queues a learner event's statements (``queue_statement`` in a transaction of
    its own: destinations of the customer looked up, validated, inserted, committed), then the
    worker delivers them all. The direct run pays for none of that, so the ratio is the whole cost.
    """
    from sqlalchemy.orm import sessionmaker

    from smeb_lti.db import session_scope
    from smeb_lti.routing import queue_statement

    migrate(db_url)
    engine = make_engine(db_url)
    lrs = RalphServer(root).start()
    try:
        destination = Destination("ralph", lrs.endpoint, lrs.username, lrs.password)
        with engine.begin() as conn:
            save_destination(conn, destination)  # an LRS for every customer: routing looks it up per event
        sessions = sessionmaker(engine)
        with Worker(engine, {"ralph": destination}, DeliveryPolicy(timeout=60, lease_seconds=300)) as worker:
            assert worker.lrs is not None
            client = worker.lrs.client(destination)  # built before the clock starts, as the direct run's client is
            in_http = [0.0]
            send = client.send

            def timed_send(payloads, **kwargs):  # type: ignore[no-untyped-def]
                t0 = time.perf_counter()
                try:
                    return send(payloads, **kwargs)
                finally:
                    in_http[0] += time.perf_counter() - t0

            client.send = timed_send  # type: ignore[method-assign]
            start, cpu = time.perf_counter(), time.process_time()
            for statement in statements:  # one learner event = one transaction, as in smeb_lti.play.apply
                with session_scope(sessions) as session:
                    assert queue_statement(session, statement, SCOPE) == ["ralph"]
            enqueued = time.perf_counter() - start
            stats = worker.run_once()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        assert stats.delivered == len(statements), stats
        assert len(lrs.stored_id_counts()) == len(statements)
        return Run(
            len(statements) / elapsed,
            cpu / stats.requests * 1000,
            (elapsed - in_http[0]) / stats.requests * 1000,
            in_http[0] / stats.requests * 1000,
            enqueued / len(statements) * 1e6,
        )
    finally:
        lrs.stop()
        engine.dispose()


@dataclass(frozen=True)
class Comparison:
    direct: list[Run]
    via_outbox: list[Run]

    def median(self, runs: list[Run], attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in runs)

    @property
    def round_ratios(self) -> list[float]:
        """outbox/direct of each round: the two runs of a round are back to back, so they share the machine's load."""
        return [o.rate / d.rate for o, d in zip(self.via_outbox, self.direct, strict=True)]


def bench_delivery(new_db: Callable[[], str], count: int, root: Path, rounds: int) -> Comparison:
    """``rounds`` rounds of one direct and one outbox run (fresh Ralph each, same statements, batches of 100).

    The order alternates from round to round (direct first, then outbox first, ...) so that a
    load that drifts while the benchmark runs does not always favour the same side.
    """
    direct: list[Run] = []
    via_outbox: list[Run] = []
    for round_ in range(rounds):
        statements = [outbox.prepare_statement(build(n)) for n in range(count)]
        payloads = [serialize_statement(s) for s in statements]
        # Defaults bind this round's values: each lambda runs within the round, but say so.
        runs = [
            lambda payloads=payloads, round_=round_: direct.append(bench_direct(payloads, root / f"direct-{round_}")),
            lambda statements=statements, round_=round_: via_outbox.append(bench_outbox(new_db(), statements, root / f"outbox-{round_}")),
        ]
        for run in runs if round_ % 2 == 0 else reversed(runs):
            run()
    return Comparison(direct, via_outbox)


def bench_validation(samples: int) -> tuple[float, float]:
    statements = [outbox.prepare_statement(build(n)) for n in range(samples)]
    texts = [serialize_statement(s) for s in statements]
    start = time.perf_counter()
    for text in texts:
        json.loads(text)
    floor = (time.perf_counter() - start) / samples
    start = time.perf_counter()
    for text in texts:
        validate_statement(json.loads(text))
    validate = (time.perf_counter() - start) / samples
    return floor, validate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000, help="learner events written to the outbox per database")
    parser.add_argument("--deliver", type=int, default=5000, help="statements delivered to Ralph")
    parser.add_argument("--rounds", type=int, default=3, help="alternating direct/outbox runs; medians are printed")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--validate", type=int, default=2000, help="statements validated for the validation cost")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.events, args.deliver, args.rounds, args.validate = 20, 200, 1, 200
    figures = Figures("delivery")

    root = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    server = pg.start() if args.db != "sqlite" else None
    urls: dict[str, str] = {}
    if args.db in ("sqlite", "both"):
        urls["sqlite"] = f"sqlite:///{root / 'outbox.db'}"
    try:
        if server is not None:
            urls["postgresql"] = server.create_database()
        floor, validate = bench_validation(args.validate)
        print(f"validation: {validate * 1e6:8.1f} µs/statement   json.loads floor: {floor * 1e6:6.1f} µs   ratio {validate / floor:5.1f}x")
        figures.add("json_loads", floor * 1e6, "µs/statement", better="lower")
        figures.add("validation", validate * 1e6, "µs/statement", better="lower", baseline="json_loads")
        for name, url in urls.items():
            rate, build_us, enqueue_us = bench_enqueue(url, args.events)
            print(
                f"{name:10s} build+validate+enqueue (1 event/transaction): {rate:6.0f} statements/s   "
                f"(build {build_us:6.0f} µs, enqueue incl. validation+commit {enqueue_us:6.0f} µs)"
            )
            figures.add(f"{name}.build_validate_enqueue", rate, "statements/s")
        # --quick delivers on SQLite only: each database costs two Ralph starts, the code path is the same.
        for name in ["sqlite"] if args.quick and "sqlite" in urls else urls:
            made: list[str] = []

            def new_db(name: str = name, made: list[str] = made) -> str:
                if name == "postgresql":
                    made.append(server.create_database())  # type: ignore[union-attr]
                else:
                    made.append(f"sqlite:///{root / f'deliver-{len(made)}.db'}")
                return made[-1]

            result = bench_delivery(new_db, args.deliver, root / name, args.rounds)
            direct, via_outbox = result.median(result.direct, "rate"), result.median(result.via_outbox, "rate")
            bookkeeping = result.median(result.via_outbox, "outside_ms_per_batch")
            posting = result.median(result.via_outbox, "post_ms_per_batch")
            enqueue_us = result.median(result.via_outbox, "enqueue_us")
            cpu_direct = result.median(result.direct, "cpu_ms_per_batch")
            cpu_outbox = result.median(result.via_outbox, "cpu_ms_per_batch")
            print(
                f"{name:10s} to Ralph, batches of 100 (median of {args.rounds}), enqueue included: outbox {via_outbox:6.0f}/s   "
                f"straight httpx {direct:6.0f}/s   ratio {via_outbox / direct:4.2f} (overhead {direct / via_outbox - 1:+.1%});   "
                f"per statement: enqueue {enqueue_us:5.0f} µs next to {posting * 10:5.0f} µs of POST;   "
                f"per batch: {bookkeeping:4.1f} ms of our own work (enqueue included) next to {posting:5.1f} ms in the POST"
            )
            ratios = result.round_ratios
            print(
                f"{'':10s} outbox/httpx per round: {' '.join(f'{r:4.2f}' for r in ratios)}   "
                f"(min {min(ratios):4.2f}, median {statistics.median(ratios):4.2f}, max {max(ratios):4.2f});   "
                f"httpx alone {min(r.rate for r in result.direct):5.0f}..{max(r.rate for r in result.direct):5.0f}/s across rounds;   "
                f"CPU of this process per batch: outbox {cpu_outbox:4.1f} ms, httpx {cpu_direct:4.1f} ms"
            )
            figures.add(f"{name}.httpx_to_ralph", direct, "statements/s")
            figures.add(f"{name}.outbox_to_ralph", via_outbox, "statements/s", baseline=f"{name}.httpx_to_ralph")
            figures.add(f"{name}.post_ms_per_batch", posting, "ms/batch", better="lower")
            figures.add(f"{name}.bookkeeping_ms_per_batch", bookkeeping, "ms/batch", better="lower", baseline=f"{name}.post_ms_per_batch")
            figures.add(f"{name}.post_us_per_statement", posting * 10, "µs/statement", better="lower")
            figures.add(f"{name}.enqueue_us_per_statement", enqueue_us, "µs/statement", better="lower",
                        baseline=f"{name}.post_us_per_statement")
            figures.add(f"{name}.httpx_cpu_ms_per_batch", cpu_direct, "ms/batch", better="lower")
            figures.add(f"{name}.outbox_cpu_ms_per_batch", cpu_outbox, "ms/batch", better="lower", baseline=f"{name}.httpx_cpu_ms_per_batch")
            for url in made:
                if url.startswith("postgresql"):
                    server.drop_database(url)  # type: ignore[union-attr]
    finally:
        if server is not None:
            for url in urls.values():
                if url.startswith("postgresql"):
                    server.drop_database(url)
            server.stop()
    figures.emit(args.json)


if __name__ == "__main__":
    main()
