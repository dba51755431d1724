"""End to end over real HTTP on 127.0.0.1: ``smeb demo`` (tool + demo LMS) and the tool under gunicorn.

Every step is what a browser does: the demo LMS's start button, the tool's OIDC login, the
platform's signed id_token, the player page and its events, the grade in the LMS's gradebook,
deep linking, and the NRPS roster. Servers are started by the tests and stopped by PID.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from smeb_lti.demo_lms.client import FormBrowser, forms_of
from tests.support.demo import LINK, Running, answer_key, demo_env, keyed_course
from tests.support.node import require_chromium, run_node
from tests.support.servers import LIFETIME, START_TIMEOUT, free_port, stop, wait_for


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
        from smeb_lti.demo_lms.store import USERS_BY_ID

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

    from xapi.delivery.destinations import load_destinations

    engine = create_engine(f"sqlite:///{running.data_dir / 'smeb.db'}")
    with engine.connect() as conn:
        lrs = load_destinations(conn)["demo-lrs"]
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
    require_chromium()
    options = {"platformUrl": demo.platform_url, "link": LINK, "user": "demo-learner-07", "wrong": ["q-tf"], "course": keyed_course()}
    result = run_node(tmp_path / "drive-demo.js", options, source=DRIVER, timeout=300)
    assert result["errors"] == [], "\n".join(result["errors"])  # no CSP violations, no rejected events
    assert result["url"].startswith(demo.tool_url + "/play/") and result["lang"] == "nb"
    assert result["outcome"]["complete"] is True and result["outcome"]["points"] == 4
    # q-tf answered wrong on purpose: the LMS shows the server's 4 of 5, not whatever the browser claims.
    assert wait_for(lambda: _grade(demo.platform_url, "demo-learner-07") == "4 / 5 Completed", "the browser's grade") is True


AXE_DRIVER = r"""
"use strict";
const { launch, axeViolations } = require(process.env.SMEB_E2E_LIB);
async function main() {
  const opts = JSON.parse(process.argv[2]);
  const { context, close, errors } = await launch({ locale: "nb-NO" });
  if (opts.cookies) await context.addCookies(opts.cookies);  // the launching browser's staff cookie: the roster opens only there
  const out = { violations: [], scans: 0, langs: [], notBound: [] };
  try {
    const page = await context.newPage();
    for (const url of opts.urls) {
      await page.goto(url);
      const found = await axeViolations(page, 3);
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

    require_chromium(axe=True)
    with FormBrowser() as browser:
        page = browser.launch(demo.platform_url, LINK, "demo-kari")
        roster = re.search(r'href="(/roster/[^"]+)" id="smeb-roster-link"', page.text)
        assert roster
        # The roster opens only in the browser that did the launch (smeb_lti.lti.binding): chromium gets its launch cookie.
        cookies = [{"name": c.name, "value": c.value, "domain": c.domain.lstrip("."), "path": c.path, "httpOnly": True, "sameSite": "Lax"}
                   for c in browser.client.cookies.jar if c.name == "smeb_staff"]
        assert cookies
    urls = [demo.platform_url + p for p in ("/", "/?lang=en", "/gradebook", "/log")] + [demo.tool_url + roster.group(1)]
    result = run_node(tmp_path / "drive-axe-demo.js", {"urls": urls, "cookies": cookies}, source=AXE_DRIVER, timeout=300)
    assert result["scans"] == len(urls) and result["langs"] == ["nb", "en", "en", "en", "nb"]  # the language choice sticks (cookie)
    assert result["notBound"] == []  # the roster itself was scanned, not the "open it from the LMS" page
    assert result["violations"] == [], json.dumps(result["violations"], indent=1, ensure_ascii=False)


def test_smeb_serve_runs_the_tool_alone_until_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below, after the process ends
    process = subprocess.Popen([*LIFETIME, sys.executable, "-m", "smeb_lti", "serve", "--port", str(port)], env=demo_env(tmp_path), cwd=tmp_path,
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
    result = subprocess.run([sys.executable, "-m", "smeb_lti", "ags-worker", "--once"], env=demo_env(demo.data_dir), cwd=demo.data_dir,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"delivered \d+, parked 0, rescheduled 0, requests \d+", result.stdout)
