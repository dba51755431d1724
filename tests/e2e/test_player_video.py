"""Video statements from the player (ADL video profile) for the xAPI, cmi5 and LTI runtimes, in one chromium.

A real 8-second video (made with ffmpeg) replaces the fixture's placeholder; the driver watches it like a learner
who skips around (tests/e2e/js/drive-video.js). What the real embedded LRS stored (xAPI, cmi5) and what the LTI
events endpoint received (turned into statements by the tool's own ``smeb_lti.play``) is checked against
``xapi.validation`` and the SMEB profile's video templates.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from content import load_course
from tests.e2e.test_player_browser import (
    FIXTURE,
    _QuietHandler,
    assemble_package,
)
from tests.e2e.test_player_lrs import ACTOR, statements
from tests.support.lrs_server import LrsServer, start_lrs_server
from tests.support.node import run_driver
from xapi.profile import match_templates
from xapi.validation import validate_statement

pytestmark = pytest.mark.browser

VIDEO = "https://w3id.org/xapi/video/"
TIME, FROM, TO = VIDEO + "extensions/time", VIDEO + "extensions/time-from", VIDEO + "extensions/time-to"
PROGRESS, SEGMENTS = VIDEO + "extensions/progress", VIDEO + "extensions/played-segments"
LENGTH, SESSION = VIDEO + "extensions/length", VIDEO + "extensions/session-id"
CC, CC_LANG = VIDEO + "extensions/cc-subtitle-enabled", VIDEO + "extensions/cc-subtitle-lang"
CMI5_SESSION = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
VIDEO_ID = "film"
LENGTH_S = 8.0


def make_video(path: Path) -> None:
    """An 8 s VP9-in-MP4 test picture (Debian's chromium plays it; the fixture's clip.mp4 is a placeholder)."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is needed to make the test video (apt-get install -y ffmpeg)"
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc=duration={LENGTH_S:g}:size=64x48:rate=10",
         "-c:v", "libvpx-vp9", "-b:v", "50k", "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=120,
    )


