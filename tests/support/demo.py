"""``smeb demo`` (the tool and the demo LMS) and the tool under gunicorn, started as real processes for tests.

The fixtures ``demo`` and ``under_gunicorn`` (module-scoped) are registered for the whole suite by tests/conftest.py.
Servers run under coreutils' ``timeout`` (LIFETIME) and are stopped by PID.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from content import load_course
from content.export import course_to_json
from tests.support.paths import COURSE_FIXTURES, REPO
from tests.support.servers import LIFETIME, START_TIMEOUT, free_port, stop, wait_for

COURSE = COURSE_FIXTURES / "all-blocks"
LINK = "rl-all-blocks"


def keyed_course() -> dict[str, Any]:
    """The course with its answer key, from the source: the tool's course.json has none (the tool grades)."""
    return json.loads(course_to_json(load_course(COURSE)))


def answer_key() -> dict[str, list[str]]:
    """The right choices of every quiz of the demo course."""
    return {q.id: [c.id for c in q.choices if c.correct] for q in load_course(COURSE).quizzes}


def answers(url: str) -> bool:
    return httpx.get(url, timeout=5).status_code < 500


@dataclass
class Running:
    tool_url: str
    platform_url: str
    data_dir: Path
    processes: list[subprocess.Popen[bytes]]
    access_log: Path | None = None


def demo_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMEB_")}
    env.update(SMEB_DATA_DIR=str(data_dir), SMEB_ROSTER_PAGE_SIZE="5", SMEB_ENV="development", PYTHONPATH=str(REPO))
    return env


def _demo(data_dir: Path, platform_port: int, *extra: str) -> subprocess.Popen[bytes]:
    with open(data_dir / "demo.log", "wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [*LIFETIME, sys.executable, "-m", "smeb_lti", "demo", "--platform-port", str(platform_port), "--no-shipped", "--course", str(COURSE), *extra],
            env=demo_env(data_dir), cwd=data_dir, stdout=out, stderr=subprocess.STDOUT,
        )


def _started(process: subprocess.Popen[bytes], data_dir: Path, *urls: str) -> None:
    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"smeb demo exited with {process.returncode}:\n{(data_dir / 'demo.log').read_text(errors='replace')}")
        return "Stop with Ctrl-C" in (data_dir / "demo.log").read_text(errors="replace") and all(answers(u) for u in urls)

    wait_for(ready, "smeb demo to start", START_TIMEOUT)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data_dir = tmp_path_factory.mktemp("demo")
    port, platform_port = free_port(), free_port()
    process = _demo(data_dir, platform_port, "--port", str(port))
    running = Running(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{platform_port}", data_dir, [process])
    try:
        _started(process, data_dir, running.tool_url + "/.well-known/jwks.json", running.platform_url + "/")
        yield running
    finally:
        stop(running.processes)


@pytest.fixture(scope="module")
def under_gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data_dir = tmp_path_factory.mktemp("gunicorn")
    port, platform_port = free_port(), free_port()
    tool_url = f"http://127.0.0.1:{port}"
    # The demo LMS and the delivery worker; registration of both sides in the shared database.
    demo_process = _demo(data_dir, platform_port, "--tool-url", tool_url)
    running = Running(tool_url, f"http://127.0.0.1:{platform_port}", data_dir, [demo_process], data_dir / "access.log")
    try:
        _started(demo_process, data_dir, running.platform_url + "/")
        env = demo_env(data_dir)
        env["SMEB_COURSE_DIRS"] = str(COURSE.parent)
        gunicorn = subprocess.Popen(
            [*LIFETIME, sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--access-logfile", str(running.access_log),
             "--access-logformat", '%(p)s "%(r)s" %(s)s', "--error-logfile", str(data_dir / "gunicorn.log"), "smeb_lti.app:create_app()"],
            env=env, cwd=data_dir,
        )
        running.processes.insert(0, gunicorn)
        wait_for(lambda: gunicorn.poll() is None and answers(tool_url + "/.well-known/jwks.json"), "gunicorn", START_TIMEOUT)
        yield running
    finally:
        stop(running.processes)
