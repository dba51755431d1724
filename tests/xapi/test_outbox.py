"""xapi.delivery.outbox on SQLite and PostgreSQL (the ``migrated_db_url`` fixture runs every migration)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, select

from smeb_lti.db import make_engine
from tests.support.ralph import sample_statement
from xapi.delivery import outbox, tables
from xapi.delivery.destinations import (
    Destination,
    DestinationConfigError,
    load_destinations,
    parse_upstreams,
    save_destination,
)
from xapi.errors import StatementValidationError

T = outbox.outbox_table


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_db_url)
    yield engine
    engine.dispose()


def _rows(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(T).order_by(T.c.id)).mappings()]


def test_the_migration_creates_the_tables_the_code_declares(engine: Engine) -> None:
    inspector = inspect(engine)
    for table in (tables.outbox_table, tables.destinations_table):
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.c.keys())
    assert "ix_xapi_outbox_due" in {i["name"] for i in inspector.get_indexes("xapi_outbox")}


def test_enqueue_writes_one_row_per_destination_with_id_timestamp_and_stable_payload(engine: Engine) -> None:
    with engine.begin() as conn:
        statement_id = outbox.enqueue(conn, sample_statement(1), ["bht", "customer"])
    rows = _rows(engine)
    assert [r["destination"] for r in rows] == ["bht", "customer"]
    assert {r["item_id"] for r in rows} == {statement_id}
    assert {r["status"] for r in rows} == {"pending"} and {r["kind"] for r in rows} == {"lrs"}
    payload = json.loads(rows[0]["payload"])
    assert payload["id"] == statement_id and payload["timestamp"].endswith("Z")
    assert rows[0]["payload"] == rows[1]["payload"]
    assert rows[0]["payload"] == json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_enqueue_keeps_the_callers_id_and_timestamp(engine: Engine) -> None:
    given = sample_statement(2, id="5d2bd6e4-2d5b-4c3b-8c8e-2b0f6a3c6a11", timestamp="2026-11-21T08:00:00.000Z")
    with engine.begin() as conn:
        assert outbox.enqueue(conn, given, ["bht"]) == given["id"]
    assert json.loads(_rows(engine)[0]["payload"])["timestamp"] == "2026-11-21T08:00:00.000Z"


def test_an_invalid_statement_is_refused_before_anything_is_written(engine: Engine) -> None:
    bad = sample_statement(3, verb={"id": "not an iri"})
    with pytest.raises(StatementValidationError) as raised, engine.begin() as conn:
        outbox.enqueue(conn, bad, ["bht"])
    assert "$.verb.id" in str(raised.value)
    assert _rows(engine) == []


def test_the_statement_shares_the_fate_of_the_learner_events_transaction(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        outbox.enqueue(conn, sample_statement(4), ["bht"])
        raise RuntimeError("the learner event failed after the statement was queued")
    assert _rows(engine) == []


def test_enqueue_works_inside_an_orm_session(engine: Engine) -> None:
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        outbox.enqueue(session, sample_statement(5), [Destination("bht", "https://lrs.example/xapi/")])
    assert len(_rows(engine)) == 1


def test_two_claims_never_share_a_row_and_respect_the_batch_limit(engine: Engine) -> None:
    with engine.begin() as conn:
        for n in range(150):
            outbox.enqueue(conn, sample_statement(n), ["bht"])
    token_a, first = outbox.claim_batch(engine, "bht", limit=100)
    token_b, second = outbox.claim_batch(engine, "bht", limit=100)
    _, third = outbox.claim_batch(engine, "bht", limit=100)
    assert len(first) == 100 and len(second) == 50 and third == []
    assert not {r.id for r in first} & {r.id for r in second}
    assert token_a != token_b


def test_a_lease_left_by_a_dead_worker_expires_and_the_rows_are_claimed_again(engine: Engine) -> None:
    with engine.begin() as conn:
        outbox.enqueue(conn, sample_statement(6), ["bht"])
    now = outbox.utcnow()
    _, claimed = outbox.claim_batch(engine, "bht", lease_seconds=60, now=now)
    assert len(claimed) == 1
    assert outbox.claim_batch(engine, "bht", now=now + dt.timedelta(seconds=59))[1] == []
    assert [r.id for r in outbox.claim_batch(engine, "bht", now=now + dt.timedelta(seconds=61))[1]] == [claimed[0].id]


def test_rows_not_yet_due_and_other_destinations_are_not_claimed(engine: Engine) -> None:
    with engine.begin() as conn:
        outbox.enqueue(conn, sample_statement(7), ["bht"])
        outbox.enqueue(conn, sample_statement(8), ["other"])
    token, rows = outbox.claim_batch(engine, "bht")
    outbox.reschedule(engine, token, {rows[0].id: 300.0}, "HTTP 503")
    assert outbox.claim_batch(engine, "bht")[1] == []
    row = _rows(engine)[0]
    assert row["attempts"] == 1 and row["last_error"] == "HTTP 503" and row["lease_token"] is None


def test_parked_rows_stay_out_of_the_queue_until_an_operator_retries_them(engine: Engine) -> None:
    with engine.begin() as conn:
        outbox.enqueue(conn, sample_statement(9), ["bht"])
    token, rows = outbox.claim_batch(engine, "bht")
    outbox.park(engine, token, [rows[0].id], "rejected by bht: HTTP 422 ...")
    assert outbox.claim_batch(engine, "bht")[1] == []
    with engine.connect() as conn:
        assert [p.last_error for p in outbox.parked_rows(conn)] == ["rejected by bht: HTTP 422 ..."]
        assert outbox.status_counts(conn) == {("bht", "parked"): 1}
    with engine.begin() as conn:
        assert outbox.retry(conn) == 0
        assert outbox.retry(conn, parked=True) == 1
    assert len(outbox.claim_batch(engine, "bht")[1]) == 1


def test_a_late_worker_cannot_reschedule_rows_another_worker_has_claimed_since(engine: Engine) -> None:
    with engine.begin() as conn:
        outbox.enqueue(conn, sample_statement(10), ["bht"])
    now = outbox.utcnow()
    old_token, rows = outbox.claim_batch(engine, "bht", lease_seconds=30, now=now)
    new_token, again = outbox.claim_batch(engine, "bht", now=now + dt.timedelta(seconds=31))
    assert [r.id for r in again] == [r.id for r in rows]
    outbox.reschedule(engine, old_token, {rows[0].id: 600.0}, "late")
    assert _rows(engine)[0]["lease_token"] == new_token
    outbox.mark_delivered(engine, [rows[0].id])
    assert _rows(engine)[0]["status"] == "delivered"


def test_destinations_come_from_the_database_and_the_environment_wins(engine: Engine) -> None:
    with engine.begin() as conn:
        save_destination(conn, Destination("bht", "https://old.example/xapi/", "k", "old"))
        save_destination(conn, Destination("archive", "https://archive.example/xapi/", "k", "a", server_filters=False))
    env = {"SMEB_LRS_UPSTREAMS": json.dumps([{"name": "bht", "endpoint": "https://new.example/xapi/", "username": "k", "password": "pw-7f3a"}])}
    with engine.connect() as conn:
        found = load_destinations(conn, env["SMEB_LRS_UPSTREAMS"])
    assert found["bht"].endpoint == "https://new.example/xapi/" and found["bht"].password == "pw-7f3a"
    assert found["archive"].server_filters is False
    assert "pw-7f3a" not in repr(found["bht"])  # the password is not logged by accident


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("{}", "JSON list"),
        ('[{"name": "a"}]', "'endpoint'"),
        ('[{"name": "a", "endpoint": "ftp://x"}]', "http(s) URL"),
        ('[{"name": "a", "endpoint": "https://x", "kind": "moodle"}]', "'kind'"),
        ('[{"name": "a", "endpoint": "https://x", "pasword": "typo"}]', "unknown field"),
        ('[{"name": "a", "endpoint": "https://x"}, {"name": "a", "endpoint": "https://y"}]', "duplicate"),
    ],
)
def test_a_bad_upstream_configuration_names_the_entry_and_the_field(text: str, message: str) -> None:
    with pytest.raises(DestinationConfigError, match=re.escape(message)):
        parse_upstreams(text)


def test_a_batch_that_keeps_failing_does_not_starve_the_rows_behind_it(engine: Engine) -> None:
    with engine.begin() as conn:
        for n in range(150):
            outbox.enqueue(conn, sample_statement(n), ["bht"])
    token, head = outbox.claim_batch(engine, "bht", limit=100)
    outbox.reschedule(engine, token, {r.id: 0.0 for r in head}, "HTTP 503")  # due again at once
    _, after = outbox.claim_batch(engine, "bht", limit=100)
    with engine.connect() as conn:
        untouched = set(conn.execute(select(T.c.id).where(T.c.attempts == 0)).scalars())
    assert len(untouched) == 50 and len(after) == 100
    assert untouched <= {r.id for r in after}  # the rows never tried come before the failing head


def test_the_outbox_branch_downgrades_and_upgrades_on_its_own(migrated_db_url: str) -> None:
    from alembic import command

    from smeb_lti.db import alembic_config

    command.downgrade(alembic_config(migrated_db_url), "outbox@base")
    engine = make_engine(migrated_db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert not {"xapi_outbox", "xapi_destinations"} & tables and "courses" in tables
    finally:
        engine.dispose()
    command.upgrade(alembic_config(migrated_db_url), "outbox@head")
    engine = make_engine(migrated_db_url)
    try:
        assert {"xapi_outbox", "xapi_destinations"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_delivery_modules_import_nothing_of_smeb_lti_nor_flask() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['flask'] = None; sys.modules['smeb_lti'] = None; "
        "import xapi.delivery.outbox, xapi.delivery.worker, xapi.delivery.client, xapi.delivery.query, xapi.delivery.destinations, "
        "xapi.delivery.sender, xapi.delivery.lrs_sender, xapi.delivery.tables"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_workers_claiming_at_the_same_time_get_disjoint_batches(engine: Engine) -> None:
    import threading

    with engine.begin() as conn:
        for n in range(400):
            outbox.enqueue(conn, sample_statement(n), ["bht"])
    claimed: list[list[int]] = []
    barrier = threading.Barrier(4)

    def claim_all() -> None:
        barrier.wait()
        mine: list[int] = []
        while rows := outbox.claim_batch(engine, "bht", limit=25)[1]:
            mine += [r.id for r in rows]
        claimed.append(mine)

    threads = [threading.Thread(target=claim_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [row_id for mine in claimed for row_id in mine]
    assert len(everything) == len(set(everything)) == 400


def test_settle_and_claim_marks_earlier_batches_delivered_and_leases_the_next_in_one_go(engine: Engine) -> None:
    with engine.begin() as conn:
        for n in range(5):
            outbox.enqueue(conn, sample_statement(n), ["bht"])
    _, first = outbox.claim_batch(engine, "bht", limit=2)
    token, second = outbox.settle_and_claim(engine, "bht", [([first[0].id], None), ([first[1].id], "409: already there")], limit=2)
    assert [r.id for r in second] == [first[1].id + 1, first[1].id + 2]
    rows = {r["id"]: r for r in _rows(engine)}
    assert [rows[r.id]["status"] for r in first] == ["delivered", "delivered"]
    assert [rows[r.id]["attempts"] for r in first] == [1, 1] and rows[first[1].id]["last_error"] == "409: already there"
    assert all(rows[r.id]["lease_token"] is None and rows[r.id]["delivered_at"] is not None for r in first)
    assert {rows[r.id]["lease_token"] for r in second} == {token}
    _, rest = outbox.settle_and_claim(engine, "bht", [([r.id for r in second], None)], limit=2)
    assert len(rest) == 1
    with engine.connect() as conn:
        assert outbox.status_counts(conn) == {("bht", "delivered"): 4, ("bht", "pending"): 1}


def test_the_worker_bookkeeping_on_a_held_connection_ends_every_transaction_and_leaks_no_setting(engine: Engine) -> None:
    with engine.begin() as conn:
        for n in range(3):
            outbox.enqueue(conn, sample_statement(n), ["bht"])
    with engine.connect() as held:
        marks: list[tuple[list[int], str | None]] = []
        claimed: list[int] = []
        while rows := outbox.settle_and_claim(held, "bht", marks, limit=2)[1]:
            assert not held.in_transaction()  # committed: other workers see the lease at once
            marks = [([r.id for r in rows], None)]
            claimed += [r.id for r in rows]
        assert len(claimed) == 3 and len(set(claimed)) == 3
        if held.dialect.name == "postgresql":
            # the relaxed commit is SET LOCAL: the connection goes back to the pool fully durable
            assert held.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"
            held.rollback()
    assert {r["status"] for r in _rows(engine)} == {"delivered"}
