"""In LTI mode the tool grades, so the learner's browser never gets the answer key (issue 11, item 9).

The tool's ``course.json`` carries no ``correct`` and no choice feedback (it says what is right); the player learns
right or wrong, with the feedback of the chosen choices only, from the tool's answer to the ``answered`` event, and
from ``smeb-config.json`` when it resumes. The browser test plays the real tool (Flask app on 127.0.0.1) in chromium.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from content import load_course
from content.export import course_to_json
from smeb_lti.db import session_scope
from smeb_lti.lti import claims as c
from smeb_lti.lti import launches, registrations
from tests.support.app import COURSE_SETTINGS, dispose, make_app, register_platform
from tests.support.node import run_node
from tests.support.servers import serving

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "courses" / "valid"
ISSUER = "https://lms.example.no"


def _app(db_url: str, data_dir: Path) -> Flask:
    app = make_app(db_url, data_dir, courses=["all-blocks"], **COURSE_SETTINGS)
    register_platform(app, ISSUER)
    return app


def _launch(app: Flask, sub: str = "learner-1") -> str:
    """A stored learner launch (what the LTI layer saves after checking the id_token; that flow: test_demo_flow.py)."""
    claims: dict[str, Any] = {
        "iss": ISSUER, "sub": sub, "aud": "client-1", "name": "Ola Nordmann",
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST, c.VERSION: "1.3.0", c.DEPLOYMENT_ID: "dep-1",
        c.TARGET_LINK_URI: "https://tool.example/lti/launch", c.RESOURCE_LINK: {"id": "rl-1"},
        c.ROLES: ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        c.CUSTOM: {"course": "all-blocks"}, c.CONTEXT: {"id": "c1", "title": "Elektro"},
        c.LAUNCH_PRESENTATION: {"locale": "nb-NO"},
    }
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registration = registrations.find(session, ISSUER, "client-1")
        assert registration is not None
        return launches.save_launch(session, launches.new_launch_id(), registration.id, "client-1", claims, 3600).launch_id


@pytest.fixture
def app(migrated_db_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = _app(migrated_db_url, tmp_path / "data")
    yield app
    dispose(app)


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _quizzes(course: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for m in course["modules"] for lesson in m["lessons"] for b in lesson["blocks"] if b["type"] == "quiz"]


def test_the_tools_course_json_has_no_answer_key_and_no_choice_feedback(app: Flask) -> None:
    launch_id = _launch(app)
    served = app.test_client().get(f"/play/{launch_id}/course.json").get_json()
    assert "correct" not in _keys(served)
    assert served["grading"] == "server"
    quizzes = _quizzes(served)
    assert quizzes and all(set(choice) == {"id", "text"} for q in quizzes for choice in q["choices"])
    # Everything else a learner needs is still there (cases keep their feedback: they are not graded).
    assert [q["id"] for q in quizzes] == [q.id for q in load_course(FIXTURES / "all-blocks").quizzes]


def test_the_answer_event_is_answered_with_the_verdict_and_only_the_chosen_choices_feedback(app: Flask) -> None:
    launch_id = _launch(app)
    client = app.test_client()
    config = client.get(f"/play/{launch_id}/smeb-config.json").get_json()
    assert config["verdicts"] == {}

    def answer(block: str, response: list[str]) -> dict[str, Any]:
        event = {"id": str(uuid.uuid4()), "type": "answered", "courseId": config["courseId"], "data": {"blockId": block, "response": response}}
        reply = client.post(config["eventsUrl"], json=event, headers={config["tokenHeader"]: config["token"]})
        assert reply.status_code == 200, reply.get_data(as_text=True)
        return reply.get_json()  # type: ignore[no-any-return]

    right = answer("q-single", ["a"])
    assert right["verdict"] == {"correct": True, "feedback": {"a": {"nb": "Riktig.", "en": "Correct."}}}
    wrong = answer("q-multi", ["hierarki", "kaffe"])
    assert wrong["verdict"]["correct"] is False and set(wrong["verdict"]["feedback"]) == {"hierarki", "kaffe"}
    # A resumed player gets the verdicts of the stored answers, nothing about unanswered quizzes.
    again = client.get(f"/play/{launch_id}/smeb-config.json").get_json()
    assert set(again["verdicts"]) == {"q-single", "q-multi"}
    assert again["verdicts"]["q-multi"]["correct"] is False


DRIVER = r"""
"use strict";
const { launch, playerFrame, lessonIndex, doBlock, lessonsOf } = require(process.env.SMEB_E2E_LIB);
async function waitFor(fn, what) {
  for (let i = 0; i < 600; i++) { if (await fn()) return; await new Promise((r) => setTimeout(r, 100)); }
  throw new Error("timed out waiting for " + what);
}
async function main() {
  const opts = JSON.parse(process.argv[2]);
  const keyed = opts.course; // the course source's key: only the test knows which answers are right
  const { context, close, errors } = await launch({ locale: "nb-NO" });
  const out = { feedback: {}, served: null };
  try {
    const page = await context.newPage();
    await page.goto(opts.url);
    let frame = await playerFrame(page);
    out.served = await frame.evaluate(() => fetch("course.json").then((r) => r.text()));
    const lessons = lessonsOf(keyed);
    for (let guard = 0; guard < 200; guard++) {
      const li = await lessonIndex(frame);
      if (li >= lessons.length) break;
      for (const block of lessons[li].blocks) {
        await doBlock(frame, block, { wrong: opts.wrong });
        if (block.type === "quiz") {
          const fb = frame.locator(`section[data-block="${block.id}"] .feedback`);
          await waitFor(async () => /right|wrong/.test(await fb.getAttribute("class")), "the verdict of " + block.id);
          out.feedback[block.id] = { text: await fb.textContent(), cls: await fb.getAttribute("class"),
            notes: await frame.locator(`section[data-block="${block.id}"] .choice-feedback:not([hidden])`).allTextContents() };
        }
      }
      await frame.locator("#next").click();
    }
    await waitFor(() => frame.evaluate(() => window.SMEB.debug.pending() === 0), "the events to reach the tool");
    out.outcome = await frame.evaluate(() => window.SMEB.debug.outcome());
    out.summary = await frame.locator("#result-status").getAttribute("data-status");
    await page.reload();
    frame = await playerFrame(page);
    await frame.locator("#toc-toggle").click();
    await frame.locator("#toc .toc-lesson").first().click();
    const first = keyed.modules[0].lessons[0].blocks.find((b) => b.type === "quiz");
    out.afterReload = await frame.locator(`section[data-block="${first.id}"] .feedback`).textContent();
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}
main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
"""


@pytest.mark.browser
def test_in_chromium_the_lti_player_gives_feedback_and_the_score_without_the_key(tmp_path: Path) -> None:
    from smeb_lti.db import migrate

    db_url = f"sqlite:///{tmp_path / 'smeb.db'}"  # the storage itself is covered on both databases above
    migrate(db_url)
    app = _app(db_url, tmp_path / "data")
    launch_id = _launch(app, "learner-browser")
    try:
        with serving(app) as base:
            course = json.loads(course_to_json(load_course(FIXTURES / "all-blocks")))
            options = {"url": f"{base}/play/{launch_id}", "course": course, "wrong": ["q-tf"]}
            result = run_node(tmp_path / "drive-lti-key.js", options, source=DRIVER, timeout=300)
    finally:
        dispose(app)
    assert result["errors"] == [], "\n".join(result["errors"])
    assert '"correct"' not in result["served"]
    feedback = result["feedback"]
    assert set(feedback) == {q["id"] for q in _quizzes(course)}
    assert feedback["q-single"]["text"].startswith("Riktig!") and "right" in feedback["q-single"]["cls"]
    assert feedback["q-single"]["notes"] == ["Riktig."]
    assert feedback["q-tf"]["text"].startswith("Ikke helt riktig.") and "wrong" in feedback["q-tf"]["cls"]
    # The score on screen comes from the tool's verdicts: everything right but q-tf.
    tf_points = next(q["points"] for q in _quizzes(course) if q["id"] == "q-tf")
    assert result["outcome"]["points"] == course["maxPoints"] - tf_points
    assert result["outcome"]["judged"] is True and result["summary"] in ("statusPassed", "statusFailed")
    assert result["afterReload"].startswith("Riktig!"), "a resumed player shows the verdicts from its config"
