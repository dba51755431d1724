"""Surveys in Debian's chromium over real HTTP on 127.0.0.1: a learner answers with the keyboard only,
staff read results with the trend chart, and axe-core finds no WCAG 2.1 AA violation, in Norwegian and English.

The tool runs in its own process (started and stopped by PID here) on a migrated SQLite database;
launches are stored the way the LTI layer stores a validated id_token (the login/launch flow over HTTP
is covered in tests/e2e/test_demo_flow.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.app import make_app
from tests.support.node import E2E_JS, require_chromium, run_node
from tests.support.servers import free_port, wait_for

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "courses" / "valid"
ISSUER = "https://lms.example.no"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
TODAY = "2026-11-02"
LIFETIME = ["timeout", "--kill-after=30", "1800"]  # a server left behind by a crashed test ends itself

SERVER = r"""
import json, os, sys
from werkzeug.serving import make_server
from smeb_lti.app import create_app
app = create_app(json.loads(os.environ["SMEB_E2E_CONFIG"]))
server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
print("serving", flush=True)
server.serve_forever()
"""


@dataclass
class Tool:
    url: str
    config: dict[str, Any]
    launches: dict[str, str] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)
    cookies: list[dict[str, Any]] = field(default_factory=list)  # the staff launches' cookies, for the browser driver


def _app(config: dict[str, Any]) -> Any:
    return make_app(**config)


def store_launch(app: Any, *, sub: str, staff: bool, context: str, locale: str, title: str | None = None) -> str:
    from smeb_lti.db import session_scope
    from smeb_lti.lti import claims as c
    from smeb_lti.lti import launches, registrations

    claims = {
        "iss": ISSUER, "sub": sub, "aud": "client-1", "name": f"Deltaker {sub}",
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.VERSION: "1.3.0", c.DEPLOYMENT_ID: "dep-1",
        c.TARGET_LINK_URI: "https://tool.example/lti/launch", c.RESOURCE_LINK: {"id": "rl-1"},
        c.ROLES: [INSTRUCTOR if staff else LEARNER], c.CUSTOM: {"course": "all-blocks"},
        c.CONTEXT: {"id": context, "title": title or f"Elektro {context}"}, c.LAUNCH_PRESENTATION: {"locale": locale},
    }
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registration = registrations.find(session, ISSUER, "client-1")
        assert registration is not None
        return launches.save_launch(session, launches.new_launch_id(), registration.id, "client-1", claims, 7200).launch_id


def launch_cookies(app: Any, launch_id: str) -> list[dict[str, Any]]:
    """The launch cookie a staff launch over HTTP sets (smeb_lti.lti.binding), as Playwright cookies for 127.0.0.1.

    The launches here are stored without the HTTP launch, and a staff launch's pages open only in the browser
    that did it: the driver's browser gets the cookie the launch would have given it. (The development secret
    the cookie is made with is kept in SMEB_DATA_DIR, shared with the server process.)
    """
    from smeb_lti.lti import binding

    value = binding.proof(str(app.config["SECRET_KEY"]), launch_id)
    return [{"name": binding.COOKIE, "value": value, "domain": "127.0.0.1", "path": path, "httpOnly": True, "sameSite": "Lax"}
            for path in binding.staff_paths(launch_id)]


def prepare(tmp: Path) -> tuple[dict[str, Any], Any]:
    from content import load_course
    from smeb_lti.courses import catalogue
    from smeb_lti.db import migrate, session_scope
    from smeb_lti.lti import registrations

    url = f"sqlite:///{tmp / 'smeb.db'}"
    migrate(url)
    config = {"SMEB_DATABASE_URL": url, "SMEB_DATA_DIR": str(tmp / "data"), "SMEB_ENV": "development",
              "SMEB_COURSE_DIRS": str(FIXTURES), "SMEB_TODAY": TODAY}
    app = _app(config)
    with session_scope(app.extensions["smeb.sessions"]) as session:
        catalogue.install(session, load_course(FIXTURES / "all-blocks"))
        registrations.add(session, registrations.RegistrationInput(
            issuer=ISSUER, client_id="client-1", auth_login_url=ISSUER + "/auth", auth_token_url=ISSUER + "/token",
            key_set_url=ISSUER + "/jwks", deployment_ids=("dep-1",)))
    return config, app


def start(tmp: Path, config: dict[str, Any]) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - handed to the process
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMEB_")}
    env.update(SMEB_E2E_CONFIG=json.dumps(config), SMEB_DATA_DIR=config["SMEB_DATA_DIR"], SMEB_ENV="development", PYTHONPATH=str(REPO))
    process = subprocess.Popen([*LIFETIME, sys.executable, "-c", SERVER, str(port)], env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the tool exited with {process.returncode}:\n{(tmp / 'server.log').read_text(errors='replace')}")
        return httpx.get(base + "/app/static/surveys/app.css", timeout=5).status_code == 200

    wait_for(ready, "the tool to start", 180)
    return base, process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tool]:
    import datetime as dt

    from smeb_lti.db import session_scope
    from smeb_lti.lti import registrations
    from smeb_lti.surveys import store

    tmp = tmp_path_factory.mktemp("surveys-e2e")
    config, app = prepare(tmp)
    running = Tool("", config)
    for lang, locale in (("nb", "nb-NO"), ("en", "en-GB")):
        running.launches[f"staff-{lang}"] = store_launch(app, sub=f"leder-{lang}", staff=True, context="firma-a", locale=locale)
        running.launches[f"learner-{lang}"] = store_launch(app, sub=f"ola-{lang}", staff=False, context="firma-a", locale=locale)
        running.cookies += launch_cookies(app, running.launches[f"staff-{lang}"])
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registration = registrations.find(session, ISSUER, "client-1")
        assert registration is not None
        registration_id = registration.id
        # An open weekly pulse for the learners, and a monthly evaluation whose four months have closed:
        # 6, 7, 6 and 3 answers, so October is hidden and one more month with it (15 - 13 would reveal it).
        pulse = store.add_survey(session, registration_id=registration_id, deployment_id="dep-1", context_id="firma-a",
                                 template="psych-safety-pulse", frequency="weekly", starts_on=dt.date(2026, 11, 2), ends_on=dt.date(2026, 11, 29))
        past = store.add_survey(session, registration_id=registration_id, deployment_id="dep-1", context_id="firma-a",
                                template="course-evaluation", frequency="monthly", starts_on=dt.date(2026, 7, 1), ends_on=dt.date(2026, 10, 31))
        for period, n in ((0, 6), (1, 7), (2, 6), (3, 3)):
            for i in range(n):
                store.save_answer(session, past, period, "company", uuid.uuid4().hex, {
                    "usefulness": 5 + (i % 5) + period, "higher": f"Mer praksis ({period}.{i})", "reasons": ["o1", "o2", "o7"],
                    "length": "o2", "frequency": "o3", "recommend": "o1"})
        running.ids.update(pulse=pulse.id, past=past.id, registration_id=registration_id)
    app.extensions["smeb.engine"].dispose()
    running.url, process = start(tmp, config)
    try:
        yield running
    finally:
        stop(process)


def run_driver(name: str, options: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    require_chromium(axe=True)
    return run_node(E2E_JS / name, options, timeout=540)  # type: ignore[no-any-return]


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_a_learner_answers_the_pulse_with_the_keyboard_only_and_every_page_is_axe_clean(tool: Tool, lang: str, tmp_path: Path) -> None:
    options = {"base": tool.url, "lang": lang, "learner": tool.launches[f"learner-{lang}"], "staff": tool.launches[f"staff-{lang}"],
               "pulse": tool.ids["pulse"], "past": tool.ids["past"], "cookies": tool.cookies}
    result = run_driver("drive-surveys.js", options, tmp_path)
    assert result["errors"] == [], "\n".join(result["errors"])  # no CSP violations, no script errors
    assert result["violations"] == [], json.dumps(result["violations"], indent=1, ensure_ascii=False)
    assert result["langs"] == [lang] * result["scans"] and result["scans"] >= 5
    assert result["saved"] is True and result["checked"] == ["4", "4", "4", "4", "4"]  # what the keyboard chose, read back
    assert result["trend"]["svg"] >= 1 and result["trend"]["tables"] >= 1 and result["trend"]["suppressed"] >= 1
    assert result["smallTargets"] == [], result["smallTargets"]
