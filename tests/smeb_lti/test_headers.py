"""Security headers of each page type (issue 13): nosniff, Referrer-Policy and a CSP with frame-ancestors on every
response; pages an LMS frames allow exactly that platform's origins, everything else no one (and X-Frame-Options).
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask

from tests.smeb_lti.dashboard.helpers import ADMIN, COMPANY_A, COMPANY_C, launch, open_player, register, staff_client

LMS_A = "https://lms.example.no"
LMS_C = "https://canvas.instructure.com"


def _ancestors(response: object) -> str:
    policy = response.headers["Content-Security-Policy"]  # type: ignore[attr-defined]
    found = re.findall(r"(?:^|;)\s*frame-ancestors ([^;]*)", policy)
    assert len(found) == 1, policy
    return str(found[0]).strip()


def _common(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def _framed_by(response: object, *origins: str) -> None:
    _common(response)
    assert _ancestors(response).split() == list(origins)
    assert "X-Frame-Options" not in response.headers  # type: ignore[attr-defined]  # DENY would override the LMS


def _never_framed(response: object) -> None:
    _common(response)
    assert _ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"  # type: ignore[attr-defined]


def test_the_player_page_is_framed_only_by_the_launchs_lms_and_has_no_unsafe_inline(app: Flask) -> None:
    register(app, COMPANY_C)
    learner = launch(app, COMPANY_A, "ola")
    response = app.test_client().get(f"/play/{learner}")
    _framed_by(response, LMS_A)  # not Canvas: another platform registered here may not frame this launch
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    # The page's one inline <style> is allowed by its hash, so the staff bar keeps its look.
    [style] = re.findall(r"<style>(.*?)</style>", response.get_data(as_text=True), re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    canvas = launch(app, COMPANY_C, "kari")
    _framed_by(app.test_client().get(f"/play/{canvas}"), LMS_C)


def test_the_player_files_and_json_are_never_framed(app: Flask) -> None:
    learner = launch(app, COMPANY_A, "ola")
    client = app.test_client()
    config = open_player(client, learner)
    for url in (f"/play/{learner}/smeb-config.json", f"/play/{learner}/course.json", f"/play/{learner}/player.js"):
        with client.get(url) as response:
            assert response.status_code == 200
            _never_framed(response)
    event = client.post(config["eventsUrl"], json={"id": "x", "type": "nope"}, headers={config["tokenHeader"]: config["token"]})
    assert event.status_code == 400
    _never_framed(event)


def test_the_tools_pages_under_a_launch_are_framed_by_its_lms(app: Flask) -> None:
    staff = launch(app, COMPANY_A, "boss", roles=(ADMIN,))
    client = staff_client(app, staff)  # the launching browser: staff pages refuse any other (docs/lti.md)
    open_player(client, staff)
    for url in (f"/app/{staff}/dashboard", f"/app/{staff}/journal", f"/app/{staff}/forum", f"/app/{staff}/surveys",
                f"/app/{staff}/workshops"):
        response = client.get(url)
        # (a page or its refusal page: both are shown inside the LMS's iframe)
        assert response.status_code < 500 and response.mimetype == "text/html", (url, response.status_code)
        _framed_by(response, LMS_A)
    # A page's own policy is kept (the surveys' has no frame-ancestors), frame-ancestors is added to it.
    policy = client.get(f"/app/{staff}/surveys").headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'") and policy.endswith(f"; frame-ancestors {LMS_A}")


def test_the_lti_entry_pages_are_framed_by_every_registered_platform(app: Flask) -> None:
    register(app, COMPANY_A)
    register(app, COMPANY_C)
    response = app.test_client().get("/lti/login?iss=https://unknown.example&login_hint=x&target_link_uri=x")
    assert response.mimetype == "text/html"
    _framed_by(response, LMS_A, LMS_C)
    response = app.test_client().post("/lti/launch", data={"state": "nope", "id_token": "x"})
    assert 400 <= response.status_code < 500 and response.mimetype == "text/html"
    _framed_by(response, LMS_A, LMS_C)


def test_everything_else_is_never_framed(app: Flask) -> None:
    register(app, COMPANY_A)
    client = app.test_client()
    for url in ("/.well-known/jwks.json", "/verify/ABCD-EFGH", "/lrs/default/xapi/about", "/play/unknown-launch",
                "/app/unknown-launch/dashboard", "/no-such-page"):
        response = client.get(url)
        assert response.status_code < 500, url
        _never_framed(response)


def test_a_platform_registered_after_the_origins_were_cached_frames_its_launches_at_once(app: Flask) -> None:
    client = app.test_client()
    _framed_by(client.get(f"/play/{launch(app, COMPANY_A, 'ola')}"), LMS_A)  # the registrations are cached now
    _framed_by(client.get(f"/play/{launch(app, COMPANY_C, 'kari')}"), LMS_C)


def test_the_frame_origins_are_cached_not_queried_per_request(app: Flask) -> None:
    from sqlalchemy import event

    from smeb_lti.lti.framing import PLATFORMS
    from smeb_lti.web.headers import FrameOrigins

    learner = launch(app, COMPANY_A, "ola")
    origins = FrameOrigins(app.extensions["smeb.sessions"], PLATFORMS)
    statements: list[str] = []
    engine = app.extensions["smeb.engine"]
    listener = lambda *args: statements.append(str(args[2]))  # noqa: E731  # before_cursor_execute(conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert origins.for_launch(learner) == (LMS_A,)
        first = len(statements)
        assert first >= 2  # the launch's registration, then the registrations
        for _ in range(5):
            assert origins.for_launch(learner) == (LMS_A,)
        assert len(statements) == first, statements[first:]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
