"""Session fixtures of the Moodle tests: ``moodle`` (a real Moodle 5.0.6+ on 127.0.0.1), ``smeb_tool`` (the SMEB
tool under gunicorn beside it) and ``registered_tool`` (the tool registered in Moodle's admin pages in chromium,
exactly as docs/moodle.md tells an administrator). See tests/e2e/moodle/README.md."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.moodle import api
from tests.e2e.moodle.harness import CACHE, SCREENSHOTS, Moodle, SmebTool, run_driver, start_moodle, start_tool
from tests.support import pg

TIMINGS: dict[str, float] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.moodle)
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.postgres)
            # The first test of a fresh checkout also installs Moodle (1.5-4 min on a busy machine) and registers the tool.
            item.add_marker(pytest.mark.timeout(1500))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        figures = ", ".join(f"{k} {v:.1f} s" for k, v in TIMINGS.items())
        terminalreporter.write_line(f"Moodle: {figures}")


def record_timing(**figures: float) -> None:
    """Add figures (seconds) to the session summary line and var/test-moodle/timings.log."""
    TIMINGS.update(figures)
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "timings.log", "a") as log:
        log.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **figures}) + "\n")


_record = record_timing  # the first name other test files used


@pytest.fixture(scope="session")
def moodle(pg_server: pg.PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moodle]:
    """A running Moodle; fails (never skips) with Moodle's output when it cannot be installed or started."""
    running = start_moodle(pg_server, tmp_path_factory.mktemp("moodle"))
    t = running.timings
    record_timing(**{k: round(v, 1) for k, v in (("unpack", t.unpack), ("install", t.install), ("snapshot restore", t.restore),
                                           ("server start", t.start)) if v})
    try:
        yield running
    finally:
        running.stop()
        pg_server.drop_database(running.db.url())


@pytest.fixture(scope="session")
def smeb_tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmebTool]:
    """The SMEB tool under gunicorn (2 workers) on 127.0.0.1, SQLite in its own data dir, shipped courses installed.

    Grades and statements are not sent in the background: call ``smeb_tool.run_ags()`` / ``run_statements()``.
    """
    tool = start_tool(tmp_path_factory.mktemp("smeb-tool"))
    try:
        yield tool
    finally:
        tool.stop()


def screenshot_dir(tmp_path_factory: pytest.TempPathFactory, *names: str) -> Path:
    """Where a driver writes its screenshots: docs/img/moodle/ when SMEB_MOODLE_SCREENSHOTS=1 or when one of
    ``names`` is missing there (a fresh docs image), else a scratch folder (no binary churn in the checkout)."""
    if os.environ.get("SMEB_MOODLE_SCREENSHOTS") == "1" or any(not (SCREENSHOTS / f"{n}.png").is_file() for n in names):
        return SCREENSHOTS
    return tmp_path_factory.mktemp("shots")


def shrink_screenshots(folder: Path) -> None:
    """Palette PNGs (a few tens of KB) for the docs; a no-op outside docs/img/moodle."""
    if folder != SCREENSHOTS:
        return
    from PIL import Image

    for path in folder.glob("*.png"):
        if path.stat().st_mtime < time.time() - 600:  # only what this run just took
            continue
        with Image.open(path) as image:
            if image.mode == "P":
                continue
            small = image.convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT)
        small.save(path, optimize=True)


@dataclass(frozen=True)
class RegisteredTool:
    type_id: int
    client_id: str
    deployment_id: str
    tool: SmebTool
    register_url: str
    driver_result: dict[str, object]


REGISTER_SHOTS = ("register-1-tool-url", "register-2-pending", "register-3-active", "register-4-activity-chooser-setting")


@pytest.fixture(scope="session")
def registered_tool(moodle: Moodle, smeb_tool: SmebTool, tmp_path_factory: pytest.TempPathFactory) -> RegisteredTool:
    """The tool registered through Moodle's admin pages in chromium with the URL ``smeb platform register-url
    --allow-private`` prints (Moodle runs on 127.0.0.1), activated, and shown in the activity chooser."""
    url = smeb_tool.register_url("--allow-private")
    shots = screenshot_dir(tmp_path_factory, *REGISTER_SHOTS)
    started = time.monotonic()
    result = run_driver("drive-register.js", {
        "moodle": moodle.url, "admin": {"username": moodle.admin_user, "password": moodle.admin_password},
        "registerUrl": url, "shots": str(shots), "debugDir": str(tmp_path_factory.mktemp("register-debug")),
    })
    record_timing(**{"registration in chromium": round(time.monotonic() - started, 1)})
    shrink_screenshots(shots)
    assert result.get("refused") is None, f"the tool refused the registration in Moodle's frame:\n{result['refused']}"
    type_id = int(result["typeId"])  # type: ignore[call-overload]
    row = api.lti_type(moodle, type_id)
    return RegisteredTool(type_id, str(row["clientid"]), str(type_id), smeb_tool, url, result)
