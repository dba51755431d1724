"""End to end over real HTTP on 127.0.0.1: ``smeb demo`` (tool + demo LMS) and the tool under gunicorn.

Every step is what a browser does: the demo LMS's start button, the tool's OIDC login, the
platform's signed id_token, the player page and its events, the grade in the LMS's gradebook,
deep linking, and the NRPS roster. Servers are started by the tests and stopped by PID.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from smeb_lti.demo_platform.client import FormBrowser, forms_of

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "tests" / "fixtures" / "courses" / "valid" / "all-blocks"
LINK = "rl-all-blocks"


def keyed_course() -> dict[str, Any]:
    """The course with its answer key, from the source: the tool's course.json has none (the tool grades)."""
    import json

    from content import load_course
    from content.export import course_to_json

    return json.loads(course_to_json(load_course(COURSE)))  # type: ignore[no-any-return]


def answer_key() -> dict[str, list[str]]:
    """The right choices of every quiz of the demo course."""
    from content import load_course

    return {q.id: [c.id for c in q.choices if c.correct] for q in load_course(COURSE).quizzes}
START_TIMEOUT = 180.0  # generous: the machine is shared; this bounds a hang, it does not measure speed
# Servers run under coreutils' `timeout`: they stop themselves even if pytest is killed; SIGTERM to it reaches them.
LIFETIME = ["timeout", "--kill-after=30", "1800"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
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


def answers(url: str) -> bool:
    return httpx.get(url, timeout=5).status_code < 500


@dataclass
class Running:
    tool_url: str
    platform_url: str
    data_dir: Path
    processes: list[subprocess.Popen[bytes]]
    access_log: Path | None = None


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMEB_")}
    env.update(SMEB_DATA_DIR=str(data_dir), SMEB_ROSTER_PAGE_SIZE="5", SMEB_ENV="development", PYTHONPATH=str(REPO))
    return env


def _demo(data_dir: Path, platform_port: int, *extra: str) -> subprocess.Popen[bytes]:
    out = open(data_dir / "demo.log", "wb")
    try:
        return subprocess.Popen(
            [*LIFETIME, sys.executable, "-m", "smeb_lti", "demo", "--platform-port", str(platform_port), "--no-shipped", "--course", str(COURSE), *extra],
            env=_env(data_dir), cwd=data_dir, stdout=out, stderr=subprocess.STDOUT,
        )
    finally:
        out.close()


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


def _config(browser: FormBrowser, page: httpx.Response) -> dict[str, Any]:
    base = str(page.url) + "/"
    assert f'<base href="{page.url.path}/">' in page.text
    return browser.get(base + "smeb-config.json").json()  # type: ignore[no-any-return]


def _event(browser: FormBrowser, tool_url: str, config: dict[str, Any], type_: str, data: dict[str, Any]) -> httpx.Response:
    event = {"id": str(uuid.uuid4()), "type": type_, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "courseId": config["courseId"], "data": data}
    return browser.client.post(tool_url + config["eventsUrl"], json=event, headers={config["tokenHeader"]: config["token"]})


def _grade(platform_url: str, user: str) -> str | None:
    page = httpx.get(platform_url + "/gradebook", timeout=10).text
    match = re.search(rf'<tr data-user="{user}"[^>]*>.*?<td class="grade">([^<]*)</td>\s*<td class="activity">([^<]*)</td>', page, re.S)
    return f"{match.group(1)} {match.group(2)}" if match else None


def learner_flow(running: Running, user: str = "demo-ola") -> str:
    """Launch as a learner, answer every quiz right, complete; return the grade the LMS shows."""
    with FormBrowser() as browser:
        page = browser.launch(running.platform_url, LINK, user)
        assert page.status_code == 200 and page.url.path.startswith("/play/"), page.text[:500]
        assert str(page.url).startswith(running.tool_url)
        config = _config(browser, page)
        course = browser.get(str(page.url) + "/course.json").json()
        from smeb_lti.demo_platform.store import USERS_BY_ID

        assert course["id"] == config["courseId"] and config["learner"]["name"] == USERS_BY_ID[user].name
        assert _event(browser, running.tool_url, config, "initialized", {}).status_code == 200
        for module in course["modules"]:
            for lesson in module["lessons"]:
                for block in lesson["blocks"]:
                    if block["type"] == "quiz":
                        right = answer_key()[block["id"]]
                        assert _event(browser, running.tool_url, config, "answered", {"blockId": block["id"], "response": right}).status_code == 200
        done = _event(browser, running.tool_url, config, "outcome", {"completed": True, "passed": True, "progress": 1})
        assert done.json()["points"] == course["maxPoints"] == 5
    return wait_for(lambda: (g := _grade(running.platform_url, user)) and g.endswith("Completed") and g, "the grade in the gradebook")


def test_a_learner_launch_reaches_the_player_and_the_grade_reaches_the_lms_gradebook(demo: Running) -> None:
    assert learner_flow(demo) == "5 / 5 Completed"
    log = httpx.get(demo.platform_url + "/log", timeout=10).text
    assert 'data-service="AGS" data-status="200"' in log and "score for demo-ola: 5.0/5.0, Completed, FullyGraded" in log


def _lrs_verbs(running: Running) -> list[str]:
    """Verbs of the statements in the demo's embedded LRS (read with the demo destination's credentials)."""
    from sqlalchemy import create_engine

    from xapi.destinations import load_destinations

    engine = create_engine(f"sqlite:///{running.data_dir / 'smeb.db'}")
    with engine.connect() as conn:
        lrs = load_destinations(conn, env={})["demo-lrs"]
    engine.dispose()
    response = httpx.get(lrs.endpoint + "statements", params={"limit": 500}, auth=(lrs.username or "", lrs.password or ""),
                         headers={"X-Experience-API-Version": "1.0.3"}, timeout=10)
    response.raise_for_status()
    return [s["verb"]["id"].rsplit("/", 1)[-1] for s in response.json()["statements"]]


def test_the_learners_statements_reach_the_embedded_lrs_through_the_outbox(demo: Running) -> None:
    learner_flow(demo, "demo-learner-02")
    verbs = wait_for(lambda: (v := _lrs_verbs(demo)) and "completed" in v and v, "statements in the LRS")
    assert {"initialized", "answered", "completed", "passed"} <= set(verbs)


def test_the_player_resumes_where_the_learner_left(demo: Running) -> None:
    with FormBrowser() as browser:
        page = browser.launch(demo.platform_url, LINK, "demo-learner-03")
        config = _config(browser, page)
        assert _event(browser, demo.tool_url, config, "state", {"state": "resume-me", "location": "l2"}).status_code == 200
    with FormBrowser() as browser:
        assert _config(browser, browser.launch(demo.platform_url, LINK, "demo-learner-03"))["state"] == "resume-me"


def test_a_second_use_of_the_same_id_token_is_refused(demo: Running) -> None:
    with FormBrowser() as browser:
        browser.launch(demo.platform_url, LINK, "demo-ola")
        id_token_page = next(r for r in browser.history if "id_token" in r.text)
        form = forms_of(id_token_page.text)[0]
        replay = browser.client.post(form.action, data=form.fields)
        assert replay.status_code in (400, 401) and "/play/" not in str(replay.url)


def test_an_instructor_adds_a_module_by_deep_linking_and_the_lms_creates_its_line_item(demo: Running) -> None:
    with FormBrowser() as browser:
        selection = browser.deep_link(demo.platform_url, "smeb-demo-tool", "demo-kari")
        assert selection.status_code == 200 and "/deep-link/" in str(selection.url)
        form = forms_of(selection.text)[0]
        choices = re.findall(r'name="item" value="(all-blocks/[^"]+)"', selection.text)
        assert choices, selection.text[:500]
        done = browser.follow(browser.client.post(str(selection.url), data={**form.fields, "item": choices[0]}))
        assert str(done.url) == demo.platform_url + "/deep-link/return" and done.status_code == 200
        created = re.findall(r'<li data-link-id="([^"]+)">([^<]*)', done.text)
        assert len(created) == 1 and "Modul en" in created[0][1]
        # The new link launches just that module; its quiz points are the new column's maximum.
        page = browser.launch(demo.platform_url, created[0][0], "demo-ola")
        course = browser.get(str(page.url) + "/course.json").json()
        assert [m["id"] for m in course["modules"]] == [choices[0].split("/", 1)[1]]
        assert f"(maks {course['maxPoints']})" in done.text
    gradebook = httpx.get(demo.platform_url + "/gradebook", timeout=10).text
    assert f"<code>{choices[0]}</code>" in gradebook


def test_the_instructor_roster_pages_through_every_member_of_the_course(demo: Running) -> None:
    with FormBrowser() as browser:
        page = browser.launch(demo.platform_url, LINK, "demo-kari")
        link = re.search(r'href="(/roster/[^"]+)" id="smeb-roster-link"', page.text)
        assert link, page.text[:800]
        nav = re.search(r'<nav class="smeb-staff".*?</nav>', page.text, re.S)
        assert nav is not None
        for href in re.findall(r'href="([^"]+)"', nav.group(0)):  # every facilitator link leads somewhere real
            assert browser.get(demo.tool_url + href).status_code == 200, href
        url: str | None = demo.tool_url + link.group(1)
        members: list[str] = []
        pages = 0
        while url:
            roster = browser.get(url)
            assert roster.status_code == 200, roster.text[:500]
            members += re.findall(r'<tr data-user="([^"]+)"', roster.text)
            pages += 1
            following = re.search(r'<a href="([^"]+)" rel="next"', roster.text)
            url = demo.tool_url + following.group(1).replace("&amp;", "&") if following else None
        assert pages == 3 and len(members) == len(set(members)) == 12
        learner = browser.launch(demo.platform_url, LINK, "demo-ola")
        assert browser.get(demo.tool_url + link.group(1).replace(page.url.path.rsplit("/", 1)[-1], learner.url.path.rsplit("/", 1)[-1])).status_code == 403
        forged = browser.get(demo.tool_url + link.group(1) + "?page=" + "http://127.0.0.1:1/steal")
        assert forged.status_code == 403
    log = httpx.get(demo.platform_url + "/log", timeout=10).text
    assert log.count('data-service="NRPS" data-status="200"') >= 3


# -- gunicorn ----------------------------------------------------------------------------------


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
        env = _env(data_dir)
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


def _workers(log: Path, start: int) -> dict[str, str]:
    """``{request kind: worker pid}`` for the access-log lines written since ``start``."""
    found: dict[str, str] = {}
    for line in log.read_text().splitlines()[start:]:
        pid, request = line.split(" ", 1)
        for kind, marker in (("login", "/lti/login"), ("launch", "POST /lti/launch"), ("play", "GET /play/")):
            if marker in request and kind not in found:
                found[kind] = pid
    return found


def _complete_launch(log: Path, start: int) -> dict[str, str] | None:
    workers = _workers(log, start)
    return workers if len(workers) == 3 else None


def test_the_whole_flow_works_under_gunicorn_with_two_workers(under_gunicorn: Running) -> None:
    assert under_gunicorn.access_log is not None
    crossed, pids = 0, set()
    for _ in range(40):
        start = len(under_gunicorn.access_log.read_text().splitlines())
        with FormBrowser() as browser:
            page = browser.launch(under_gunicorn.platform_url, LINK, "demo-learner-05")
            assert page.status_code == 200 and "/play/" in str(page.url), page.text[:500]
        seen = wait_for(functools.partial(_complete_launch, under_gunicorn.access_log, start), "access log lines")
        pids.update(seen.values())
        crossed += seen["login"] != seen["launch"]
        if crossed >= 2:
            break
    assert len(pids) == 2, "both workers served requests"
    assert crossed >= 1, "no launch had its login and its id_token POST on different workers in 40 tries"
    assert learner_flow(under_gunicorn) == "5 / 5 Completed"


# -- a real browser ----------------------------------------------------------------------------

DRIVER = r"""
"use strict";
const { launch, playerFrame, lessonIndex, doBlock, lessonsOf } = require(process.env.SMEB_E2E_LIB);
async function waitFor(fn, what) {
  for (let i = 0; i < 600; i++) { if (await fn()) return; await new Promise((r) => setTimeout(r, 100)); }
  throw new Error("timed out waiting for " + what);
}
async function main() {
  const opts = JSON.parse(process.argv[2]);
  const { context, close, errors } = await launch({ locale: "nb-NO" });
  const out = {};
  try {
    const page = await context.newPage();
    await page.goto(opts.platformUrl + "/");
    const form = page.locator(`form.learner[action="/launch/${opts.link}"]`);
    await form.locator("select").selectOption(opts.user);
    await Promise.all([page.waitForURL(/\/play\//, { timeout: 60000 }), form.locator("button:not(.embedded)").click()]);
    const frame = await playerFrame(page);
    const course = opts.course; // with the answer key: the tool serves none to the browser
    const lessons = lessonsOf(course);
    out.lang = await frame.evaluate(() => document.documentElement.lang);
    for (let guard = 0; guard < 200; guard++) {
      const li = await lessonIndex(frame);
      if (li >= lessons.length) break;
      for (const block of lessons[li].blocks) await doBlock(frame, block, { wrong: opts.wrong });
      await frame.locator("#next").click();
    }
    await waitFor(() => frame.evaluate(() => window.SMEB.debug.pending() === 0), "the events to reach the tool");
    out.outcome = await frame.evaluate(() => window.SMEB.debug.outcome());
    out.url = page.url();
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
"""


@pytest.mark.browser
def test_a_learner_works_through_the_course_in_chromium_and_the_lms_gets_the_grade(demo: Running, tmp_path: Path) -> None:
    import json
    import shutil

    if not shutil.which("chromium") or not (REPO / "node_modules" / "playwright-core").is_dir():
        pytest.skip("needs Debian's chromium and npm playwright-core")
    driver = tmp_path / "drive-demo.js"
    driver.write_text(DRIVER, encoding="utf-8")
    env = {**os.environ, "SMEB_E2E_LIB": str(REPO / "tests" / "e2e" / "js" / "lib.js"), "NODE_PATH": str(REPO / "node_modules")}
    options = {"platformUrl": demo.platform_url, "link": LINK, "user": "demo-learner-07", "wrong": ["q-tf"], "course": keyed_course()}
    process = subprocess.Popen(["node", str(driver), json.dumps(options)], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"the browser driver timed out:\n{err[-3000:]}")
    assert process.returncode == 0, err[-3000:]
    result = json.loads(out)
    assert result["errors"] == [], "\n".join(result["errors"])  # no CSP violations, no rejected events
    assert result["url"].startswith(demo.tool_url + "/play/") and result["lang"] == "nb"
    assert result["outcome"]["complete"] is True and result["outcome"]["points"] == 4
    # q-tf answered wrong on purpose: the LMS shows the server's 4 of 5, not whatever the browser claims.
    assert wait_for(lambda: _grade(demo.platform_url, "demo-learner-07") == "4 / 5 Completed", "the browser's grade") is True


AXE_DRIVER = r"""
"use strict";
const { launch } = require(process.env.SMEB_E2E_LIB);
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
async function main() {
  const opts = JSON.parse(process.argv[2]);
  const { context, close, errors } = await launch({ locale: "nb-NO" });
  if (opts.cookies) await context.addCookies(opts.cookies);  // the launching browser's staff cookie: the roster opens only there
  const out = { violations: [], scans: 0, langs: [], notBound: [] };
  try {
    const page = await context.newPage();
    for (const url of opts.urls) {
      await page.goto(url);
      await page.addScriptTag({ path: process.env.SMEB_AXE });
      const found = await page.evaluate(async (tags) => {
        const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
        return r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
      }, TAGS);
      found.forEach((v) => out.violations.push({ url, ...v }));
      out.langs.push(await page.evaluate(() => document.documentElement.lang));
      if (await page.locator("#not-bound").count()) out.notBound.push(url);  // the 403 page instead of the page meant
      out.scans += 1;
    }
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
"""


@pytest.mark.browser
def test_axe_finds_no_wcag_violations_on_the_demo_lms_pages_and_the_roster(demo: Running, tmp_path: Path) -> None:
    import json
    import shutil

    axe = REPO / "node_modules" / "axe-core" / "axe.min.js"
    if not shutil.which("chromium") or not axe.is_file():
        pytest.skip("needs Debian's chromium, npm playwright-core and axe-core")
    with FormBrowser() as browser:
        page = browser.launch(demo.platform_url, LINK, "demo-kari")
        roster = re.search(r'href="(/roster/[^"]+)" id="smeb-roster-link"', page.text)
        assert roster
        # The roster opens only in the browser that did the launch (smeb_lti.lti.binding): chromium gets its launch cookie.
        cookies = [{"name": c.name, "value": c.value, "domain": c.domain.lstrip("."), "path": c.path, "httpOnly": True, "sameSite": "Lax"}
                   for c in browser.client.cookies.jar if c.name == "smeb_staff"]
        assert cookies
    urls = [demo.platform_url + p for p in ("/", "/?lang=en", "/gradebook", "/log")] + [demo.tool_url + roster.group(1)]
    driver = tmp_path / "drive-axe-demo.js"
    driver.write_text(AXE_DRIVER, encoding="utf-8")
    env = {**os.environ, "SMEB_E2E_LIB": str(REPO / "tests" / "e2e" / "js" / "lib.js"), "SMEB_AXE": str(axe), "NODE_PATH": str(REPO / "node_modules")}
    process = subprocess.Popen(["node", str(driver), json.dumps({"urls": urls, "cookies": cookies})], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"the axe driver timed out:\n{err[-3000:]}")
    assert process.returncode == 0, err[-3000:]
    result = json.loads(out)
    assert result["scans"] == len(urls) and result["langs"] == ["nb", "en", "en", "en", "nb"]  # the language choice sticks (cookie)
    assert result["notBound"] == []  # the roster itself was scanned, not the "open it from the LMS" page
    assert result["violations"] == [], json.dumps(result["violations"], indent=1, ensure_ascii=False)


def test_smeb_serve_runs_the_tool_alone_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below, after the process ends
    process = subprocess.Popen([*LIFETIME, sys.executable, "-m", "smeb_lti", "serve", "--port", str(port)], env=_env(tmp_path), cwd=tmp_path,
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        keys = wait_for(lambda: process.poll() is None and httpx.get(f"http://127.0.0.1:{port}/.well-known/jwks.json", timeout=5).json(),
                        "smeb serve", START_TIMEOUT)
        assert keys["keys"][0]["alg"] == "RS256"
        assert httpx.get(f"http://127.0.0.1:{port}/play/unknown", timeout=5).status_code == 404
    finally:
        stop([process])
        log.close()
    assert "gunicorn" in (tmp_path / "serve.log").read_text()  # it says what to use in production


def test_smeb_ags_worker_once_reports_what_it_delivered(demo: Running) -> None:
    result = subprocess.run([sys.executable, "-m", "smeb_lti", "ags-worker", "--once"], env=_env(demo.data_dir), cwd=demo.data_dir,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"delivered \d+, parked 0, rescheduled 0, requests \d+", result.stdout)
