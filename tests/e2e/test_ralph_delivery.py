"""End to end: ``smeb worker`` subprocesses deliver the outbox to the real Ralph LRS.

Each scenario runs on a SQLite and a PostgreSQL outbox. Success is counted in Ralph's own
storage file by statement id: every id exactly once, nothing missing, nothing extra.
Waiting is "until a condition holds, or fail after a generous deadline"; nothing asserts
how long anything took.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from smeb_lti.db import make_engine
from tests.support.ralph import REPO, RalphServer, SlowProxy, ralph_rejects_this_statement, sample_statement
from xapi.delivery import outbox

pytestmark = pytest.mark.ralph
T = outbox.outbox_table
SMEB = [sys.executable, "-c", "from smeb_lti.cli import main; main()"]
FAST = ["--timeout", "2", "--lease-seconds", "4", "--backoff-base", "0.2", "--backoff-cap", "1", "--idle", "0.2"]


def _env(db_url: str, tmp_path: Path, endpoint: str, username: str, password: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SMEB_DATABASE_URL=db_url,
        SMEB_DATA_DIR=str(tmp_path / "var"),
        SMEB_LRS_UPSTREAMS=json.dumps([{"name": "ralph", "endpoint": endpoint, "username": username, "password": password}]),
        PYTHONPATH=str(REPO),
    )
    return env


def _smeb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SMEB, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)


class Workers:
    """Worker subprocesses started by a test; whatever is left is killed by PID at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[subprocess.Popen[str]] = []

    def start(self, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
        number = len(self.started)
        with open(self.tmp_path / f"worker-{number}.log", "w") as log, open(self.tmp_path / f"worker-{number}.out", "w") as out:
            process = subprocess.Popen([*SMEB, "worker", *args], env=env, cwd=REPO, stdout=out, stderr=log, text=True, start_new_session=True)
        process.out_path = self.tmp_path / f"worker-{number}.out"  # type: ignore[attr-defined]
        self.started.append(process)
        return process

    def cleanup(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(p.read_text()[-2000:] for p in sorted(self.tmp_path.glob("worker-*.log")))


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    started = Workers(tmp_path)
    yield started
    started.cleanup()


def _wait_until(condition: Callable[[], bool], what: str, deadline: float = 180.0, logs: Callable[[], str] = lambda: "") -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting ({deadline}s) for: {what}\n{logs()}")


def _enqueue(db_url: str, count: int, bad_at: int | None = None) -> list[str]:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            return [
                outbox.enqueue(conn, ralph_rejects_this_statement() if n == bad_at else sample_statement(n), ["ralph"])
                for n in range(count)
            ]
    finally:
        engine.dispose()


def _count(db_url: str, *conditions) -> int:  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(T).where(*conditions)).scalar_one())
    finally:
        engine.dispose()


def _assert_exactly_once(server: RalphServer, ids: list[str]) -> None:
    counts = server.stored_id_counts()
    assert set(counts) == set(ids), f"missing {len(set(ids) - set(counts))}, unexpected {len(set(counts) - set(ids))}"
    assert set(counts.values()) == {1}


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    out = process.out_path.read_text()  # type: ignore[attr-defined]
    assert process.returncode == 0, out
    return out


def test_statements_queued_while_the_lrs_is_down_are_delivered_exactly_once_when_it_is_back(
    migrated_db_url: str, ralph_stopped: RalphServer, workers: Workers, tmp_path: Path
) -> None:
    ids = _enqueue(migrated_db_url, 250)
    env = _env(migrated_db_url, tmp_path, ralph_stopped.endpoint, ralph_stopped.username, ralph_stopped.password)
    worker = workers.start(env, *FAST)
    _wait_until(lambda: _count(migrated_db_url, T.c.attempts >= 2) == 250, "every row tried at least twice while the LRS is down", logs=workers.logs)
    assert _count(migrated_db_url, T.c.status == "pending") == 250
    ralph_stopped.start()
    _wait_until(lambda: _count(migrated_db_url, T.c.status == "delivered") == 250, "all delivered after the LRS came back", logs=workers.logs)
    out = _stop(worker)  # SIGTERM: a graceful exit with a summary
    assert "delivered 250" in out
    _assert_exactly_once(ralph_stopped, ids)
    assert "cannot reach" in workers.logs()


