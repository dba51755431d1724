"""The real Ralph LRS (``ralph-malph[lrs]==5.1.0``, file-system backend) for the tests.

Ralph pins FastAPI, pydantic and friends, so it lives in its own virtualenv at
``.venv-ralph/`` in the repository (gitignored). :func:`ensure_venv` creates it when it is
missing and fails loudly when it cannot; nothing is skipped.

Each :class:`RalphServer` is one uvicorn process on 127.0.0.1 with its own folder: its own
HOME, ``RALPH_APP_DIR``, auth file, history file and statements file, because Ralph rewrites
a JSON history file on every request and two instances sharing one corrupt it.

Known defects of Ralph 5.1.0 worked around here without forking it (each checked against its
source in the venv):

* the ``lrs`` extra does not install ``requests`` (``ralph.cli`` imports it): we install it;
* ``FSDataBackend.default_operation_type`` is ``CREATE`` and no setting changes it (the fs
  settings are only paths, query string and chunk sizes), so every POST after the first
  fails with 500 "already exists and overwrite is not allowed". The launcher sets the class
  attribute to ``APPEND`` before uvicorn imports the app: configuration, not a fork;
* rejected statements come back 422 (FastAPI validation), not 400;
* it ignores ``X-Experience-API-Version`` and has no ``/about``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv-ralph"
RALPH_REQUIREMENTS = ["ralph-malph[lrs]==5.1.0", "requests>=2.31"]

LAUNCHER = """
import sys
import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.data.fs import FSDataBackend

# Ralph 5.1.0: the fs backend refuses to append and no setting changes that (see tests/support/ralph.py).
FSDataBackend.default_operation_type = BaseOperationType.APPEND
uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


