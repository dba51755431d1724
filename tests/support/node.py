"""Node.js from the tests: the browser drivers (playwright-core driving Debian's chromium) and the JS checks.

Every driver prints one JSON document on its last line of stdout; :func:`run_node` runs it in its own process
group, so a hung chromium is killed with its node parent, and hands back that document. The drivers share
tests/e2e/js/lib.js (chromium launch, player walk-through, axe-core scan), found through ``SMEB_E2E_LIB``
by drivers that live elsewhere (inline scripts written to a temporary file).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import REPO

NODE_MODULES = REPO / "node_modules"
E2E_JS = REPO / "tests" / "e2e" / "js"
E2E_LIB = E2E_JS / "lib.js"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
DRIVER_TIMEOUT = 540  # seconds: bounds a hang of node + chromium on a busy machine, measures nothing


def require_chromium(*, axe: bool = False) -> None:
    """Skip the test unless Debian's chromium and npm playwright-core (and axe-core, if asked) are installed."""
    if not shutil.which("chromium") or not (NODE_MODULES / "playwright-core").is_dir():
        pytest.skip("needs Debian's chromium and npm playwright-core")
    if axe and not AXE.is_file():
        pytest.skip("needs Debian's chromium, npm playwright-core and axe-core")


def node_env(**extra: str) -> dict[str, str]:
    """The process environment plus what the scripts need to find node_modules, lib.js and axe-core."""
    return {**os.environ, "NODE_PATH": str(NODE_MODULES), "SMEB_E2E_LIB": str(E2E_LIB), "SMEB_AXE": str(AXE), **extra}


def run_node(script: Path, options: Any = None, *, timeout: float, source: str | None = None, stdin: str | None = None,
             cwd: Path = REPO, env: Mapping[str, str] | None = None) -> Any:
    """``node script '<options as JSON>'``: the JSON document on the last line of its stdout.

    ``source``: the script's text, written to ``script`` first (drivers kept inline in a test module).
    ``stdin``: text fed to the script instead of passing options on the command line. On a timeout the whole
    process group (node and the chromium it started) is killed and the test fails with the end of stderr; a
    non-zero exit fails it the same way.
    """
    if source is not None:
        script.write_text(source, encoding="utf-8")
    command = ["node", str(script)]
    if options is not None:
        command.append(json.dumps(options))
    process = subprocess.Popen(command, cwd=cwd, env=dict(env) if env is not None else node_env(), text=True, start_new_session=True,
                               stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"{script.name} timed out after {timeout} s:\n{err[-4000:]}")
    assert process.returncode == 0, f"{script.name} exited {process.returncode}:\n{err[-4000:]}"
    lines = out.strip().splitlines()
    assert lines, f"{script.name} printed nothing:\n{err[-4000:]}"
    return json.loads(lines[-1])


def run_driver(name: str, options: Any, *, timeout: float = DRIVER_TIMEOUT) -> Any:
    """A browser driver of tests/e2e/js by file name, with JSON options: its JSON result."""
    return run_node(E2E_JS / name, options, timeout=timeout)


def run_node_code(code: str, *args: str, timeout: float = 60) -> Any:
    """``node -e code args...`` for a one-line check of a player module: the JSON it prints."""
    done = subprocess.run(["node", "-e", code, *args], capture_output=True, text=True, timeout=timeout, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)