def test_a_worker_killed_in_the_middle_of_batches_again_and_again_loses_and_duplicates_nothing(
    migrated_db_url: str, ralph: RalphServer, workers: Workers, tmp_path: Path
) -> None:
    ids = _enqueue(migrated_db_url, 800)
    proxy = SlowProxy(ralph.port, delay=0.4)  # each answer is late, so a kill lands mid-request
    try:
        env = _env(migrated_db_url, tmp_path, proxy.endpoint, ralph.username, ralph.password)
        kills_in_flight = 0
        for round_ in range(4):
            before = len(ralph.stored_id_counts())
            worker = workers.start(env, *FAST)
            _wait_until(
                lambda before=before: len(ralph.stored_id_counts()) > before and proxy.in_flight == 1,
                f"round {round_}: progress, with a request in flight",
                logs=workers.logs,
            )
            kills_in_flight += proxy.in_flight
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        assert kills_in_flight >= 3
        assert _count(migrated_db_url, T.c.status == "pending") > 0
        last = workers.start(env, *FAST)  # picks up the expired leases of the killed ones
        _wait_until(lambda: _count(migrated_db_url, T.c.status == "delivered") == 800, "all delivered after the kills", logs=workers.logs)
        _stop(last)
        assert proxy.max_in_flight == 1
    finally:
        proxy.close()
    _assert_exactly_once(ralph, ids)


def test_one_bad_statement_in_a_batch_is_parked_with_its_reason_and_the_rest_delivered(
    migrated_db_url: str, ralph: RalphServer, tmp_path: Path
) -> None:
    ids = _enqueue(migrated_db_url, 250, bad_at=137)
    env = _env(migrated_db_url, tmp_path, ralph.endpoint, ralph.username, ralph.password)
    done = _smeb(env, "worker", "--once")
    assert done.returncode == 0, done.stderr
    assert "delivered 249, parked 1" in done.stdout
    parked = _smeb(env, "outbox", "parked")
    assert ids[137] in parked.stdout and "422" in parked.stdout and "mbox_sha1sum" in parked.stdout
    assert "249 delivered, 1 parked" in _smeb(env, "outbox", "status").stdout
    _assert_exactly_once(ralph, ids[:137] + ids[138:])


def test_wrong_credentials_give_a_clear_error_drop_nothing_and_deliver_once_fixed(
    migrated_db_url: str, ralph: RalphServer, tmp_path: Path
) -> None:
    ids = _enqueue(migrated_db_url, 150)
    wrong = _env(migrated_db_url, tmp_path, ralph.endpoint, ralph.username, "not-the-password")
    refused = _smeb(wrong, "worker", "--once")
    assert refused.returncode == 2
    assert "HTTP 401" in refused.stderr and "check the destination's username and password" in refused.stderr
    assert _count(migrated_db_url, T.c.status == "pending") == 150 and ralph.stored_statements() == []
    fixed = _env(migrated_db_url, tmp_path, ralph.endpoint, ralph.username, ralph.password)
    assert "150 rows due now" in _smeb(fixed, "outbox", "retry").stdout
    done = _smeb(fixed, "worker", "--once")
    assert done.returncode == 0 and "delivered 150" in done.stdout, done.stderr
    _assert_exactly_once(ralph, ids)


def test_a_slow_lrs_times_out_without_piling_up_requests_and_nothing_is_lost(
    migrated_db_url: str, ralph: RalphServer, workers: Workers, tmp_path: Path
) -> None:
    ids = _enqueue(migrated_db_url, 300)
    proxy = SlowProxy(ralph.port, delay=4.0)
    try:
        env = _env(migrated_db_url, tmp_path, proxy.endpoint, ralph.username, ralph.password)
        slow = _smeb(env, "worker", "--once", "--timeout", "1")
        assert slow.returncode == 2 and "timeout" in slow.stderr
        assert proxy.requests == 1  # the first batch timed out; the other two were not sent after it
        assert _count(migrated_db_url, T.c.attempts == 1) == 100
        worker = workers.start(env, *FAST[:0], "--timeout", "1", "--lease-seconds", "5", "--backoff-base", "0.2", "--backoff-cap", "1", "--idle", "0.2")
        _wait_until(lambda: proxy.requests >= 5, "several retries against the slow LRS", logs=workers.logs)
        assert proxy.max_in_flight == 1  # one request at a time, however slow the LRS
        proxy.delay = 0.0
        _wait_until(lambda: _count(migrated_db_url, T.c.status == "delivered") == 300, "all delivered once the LRS is fast", logs=workers.logs)
        _stop(worker)
    finally:
        proxy.close()
    _assert_exactly_once(ralph, ids)  # batches stored during a timeout were re-sent as no-ops