class RalphSetupError(RuntimeError):
    """Ralph's virtualenv could not be created or the server did not start; the message says why."""


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> Path:
    """Ralph's interpreter, creating ``.venv-ralph`` first if it is missing or incomplete."""
    python = venv_python()
    probe = [str(python), "-c", "import ralph.backends.lrs.fs, requests, bcrypt, uvicorn, fastapi"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(python), "-m", "pip", "install", "--quiet", *RALPH_REQUIREMENTS],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RalphSetupError(
                f"could not set up Ralph's virtualenv at {VENV}: `{' '.join(step)}` exited "
                f"{done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
    if subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        raise RalphSetupError(f"{VENV} was installed but `import ralph.api` still fails (run the probe by hand: {probe})")
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bcrypt_hash(password: str) -> str:
    """Hash with the venv's bcrypt (ours does not depend on bcrypt)."""
    code = "import bcrypt,sys; print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(4)).decode())"
    done = subprocess.run([str(ensure_venv()), "-c", code, password], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@dataclass
class RalphServer:
    """One Ralph LRS process; ``start()``/``stop()`` may be called repeatedly on the same port."""

    root: Path
    port: int = field(default_factory=free_port)
    username: str = "smeb"
    password: str = "s3cret-for-tests"
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        """The xAPI endpoint (statements live at ``<endpoint>statements``)."""
        return f"{self.base_url}/xAPI/"

    @property
    def statements_file(self) -> Path:
        return self.root / "lrs" / "fs_lrs.jsonl"

    def _prepare(self) -> dict[str, str]:
        (self.root / "home").mkdir(parents=True, exist_ok=True)
        (self.root / "lrs").mkdir(parents=True, exist_ok=True)
        auth = self.root / "auth.json"
        if not auth.exists():
            users = [
                {
                    "agent": {"mbox": "mailto:smeb-delivery@example.org"},
                    "scopes": ["all"],
                    "hash": bcrypt_hash(self.password),
                    "username": self.username,
                }
            ]
            auth.write_text(json.dumps(users), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RALPH_")}
        env.update(
            HOME=str(self.root / "home"),
            RALPH_APP_DIR=str(self.root / "home" / "ralph"),
            RALPH_AUTH_FILE=str(auth),
            RALPH_HISTORY_FILE=str(self.root / "history.json"),
            RALPH_RUNSERVER_BACKEND="fs",
            RALPH_RUNSERVER_AUTH_BACKENDS="basic",
            RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH=str(self.root / "lrs"),
            RALPH_BACKENDS__DATA__FS__DEFAULT_DIRECTORY_PATH=str(self.root / "lrs"),
            RALPH_SENTRY_DSN="",
        )
        return env

    def start(self, timeout: float = 60.0) -> RalphServer:
        if self.process is not None and self.process.poll() is None:
            return self
        python = ensure_venv()
        env = self._prepare()
        with open(self.root / "ralph.log", "ab") as log:
            self.process = subprocess.Popen(
                # `timeout`: Ralph stops itself after an hour even if the test run that started it is killed.
                ["timeout", "3600", str(python), "-c", LAUNCHER, str(self.port)],
                env=env,
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RalphSetupError(f"Ralph exited with {self.process.returncode}; see {self.root / 'ralph.log'}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/__heartbeat__", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RalphSetupError(f"Ralph did not answer on {self.base_url} within {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self.process = None

    def log_tail(self, chars: int = 3000) -> str:
        path = self.root / "ralph.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stored_statements(self) -> list[dict]:
        """Everything Ralph stored, read from its own file (independent of our query client)."""
        if not self.statements_file.exists():
            return []
        lines = self.statements_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def stored_id_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for statement in self.stored_statements():
            counts[statement["id"]] = counts.get(statement["id"], 0) + 1
        return counts


@pytest.fixture(scope="session")
def ralph_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphServer]:
    """One Ralph for a whole session (tests that only add statements with fresh ids)."""
    server = RalphServer(tmp_path_factory.mktemp("ralph-session")).start()
    yield server
    server.stop()


@pytest.fixture
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphServer]:
    """A fresh, empty Ralph for one test."""
    server = RalphServer(tmp_path_factory.mktemp("ralph")).start()
    yield server
    server.stop()


@pytest.fixture
def ralph_stopped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphServer]:
    """A Ralph with a reserved port that is not running yet (the test starts it)."""
    ensure_venv()
    server = RalphServer(tmp_path_factory.mktemp("ralph"))
    server._prepare()
    yield server
    server.stop()


# -- real servers in front of / instead of Ralph -------------------------------------------


class SlowProxy:
    """A TCP proxy on 127.0.0.1 that holds every chunk coming back from the LRS ``delay`` seconds.

    Requests reach the LRS at once (so a timed-out batch may well be stored: the lost-answer
    case); answers come late. It records how many requests were in flight at the same time.
    """

    def __init__(self, upstream_port: int, delay: float = 0.0) -> None:
        import threading

        self.upstream_port = upstream_port
        self.delay = delay
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"

    def _accept(self) -> None:
        import threading

        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        import threading

        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return
        busy = {"on": False}

        def mark(on: bool) -> None:
            with self._lock:
                if on and not busy["on"]:
                    self.requests += 1
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                elif not on and busy["on"]:
                    self.in_flight -= 1
                busy["on"] = on

        def pump(src: socket.socket, dst: socket.socket, request_side: bool) -> None:
            try:
                while True:
                    chunk = src.recv(65536)
                    if not chunk:
                        break
                    if request_side:
                        mark(True)
                    elif self.delay:
                        time.sleep(self.delay)
                    dst.sendall(chunk)
                    if not request_side:
                        mark(False)
            except OSError:
                pass
            finally:
                mark(False)
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        back = threading.Thread(target=pump, args=(upstream, client, False), daemon=True)
        back.start()
        pump(client, upstream, True)
        back.join()
        client.close()
        upstream.close()

    def close(self) -> None:
        self._closed.set()
        self._server.close()


class ScriptedLrs:
    """A real HTTP server on 127.0.0.1 that answers from a script and records what it was sent.

    ``script`` maps a path+query (``/xAPI/statements?limit=2``) or ``"*"`` to a list of
    (status, body) answers used in turn (the last one repeats). A body of ``None`` drops
    the connection without an answer (an LRS that died half-way).
    """

    def __init__(self, script: dict[str, list[tuple[int, object]]]) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.script = {k: list(v) for k, v in script.items()}
        self.seen: list[dict[str, object]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.seen.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body, "peer": self.client_address}
                )
                answers = owner.script.get(self.path) or owner.script.get("*") or [(404, {"detail": "not scripted"})]
                status, payload = answers.pop(0) if len(answers) > 1 else answers[0]
                if payload is None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _answer

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI/"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def scripted_lrs() -> Iterator[Callable[[dict[str, list[tuple[int, object]]]], ScriptedLrs]]:
    """Start scripted servers with ``scripted_lrs({...})``; all are shut down after the test."""
    started: list[ScriptedLrs] = []

    def start(script: dict[str, list[tuple[int, object]]]) -> ScriptedLrs:
        server = ScriptedLrs(script)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def sample_statement(n: int = 0, **overrides: object) -> dict:
    """A small valid statement without id/timestamp (the outbox sets them)."""
    statement: dict = {
        "actor": {"objectType": "Agent", "account": {"homePage": "https://lms.example.org", "name": f"learner-{n % 7}"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"nb-NO": "fullførte", "en": "completed"}},
        "object": {"objectType": "Activity", "id": f"https://smeb.example/courses/fra-stille-feil/lessons/{n}"},
        "result": {"completion": True, "duration": "PT20M"},
    }
    statement.update(overrides)
    return statement


def ralph_rejects_this_statement() -> dict:
    """Valid xAPI 1.0.3 for our validator, refused by Ralph with 422: Ralph wants lowercase SHA-1 hex."""
    return sample_statement(999, actor={"objectType": "Agent", "mbox_sha1sum": "A" * 40})
