"""The one course player, played in Debian's chromium inside a test LMS (scorm-again provides the SCORM API).

The harness here unpacks the packages ``scorm_export.build`` makes (or, for LTI and standalone, assembles a
folder by the same contract: player files as they are + course.json + media + smeb-config.json), serves it
with a small threaded HTTP server on 127.0.0.1, and runs node drivers (tests/e2e/js/) that work through the
course like a learner.
"""

from __future__ import annotations

import json
import shutil
import threading
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from content import CourseError, discover, load_course
from content.export import course_to_json
from content.model import Course
from scorm_export.build import FORMATS, build_package
from scorm_export.errors import PackageSizeWarning
from tests.scorm_export.moodle_rules import moodle_2004_errors
from tests.support.node import run_driver

REPO = Path(__file__).resolve().parents[2]
PLAYER = REPO / "scorm_export" / "player"
JS = Path(__file__).resolve().parent / "js"
NODE_MODULES = REPO / "node_modules"
FIXTURE = REPO / "tests" / "fixtures" / "courses" / "valid" / "all-blocks"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.browser


def playable_courses() -> list[Path]:
    """Every shipped course that validates today; the all-blocks fixture when none does."""
    found = []
    for folder in discover():
        try:
            load_course(folder)
        except CourseError:
            continue
        found.append(folder)
    return found or [FIXTURE]


def assemble_package(course: Course, runtime: str, dest: Path, **config: Any) -> Path:
    """The package folder the browser plays.

    SCORM 1.2/2004, cmi5 and xAPI: the zip the packager builds (``scorm_export.build``), unpacked. LTI and
    standalone (not zipped by the packager) and any extra config: assembled by the same contract, player files
    copied as they are + course.json + media + smeb-config.json.
    """
    if runtime in FORMATS and not config:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PackageSizeWarning)  # large course videos are not this test's concern
            built = build_package(course, runtime, dest.parent / "zips")
        with zipfile.ZipFile(built) as archive:
            archive.extractall(dest)
        assert json.loads((dest / "smeb-config.json").read_text(encoding="utf-8"))["runtime"] == runtime
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    for item in PLAYER.iterdir():
        if item.is_file():
            shutil.copy2(item, dest / item.name)
    (dest / "course.json").write_text(course_to_json(course), encoding="utf-8")
    for rel in course.media_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(course.root / rel, target)
    (dest / "smeb-config.json").write_text(json.dumps({"runtime": runtime, "courseId": course.id, **config}), encoding="utf-8")
    return dest


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static files, plus POST /events: the LTI runtime's contract (docs/player.md), recorded for assertions."""

    events: list[dict[str, Any]]
    refuse_first: list[int]

    def __init__(self, *args: Any, events: list[dict[str, Any]], refuse_first: list[int], **kwargs: Any) -> None:
        self.events = events
        self.refuse_first = refuse_first
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/events" or self.headers.get("X-SMEB-Launch-Token") != "launch-token-1":
            self.send_response(403)
        elif self.refuse_first[0] > 0:
            self.refuse_first[0] -= 1  # a flaky network or a restarting tool: the player must retry
            self.send_response(503)
        else:
            event = json.loads(body)
            known = any(e["id"] == event["id"] for e in self.events)
            if not known:
                self.events.append(event)
            self.send_response(409 if known else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        # Like the LTI tool, render the LTI config per launch with the newest state the player posted (resume).
        states = [e["data"] for e in self.events if e["type"] == "state"]
        target = Path(self.translate_path(self.path))
        if target.name == "smeb-config.json" and target.is_file() and states:
            config = json.loads(target.read_text(encoding="utf-8"))
            if config.get("runtime") == "lti":
                config["state"] = states[-1]["state"]
                body = json.dumps(config).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        super().do_GET()

    def end_headers(self) -> None:
        # The player must work without caches; a stale course.json would hide bugs between tests.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


@dataclass
class Site:
    root: Path
    base: str
    events: list[dict[str, Any]]
    refuse_first: list[int]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """A folder served on 127.0.0.1 (free port) for the length of one test, with the test LMS host and scorm-again."""
    root = tmp_path / "site"
    (root / "lib").mkdir(parents=True)
    shutil.copy2(JS / "host.html", root / "host.html")
    for name in ("scorm12", "scorm2004"):
        shutil.copy2(NODE_MODULES / "scorm-again" / "dist" / f"{name}.js", root / "lib" / f"{name}.js")
    events: list[dict[str, Any]] = []
    refuse_first = [0]
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_QuietHandler, directory=str(root), events=events, refuse_first=refuse_first)
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(root, f"http://127.0.0.1:{server.server_address[1]}/", events, refuse_first)
    finally:
        server.shutdown()
        server.server_close()