class _RangeHandler(BaseHTTPRequestHandler):
    """Serves the test video with byte ranges, as every real web server and CDN does: chromium can seek only
    in media whose server honours ``Range`` (the LRS's and the LTI test site's static handlers do not)."""

    video: bytes = b""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body, status = self.video, 200
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if match:
            first = int(match.group(1))
            last = min(int(match.group(2)) if match.group(2) else len(body) - 1, len(body) - 1)
            body, status = body[first : last + 1], 206
        self.send_response(status)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        if match:
            self.send_header("Content-Range", f"bytes {first}-{first + len(body) - 1}/{len(self.video)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def use_video(pkg: Path, url: str) -> None:
    """Point the package's video block at the range-serving URL (everything else stays as packaged)."""
    data = json.loads((pkg / "course.json").read_text(encoding="utf-8"))
    blocks = [b for m in data["modules"] for lesson in m["lessons"] for b in lesson["blocks"] if b["id"] == VIDEO_ID]
    assert len(blocks) == 1
    blocks[0]["src"] = url
    (pkg / "course.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def verb(s: dict[str, Any]) -> str:
    return str(s["verb"]["id"]).rsplit("/", 1)[-1]


def video_statements(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in found if s["object"].get("definition", {}).get("type") == VIDEO + "activity-type/video"]


def segments(text: str) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in (part.split("[.]") for part in text.split("[,]"))]


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One driver run, one browser: the same viewing in an xAPI, a cmi5 and an LTI launch of the fixture course."""
    from smeb_lti.db import migrate

    tmp = tmp_path_factory.mktemp("video")
    db_url = f"sqlite:///{tmp / 'lrs.db'}"  # the LRS stores and answers; its storage is tested on both databases elsewhere
    migrate(db_url)
    course = load_course(FIXTURE)
    lrs: LrsServer = start_lrs_server(db_url)
    site = tmp / "site"
    site.mkdir()
    events: list[dict[str, Any]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(site), events=events, refuse_first=[0]))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    make_video(tmp / "clip.mp4")
    video_server = ThreadingHTTPServer(("127.0.0.1", 0), type("Video", (_RangeHandler,), {"video": (tmp / "clip.mp4").read_bytes()}))
    threading.Thread(target=video_server.serve_forever, daemon=True).start()
    video_url = f"http://127.0.0.1:{video_server.server_address[1]}/clip.mp4"
    try:
        base_site = f"http://127.0.0.1:{server.server_address[1]}/"
        runs: list[dict[str, str]] = []
        packages = {}
        for runtime in ("xapi", "cmi5"):
            pkg = assemble_package(course, runtime, tmp / runtime / "pkg")
            use_video(pkg, video_url)
            packages[runtime] = lrs.serve_folder(pkg)
        registration = str(uuid.uuid4())
        runs.append({"name": "xapi", "launchUrl": packages["xapi"] + "index.html?" + urlencode({
            "endpoint": lrs.endpoint, "auth": lrs.auth_header, "registration": registration,
            "actor": json.dumps(ACTOR), "activity_id": course.id})})
        cmi5_launch = lrs.create_cmi5_launch(ACTOR, course.id + "/au", packages["cmi5"] + "index.html")
        runs.append({"name": "cmi5", "launchUrl": cmi5_launch})
        lti = assemble_package(course, "lti", site / "pkg", eventsUrl=base_site + "events", token="launch-token-1",
                               learner={"id": "u-1", "name": "Ola"})
        use_video(lti, video_url)
        runs.append({"name": "lti", "launchUrl": base_site + "pkg/index.html"})
        result = run_driver("drive-video.js", {"runs": runs, "video": VIDEO_ID, "offline": "xapi"})
        cmi5_registration = dict(x.split("=", 1) for x in cmi5_launch.split("?", 1)[1].split("&"))["registration"]
        yield {
            "result": result,
            "course": course,
            "xapi": statements(lrs, registration=registration),
            "cmi5": statements(lrs, registration=cmi5_registration),
            "cmi5_registration": cmi5_registration,
            "lti": list(events),
        }
    finally:
        for stop in (server, video_server):
            stop.shutdown()
            stop.server_close()
        lrs.stop()


def check_viewing(found: list[dict[str, Any]], *, with_completed: bool) -> None:
    """The statements of the scripted viewing: times, seeks, segments, one session, templates matched."""
    order = [verb(s) for s in found]
    assert order.count("played") == 3 and order.count("seeked") == 2 and order.count("paused") >= 2
    assert order.count("completed") == (1 if with_completed else 0)
    assert order[:3] == ["played", "paused", "seeked"], "user actions only: no statement per timeupdate"
    played = [s["result"]["extensions"][TIME] for s in found if verb(s) == "played"]
    assert played[0] == pytest.approx(0, abs=0.3) and played[1] == pytest.approx(6, abs=0.3) and played[2] == pytest.approx(2.5, abs=0.3)
    seeks = [(s["result"]["extensions"][FROM], s["result"]["extensions"][TO]) for s in found if verb(s) == "seeked"]
    first_pause_at = next(s for s in found if verb(s) == "paused")["result"]["extensions"][TIME]
    assert 3 <= first_pause_at < 4
    assert seeks[0] == (first_pause_at, pytest.approx(6, abs=0.05))
    assert seeks[1] == (pytest.approx(LENGTH_S, abs=0.3), pytest.approx(2.5, abs=0.05))
    first_pause = next(s for s in found if verb(s) == "paused")
    assert segments(first_pause["result"]["extensions"][SEGMENTS]) == [(0, pytest.approx(first_pause["result"]["extensions"][TIME]))]
    assert first_pause["result"]["extensions"][PROGRESS] == pytest.approx(first_pause["result"]["extensions"][TIME] / LENGTH_S, abs=0.01)
    sessions = {s["context"]["extensions"][SESSION] for s in found}
    assert len(sessions) == 1
    for s in found:
        validate_statement(s)
        # The length is known once the media's metadata has loaded (preload="none": after the first play event).
        if verb(s) != "played" or LENGTH in s["context"]["extensions"]:
            assert s["context"]["extensions"][LENGTH] == pytest.approx(LENGTH_S, abs=0.1)
        templates = match_templates(s)
        assert templates == ["https://smeb.no/xapi/templates/video-" + verb(s)], (verb(s), templates)
    if with_completed:
        done = next(s for s in found if verb(s) == "completed")
        assert done["result"]["completion"] is True and done["result"]["duration"].startswith("PT")
        assert done["result"]["extensions"][PROGRESS] >= 0.95
        covered = sum(b - a for a, b in segments(done["result"]["extensions"][SEGMENTS]))
        assert covered / LENGTH_S == pytest.approx(done["result"]["extensions"][PROGRESS], abs=0.01)


def test_the_player_watched_the_video_in_every_launch_without_errors(watched: dict[str, Any]) -> None:
    result = watched["result"]
    assert result["errors"] == [], "\n".join(result["errors"])
    for name, run in result["runs"].items():
        assert run["after"]["completed"] is True and run["done"] == "1", name
        assert run["before"]["completed"] is False, ("seeking past the middle is not watching it", name, run)


def test_xapi_launch_sends_played_paused_seeked_and_one_completed_even_when_offline_in_between(watched: dict[str, Any]) -> None:
    assert watched["result"]["runs"]["xapi"]["pendingOffline"] > 0, "statements waited in the outbox while offline"
    found = video_statements(watched["xapi"])
    check_viewing(found, with_completed=True)
    for s in found:
        assert s["context"]["extensions"][CC] is True and s["context"]["extensions"][CC_LANG] == "nb"
        assert s["object"]["id"] == watched["course"].activity_id(VIDEO_ID)
    assert len({s["id"] for s in watched["xapi"]}) == len(watched["xapi"])


def test_cmi5_launch_sends_the_video_statements_as_cmi5_allowed_ones_with_session_and_registration(watched: dict[str, Any]) -> None:
    found = watched["cmi5"]
    order = [verb(s) for s in found]
    assert order[:2] == ["launched", "initialized"]
    au_session = found[1]["context"]["extensions"][CMI5_SESSION]
    video = video_statements(found)
    # The video's own "completed" is a cmi5 allowed statement: about the video, without the cmi5 category.
    check_viewing(video, with_completed=True)
    for s in video:
        assert s["context"]["registration"] == watched["cmi5_registration"]
        assert s["context"]["extensions"][CMI5_SESSION] == au_session
        assert "https://w3id.org/xapi/cmi5/context/categories/cmi5" not in {c["id"] for c in s["context"]["contextActivities"]["category"]}


def test_lti_launch_posts_video_events_that_the_tool_turns_into_the_same_statements(watched: dict[str, Any]) -> None:
    from smeb_lti.play.events import parse_event
    from smeb_lti.play.statements import statements_for

    course = watched["course"]
    raw = [e for e in watched["lti"] if e["type"] == "video"]
    assert raw and all(e["data"]["blockId"] == VIDEO_ID for e in raw)
    attempt = str(uuid.uuid4())
    actor = {"objectType": "Agent", "account": {"homePage": "https://lms.example.no", "name": "pseudo-1"}}
    found = []
    for e in raw:
        event = parse_event(e, course, datetime.now(UTC))
        found.extend(statements_for(event, course, actor, attempt, "nb"))
    check_viewing(found, with_completed=True)
