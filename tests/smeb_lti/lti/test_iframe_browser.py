"""In Debian's chromium: a launch inside a cross-site LMS iframe, where the state cookie cannot be used,
completes through the platform's postMessage storage (lti.put_data / lti.get_data), or, on an LMS
without it whose message hint works once (the demo LMS, like Moodle), in a new window that starts
a fresh launch at the LMS's own launch page."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.smeb_lti.lti.conftest import stored_launches
from tests.support.lti_platform import PlatformSim
from tests.support.node import run_node
from tests.support.servers import serving

pytestmark = pytest.mark.browser

DRIVER = Path(__file__).resolve().parent / "js" / "iframe_launch.js"
NEW_WINDOW_DRIVER = Path(__file__).resolve().parent / "js" / "embedded_new_window.js"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "courses" / "valid"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def tool_url(app: Flask) -> Iterator[str]:
    """The tool served over real HTTP; the browser reaches it as ``localhost`` (another site than the LMS on 127.0.0.1)."""
    with serving(app) as base:
        yield base.replace("127.0.0.1", "localhost")


@pytest.fixture
def course_installed(app: Flask) -> None:
    """The launch names ``custom.course = test-all-blocks``: install it, so the player page really loads."""
    from content import load_course
    from smeb_lti.courses import catalogue
    from smeb_lti.db import session_scope

    with session_scope(app.extensions["smeb.sessions"]) as session:
        catalogue.install(session, load_course(FIXTURES / "all-blocks"))


def test_an_iframe_launch_without_usable_cookies_completes_through_platform_storage(
    app: Flask, platform: PlatformSim, registration_id: int, course_installed: None, tool_url: str, tmp_path: Path
) -> None:
    assert Path(CHROMIUM).exists(), "chromium is needed: apt-get install -y chromium"
    url = f"{platform.issuer}/course?tool={tool_url}&client_id=client-a"
    options = {"chromium": CHROMIUM, "url": url, "expect": "/play/", "userDataDir": str(tmp_path / "profile")}
    result = run_node(DRIVER, options, timeout=300)
    assert result["frameUrl"] and result["frameUrl"].startswith(tool_url + "/play/"), result
    assert result["status"] == 200, app.test_client().get(result["frameUrl"][len(tool_url):]).get_data(as_text=True)
    # the state went through the platform's storage, and the launch had to read it back: no cookie was used
    assert result["log"] == ["lti.put_data", "lti.get_data"], result
    assert stored_launches(app) == 1


@pytest.fixture
def demo_lms(app: Flask, tool_url: str, tmp_path: Path) -> Iterator[str]:
    """The demo LMS on 127.0.0.1 (another site than the tool on ``localhost``), registered with the tool both ways."""
    from smeb_lti.db import session_scope
    from smeb_lti.demo_lms import Tool, add_course_link, create_platform_app, register_tool
    from smeb_lti.lti import registrations

    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    db = tmp_path / "demo-lms.db"
    tool = Tool("demo-client", "demo-dep", "SMEB", tool_url + "/lti/login", tool_url + "/lti/launch", tool_url + "/.well-known/jwks.json",
                (tool_url + "/lti/launch",), tool_url + "/lti/launch")
    register_tool(db, tool)
    add_course_link(db, tool, "rl-kurs", "Kurs", {"course": "all-blocks"}, 5)
    holder["app"] = create_platform_app({"PLATFORM_URL": url, "PLATFORM_DB": str(db)})
    with session_scope(app.extensions["smeb.sessions"]) as session:
        registrations.add(session, registrations.RegistrationInput(
            issuer=url, client_id="demo-client", auth_login_url=url + "/auth", auth_token_url=url + "/token",
            key_set_url=url + "/.well-known/jwks.json", deployment_ids=("demo-dep",),
        ))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_an_embedded_launch_with_third_party_cookies_blocked_ends_in_the_player_in_a_new_window(
    app: Flask, demo_lms: str, course_installed: None, tool_url: str, tmp_path: Path
) -> None:
    assert Path(CHROMIUM).exists(), "chromium is needed: apt-get install -y chromium"
    options = {"chromium": CHROMIUM, "url": f"{demo_lms}/mod/lti/view.php?id=rl-kurs&user=demo-ola", "frame": "#contentframe",
               "expect": "/play/", "userDataDir": str(tmp_path / "profile")}
    result = run_node(NEW_WINDOW_DRIVER, options, timeout=400)
    trail = "\n".join(result["navigations"])
    assert result["thirdPartyCookiesBlocked"] is True, result
    # inside the LMS page the tool cannot prove the launch is this browser's, so it offers a new window,
    # which runs a complete, first-party launch (the used message hint is never sent again) and shows the player
    assert result["fallback"] and "Åpne i nytt vindu" in result["fallback"]["text"] and "Open in a new window" in result["fallback"]["text"], result
    assert result.get("player"), result.get("error", "") + "\n" + trail
    assert result["player"]["url"].startswith(tool_url + "/play/") and result["player"]["status"] == 200, trail
    # through the LMS's own launch page for the activity
    assert result["fallback"]["href"] == f"{demo_lms}/mod/lti/launch.php?id=rl-kurs&triggerview=0", trail
    assert stored_launches(app) == 1