def scorm_launch(pkg: Path) -> str:
    """The launch href of the SCO in the built imsmanifest.xml, as an LMS reads it."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.parse(str(pkg / "imsmanifest.xml"), parser).getroot()
    hrefs = [el.get("href") for el in root.iter() if etree.QName(el).localname == "resource" and el.get("href")]
    assert len(hrefs) == 1, hrefs
    return "pkg/" + hrefs[0]


def expected_scaled(course: Course, wrong: set[str]) -> float:
    points = sum(q.points for q in course.quizzes if q.id not in wrong)
    return round(points / course.max_points, 4) if course.max_points else 0.0


def first_quiz_and_later_wrong(course: Course) -> tuple[str, set[str]]:
    """Reload after the first quiz; answer every other quiz wrong so the score lands under a known value."""
    quizzes = [q.id for q in course.quizzes]
    return quizzes[0], set(quizzes[1::2])


COURSES = playable_courses()
# Resume is checked on the longest course for every runtime: most blocks, so the fullest state and the latest lesson.
LONGEST = max(COURSES, key=lambda p: len(list(load_course(p).blocks())))


@pytest.mark.parametrize("course_dir", COURSES, ids=[p.name for p in COURSES])
def test_scorm12_learner_works_through_the_course_resumes_after_reload_and_gets_status_score_and_interactions(
    course_dir: Path, site: Site
) -> None:
    course = load_course(course_dir)
    assert course.quizzes, "the player tests need a course with quizzes"
    reload_after, wrong = first_quiz_and_later_wrong(course)
    pkg = assemble_package(course, "scorm12", site.root / "pkg")
    result = run_driver(
        "drive-scorm.js",
        {
            "base": site.base,
            "pkg": scorm_launch(pkg),
            "api": "scorm12",
            "course": str(pkg / "course.json"),
            "wrong": sorted(wrong),
            "reloadAfter": reload_after,
        },
    )
    assert result["errors"] == [], "\n".join(result["errors"])
    scaled = expected_scaled(course, wrong)
    passed = scaled >= course.passing_score
    cmi = result["lms"]["last"]
    assert cmi["core"]["lesson_status"] == ("passed" if passed else "failed")
    assert float(cmi["core"]["score"]["raw"]) == pytest.approx(scaled * 100, abs=0.01)
    assert (cmi["core"]["score"]["min"], cmi["core"]["score"]["max"]) == ("0", "100")
    assert len(cmi["suspend_data"]) < 4096
    assert result["suspendLength"] < 4096
    sets: dict[str, list[str]] = {}
    for element, value in result["lms"]["sets"]:
        sets.setdefault(element, []).append(value)
    # Every quiz became an interaction with the spec's single-character choice responses and a result.
    quiz_ids = {q.id for q in course.quizzes}
    recorded = {v for k, vs in sets.items() if k.startswith("cmi.interactions.") and k.endswith(".id") for v in vs}
    assert quiz_ids <= recorded
    results = [v for k, vs in sets.items() if k.endswith(".result") for v in vs]
    assert results.count("wrong") >= len(wrong) and "correct" in results
    assert all(
        v in ("t", "f") or all(part in "abcdefgh" for part in v.split(","))
        for k, vs in sets.items()
        if k.endswith(".student_response") and _interaction_type(sets, k) in ("choice", "true-false")
        for v in vs
    )
    import re

    assert all(re.fullmatch(r"\d{4}:\d{2}:\d{2}\.\d{2}", v) for v in sets["cmi.core.session_time"])
    # Resume: after the reload the learner is on the same lesson with the same progress and locked answer.
    reload = result["reload"]
    assert reload["after"]["lesson"] == reload["before"]["lesson"]
    assert reload["after"]["state"] == reload["before"]["state"]
    assert reload_after in reload["after"]["lockedQuizzes"]
    assert reload_after in reload["after"]["done"]
    assert (reload["finishesBeforeReload"], reload["finishesAfterReload"]) == (False, 1), "LMSFinish on pagehide"
    # Commits happen at sensible moments, not on every SetValue.
    assert 0 < result["lms"]["commits"] < len(result["lms"]["sets"])
    # The reflection text never reaches the LMS.
    assert not any("PRIVAT-REFLEKSJON" in str(v) for _, v in result["lms"]["sets"])


def _interaction_type(sets: dict[str, list[str]], key: str) -> str:
    prefix = key.rsplit(".", 1)[0]
    return sets.get(prefix + ".type", [""])[-1]


@pytest.mark.parametrize("course_dir", [LONGEST], ids=[LONGEST.name])
def test_scorm2004_learner_gets_completion_success_scaled_score_and_typed_interactions(course_dir: Path, site: Site) -> None:
    course = load_course(course_dir)
    reload_after, _ = first_quiz_and_later_wrong(course)
    wrong = {q.id for q in course.quizzes}  # everything wrong: a failed, completed attempt
    pkg = assemble_package(course, "scorm2004", site.root / "pkg")
    result = run_driver(
        "drive-scorm.js",
        {
            "base": site.base,
            "pkg": scorm_launch(pkg),
            "api": "scorm2004",
            "course": str(pkg / "course.json"),
            "wrong": sorted(wrong),
            "reloadAfter": reload_after,
            "locale": "en-GB",
        },
    )
    assert result["errors"] == [], "\n".join(result["errors"])
    assert result["lang"] == "en"
    cmi = result["lms"]["last"]
    assert cmi["completion_status"] == "completed"
    assert cmi["success_status"] == "failed"
    assert float(cmi["score"]["scaled"]) == 0
    # Moodle grades from raw against 100 (mod/scorm/locallib.php): the percentage, as in SCORM 1.2.
    assert (float(cmi["score"]["raw"]), cmi["score"]["min"], cmi["score"]["max"]) == (0, "0", "100")
    assert float(cmi["progress_measure"]) == 1
    assert cmi["exit"] == "normal"
    sets: dict[str, list[str]] = {}
    for element, value in result["lms"]["sets"]:
        sets.setdefault(element, []).append(value)
    types = {v for k, vs in sets.items() if k.startswith("cmi.interactions.") and k.endswith(".type") for v in vs}
    assert {"choice", "true-false"} & types
    # What Moodle's scorm_13.js would refuse with 406 (scorm-again lets hyphens through; Moodle does not).
    assert moodle_2004_errors(result["lms"]["sets"]) == []
    # The end screen fits an LMS that shows the course in its own window: no "close the window", no close button.
    assert "close the window" not in result["exited"]["text"].lower() and result["exited"]["closeButton"] is False
    assert "learning platform" in result["exited"]["text"]
    assert all(v.startswith("PT") for v in sets["cmi.session_time"])
    assert sets["adl.nav.request"] == ["exitAll"]
    reload = result["reload"]
    assert reload["after"]["lesson"] == reload["before"]["lesson"]
    assert reload_after in reload["after"]["lockedQuizzes"]
    assert reload["finishesAfterReload"] == 1, "Terminate on pagehide"
    assert not any("PRIVAT-REFLEKSJON" in str(v) for _, v in result["lms"]["sets"])


AXE_COURSES = [FIXTURE] + [p for p in COURSES if p != FIXTURE and "kundeverksted" in p.name]


@pytest.mark.parametrize("width,height", [(360, 740), (1280, 900)], ids=["360px", "1280px"])
@pytest.mark.parametrize("locale,lang", [("nb-NO", "nb"), ("en-GB", "en")], ids=["nb", "en"])
@pytest.mark.parametrize("course_dir", AXE_COURSES, ids=[p.name for p in AXE_COURSES])
def test_axe_finds_no_wcag_violations_on_any_block_type_in_either_language_and_width(
    course_dir: Path, locale: str, lang: str, width: int, height: int, site: Site
) -> None:
    course = load_course(course_dir)
    pkg = assemble_package(course, "standalone", site.root / "pkg")
    wrong = [q.id for q in course.quizzes][:1]  # one wrong answer so both feedback styles are on screen
    result = run_driver(
        "drive-axe.js",
        {
            "url": site.base + "pkg/index.html",
            "course": str(pkg / "course.json"),
            "locale": locale,
            "width": width,
            "height": height,
            "wrong": wrong,
        },
    )
    assert result["errors"] == [], "\n".join(result["errors"])
    assert result["lang"] == lang
    assert result["scans"] >= 2 * sum(len(m.lessons) for m in course.modules)
    if course_dir == FIXTURE:
        assert {
            "text",
            "video",
            "case",
            "quiz:single",
            "quiz:multiple",
            "quiz:true-false",
            "survey:scale",
            "survey:likert",
            "survey:free-text",
            "reflection",
            "action-plan",
            "workshop",
        } <= set(result["blockTypes"])
    assert result["violations"] == [], json.dumps(result["violations"], indent=1, ensure_ascii=False)
    assert result["smallTargets"] == []


def test_lti_runtime_posts_every_learner_event_once_with_the_launch_token_despite_refused_requests_and_resumes(site: Site) -> None:
    course = load_course(LONGEST)
    wrong = {q.id for q in course.quizzes[:1]}
    reload_after = course.quizzes[1].id if len(course.quizzes) > 1 else course.quizzes[0].id
    pkg = assemble_package(
        course,
        "lti",
        site.root / "pkg",
        eventsUrl=site.base + "events",
        token="launch-token-1",
        learner={"id": "u-1", "name": "Ola"},
        locale="en",
    )
    site.refuse_first[0] = 3
    result = run_driver(
        "drive-lrs.js",
        {"launchUrl": site.base + "pkg/index.html", "course": str(pkg / "course.json"), "wrong": sorted(wrong), "reloadAfter": reload_after},
    )
    # Resume: the reloaded page gets the newest posted state in its config (as from the tool) and continues there.
    assert result["reload"]["after"] == {"lesson": result["reload"]["before"]["lesson"], "state": result["reload"]["before"]["state"]}
    assert result["errors"] == [], "\n".join(result["errors"])
    assert result["lang"] == "en"
    assert site.refuse_first[0] == 0
    types = [e["type"] for e in site.events]
    assert types[0] == "initialized" and types[-1] == "terminated"
    assert types.count("initialized") == 2, "the reload started a second page session"
    assert len({e["id"] for e in site.events}) == len(site.events)
    answered = [e["data"]["blockId"] for e in site.events if e["type"] == "answered"]
    assert {q.id for q in course.quizzes} <= set(answered)
    outcome = [e["data"] for e in site.events if e["type"] == "outcome"][-1]
    assert outcome["completed"] is True
    assert outcome["score"]["scaled"] == pytest.approx(expected_scaled(course, wrong), abs=1e-4)
    states = [e["data"]["state"] for e in site.events if e["type"] == "state"]
    assert states and all(len(s) < 4096 for s in states)
    assert "PRIVAT-REFLEKSJON" not in json.dumps(site.events)


def test_keyboard_user_answers_a_quiz_sees_focus_and_feedback_and_the_language_choice_survives_a_reload(site: Site) -> None:
    course = load_course(FIXTURE)
    pkg = assemble_package(course, "standalone", site.root / "pkg")
    data = json.loads((pkg / "course.json").read_text(encoding="utf-8"))
    quiz = data["modules"][0]["lessons"][0]["blocks"][3]
    assert quiz["id"] == "q-single"
    quiz["question"]["nb"] = '<img src=x onerror="window.pwned=1"> Hva betaler ansvarsforsikringen?'
    (pkg / "course.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = run_driver("drive-ui.js", {"url": site.base + "pkg/index.html", "quiz": "q-single", "video": "film", "text": "intro"})
    assert result["errors"] == [], "\n".join(result["errors"])
    assert result["pwnedText"] is True and result["pwned"] is False, "course text is shown as text, never run"
    assert result["reachedByTab"] and result["focusOutline"] == "visible"
    assert result["feedback"].startswith("Riktig!")
    assert result["media"] == {
        "poster": "media/poster.png",
        "preload": "none",
        "tracks": [["captions", "nb", "media/clip.nb.vtt"], ["captions", "en", "media/clip.en.vtt"]],
    }
    assert result["images"] == [["Et enkelt diagram", "lazy"]]
    assert (result["langBefore"], result["langAfter"], result["langAfterReload"]) == ("nb", "en", "en")
    assert result["titleAfter"] == "All blocks"
    assert result["quizLockedAfterReload"] is True


def test_scorm12_mastery_score_from_the_lms_overrides_the_course_passing_score(site: Site) -> None:
    course = load_course(FIXTURE)
    pkg = assemble_package(course, "scorm12", site.root / "pkg")
    wrong = {"q-tf"}  # 4 of 5 points: passes the course's 50 %, fails the LMS's 90
    assert expected_scaled(course, wrong) >= course.passing_score
    result = run_driver(
        "drive-scorm.js",
        {
            "base": site.base,
            "pkg": scorm_launch(pkg),
            "api": "scorm12",
            "course": str(pkg / "course.json"),
            "wrong": sorted(wrong),
            "mastery": "90",
        },
    )
    assert result["errors"] == [], "\n".join(result["errors"])
    assert result["lms"]["last"]["core"]["lesson_status"] == "failed"
    assert result["summary"] == "statusFailed"


# Elements a SCO must leave alone outside normal mode: the LMS owns status in browse/review (SCORM 1.2 RTE
# 3.4.2.1.8 lesson_mode; SCORM 2004 RTE 4.2.13 cmi.mode: "review"/"browse" attempts are not judged).
STATUS_ELEMENTS = ("cmi.core.lesson_status", "cmi.core.score.", "cmi.completion_status", "cmi.success_status", "cmi.score.",
                   "cmi.progress_measure", "cmi.interactions.", "cmi.suspend_data")


def test_scorm_browse_and_review_modes_change_no_status_score_or_interactions_and_review_is_read_only(site: Site) -> None:
    course = load_course(FIXTURE)
    pkgs = {api: assemble_package(course, api, site.root / f"pkg-{api}") for api in ("scorm12", "scorm2004")}
    runs = [
        {"name": f"{api}-{mode}", "api": api, "mode": mode, "pkg": f"pkg-{api}/" + scorm_launch(pkgs[api]).split("/", 1)[1]}
        for api in ("scorm12", "scorm2004")
        for mode in ("browse", "review")
    ]
    result = run_driver("drive-modes.js", {"base": site.base, "course": str(pkgs["scorm12"] / "course.json"), "runs": runs})
    assert result["errors"] == [], "\n".join(result["errors"])
    for run in runs:
        seen = result["runs"][run["name"]]
        assert seen["lms"]["finished"] is True, run["name"]
        changed = [(k, v) for k, v in seen["lms"]["sets"] if k.startswith(STATUS_ELEMENTS)]
        if run["name"] == "scorm12-browse":
            # A fresh SCO in browse mode says "browsed" itself: Moodle makes a status left "not attempted" at
            # LMSFinish "completed" (scorm_12.js StoreData), and Preview then locked the attempt for review.
            assert changed == [("cmi.core.lesson_status", "browsed")], changed
            assert seen["lms"]["last"]["core"]["lesson_status"] == "browsed"
        else:
            assert changed == [], (run["name"], changed)
        if run["mode"] == "review":
            assert [k for k, _ in seen["lms"]["sets"] if k.startswith("cmi.")] == [], "review writes nothing"
        if run["mode"] == "browse":
            assert seen["summary"] == "statusPassed", "the learner still sees how they did"
            assert "registreres ikke" in seen["notice"]
        else:
            assert seen["enabledControls"] == [] and seen["lessons"] == sum(len(m.lessons) for m in course.modules)
            assert "kan ikke endre" in seen["notice"]
