"""In Debian's chromium: a launch inside a cross-site LMS iframe, where the state cookie cannot be used,
completes through the platform's postMessage storage (lti.put_data / lti.get_data)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.lti_platform_keys import PlatformSim
from tests.smeb_lti.lti.conftest import stored_launches

pytestmark = pytest.mark.browser

DRIVER = Path(__file__).resolve().parent / "js" / "iframe_launch.js"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "courses" / "valid"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def tool_url(app: Flask) -> Iterator[str]:
    """The tool served over real HTTP; the browser reaches it as ``localhost`` (another site than the LMS on 127.0.0.1)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def course_installed(app: Flask) -> None:
    """The launch names ``custom.course = test-all-blocks``: install it, so the player page really loads."""
    from content import load_course
    from smeb_lti import catalogue
    from smeb_lti.db import session_scope

    with session_scope(app.extensions["smeb.sessions"]) as session:
        catalogue.install(session, load_course(FIXTURES / "all-blocks"))


def test_an_iframe_launch_without_usable_cookies_completes_through_platform_storage(
    app: Flask, platform: PlatformSim, registration_id: int, course_installed: None, tool_url: str, tmp_path: Path
) -> None:
    assert Path(CHROMIUM).exists(), "chromium is needed: apt-get install -y chromium"
    url = f"{platform.issuer}/course?tool={tool_url}&client_id=client-a"
    options = {"chromium": CHROMIUM, "url": url, "expect": "/play/", "userDataDir": str(tmp_path / "profile")}
    done = subprocess.run(["node", str(DRIVER), json.dumps(options)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["frameUrl"] and result["frameUrl"].startswith(tool_url + "/play/"), result
    assert result["status"] == 200, app.test_client().get(result["frameUrl"][len(tool_url):]).get_data(as_text=True)
    # the state went through the platform's storage, and the launch had to read it back: no cookie was used
    assert result["log"] == ["lti.put_data", "lti.get_data"], result
    assert stored_launches(app) == 1
