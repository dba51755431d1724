"""Starting real servers for tests: free ports, waiting for readiness, stopping, a WSGI app in a thread, Redis.

The other servers have their own modules beside this one: PostgreSQL (pg.py), Ralph and scripted LRSs
(ralph.py), the embedded LRS over HTTP (lrs_server.py), an LTI platform (lti_platform.py). Fixtures defined
here are registered for the whole suite by tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug.serving import make_server

START_TIMEOUT = 180.0  # generous: the machine is shared; this bounds a hang, it does not measure speed
# Server processes run under coreutils' `timeout`: they stop themselves even if pytest is killed; SIGTERM to it reaches them.
LIFETIME = ["timeout", "--kill-after=30", "1800"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    """Call ``check`` until it returns something true (connection errors count as not yet); its value."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process still running, then SIGKILL what has not exited within 30 s."""
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """A WSGI app (the tool, a fake LMS) on 127.0.0.1 and a free port in a daemon thread: its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server of its own (no persistence), for the nonce store and login limits across workers."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed for these tests: apt-get install -y redis-server"
    port = free_port()
    folder: Path = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "redis-server did not start"
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
