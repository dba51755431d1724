"""Staff pages reached by a launch id work only in the browser that did the launch (issue 13 item 9).

A leaked staff URL (roster, dashboard, its exports, the deep-linking catalogue) opened in another
browser gets a 403 page in Norwegian and English saying to launch again from the LMS, with no
names or e-mail addresses. The browser that launched has the launch cookie; an embedded browser
that sends no cookie at all (third-party cookies blocked, launch proven through the platform's
storage) gets single-use tickets instead.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from content import load_course
from smeb_lti.courses import catalogue
from smeb_lti.db import session_scope
from smeb_lti.lti import binding
from tests.smeb_lti.lti.conftest import CLIENT_ID, Lms, launch_id_of, register
from tests.smeb_lti.lti.nrps_platform import NrpsPlatform
from tests.support.app import make_app
from tests.support.lti_platform import LTI, PlatformServer

HTTPS = "https://kurs.smeb.test"
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "courses" / "valid" / "all-blocks"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
PERSONAL = ("Kari Elektriker", "kari@example.no", "Per Lærer", "per@example.no")


@pytest.fixture
def nrps_platform() -> Iterator[NrpsPlatform]:
    with PlatformServer(NrpsPlatform()) as running:
        yield running  # type: ignore[misc]


@pytest.fixture
def lms(app: Flask, nrps_platform: NrpsPlatform) -> Lms:
    register(app, nrps_platform)
    with session_scope(app.extensions["smeb.sessions"]) as session:
        catalogue.install(session, load_course(FIXTURE))
    return Lms(app, nrps_platform)


def _staff_launch(lms: Lms, browser: FlaskClient, **extra: Any) -> str:
    platform: NrpsPlatform = lms.platform  # type: ignore[assignment]
    login = lms.login(browser)
    return launch_id_of(lms.post_launch(browser, login.state, lms.id_token(login.nonce, **{**platform.staff_claims(), **extra})))


def _text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def assert_not_bound(response: TestResponse) -> None:
    text = _text(response)
    assert response.status_code == 403, text[:500]
    assert "Åpne aktiviteten på nytt fra læringsplattformen" in text and "Open the activity again from your learning platform" in text
    for personal in PERSONAL:
        assert personal not in text
    assert response.headers["Cache-Control"] == "no-store"


def test_a_leaked_roster_url_opened_in_another_browser_gets_the_403_page_and_no_names(lms: Lms, app: Flask, nrps_platform: NrpsPlatform) -> None:
    browser = app.test_client()
    launch_id = _staff_launch(lms, browser)
    own = browser.get(f"/roster/{launch_id}")
    assert own.status_code == 200 and "Kari Elektriker" in _text(own) and "kari@example.no" in _text(own)
    calls = len(nrps_platform.membership_calls)

    assert_not_bound(app.test_client().get(f"/roster/{launch_id}"))  # the URL pasted into another browser
    assert len(nrps_platform.membership_calls) == calls  # the platform was not even asked
    json_answer = app.test_client().get(f"/roster/{launch_id}", headers={"Accept": "application/json"})
    assert json_answer.status_code == 403 and json_answer.get_json()["error"] == "BrowserNotBound"


def test_a_leaked_dashboard_url_and_its_exports_get_the_403_page(lms: Lms, app: Flask) -> None:
    learner = app.test_client()
    login = lms.login(learner)
    learner_launch = launch_id_of(lms.post_launch(learner, login.state, lms.id_token(login.nonce)))
    assert learner.get(f"/play/{learner_launch}").status_code == 200  # Kari is now a member of the company
    browser = app.test_client()
    launch_id = _staff_launch(lms, browser)
    assert "Kari Elektriker" in _text(browser.get(f"/app/{launch_id}/dashboard"))
    assert "Kari Elektriker" in browser.get(f"/app/{launch_id}/dashboard/export.csv").data.decode("utf-8")

    stranger = app.test_client()
    for path in ("dashboard", "dashboard?team=-", "dashboard/export.csv", "dashboard/export.xlsx"):
        assert_not_bound(stranger.get(f"/app/{launch_id}/{path}"))
    with app.test_request_context():
        from smeb_lti.dashboard.routes import csrf_token

        token = csrf_token(launch_id)
    assert_not_bound(stranger.post(f"/app/{launch_id}/dashboard/team", data={"csrf": token, "subject": "user-123", "team": "Kapret"}))


def test_a_leaked_deep_linking_url_gets_the_403_page(lms: Lms, app: Flask, nrps_platform: NrpsPlatform) -> None:
    claims = {"message_type": "LtiDeepLinkingRequest", "resource_link": None,
              DL + "deep_linking_settings": {"deep_link_return_url": nrps_platform.issuer + "/return", "accept_types": ["ltiResourceLink"], "data": "d"}}
    browser = app.test_client()
    login = lms.login(browser)
    response = lms.post_launch(browser, login.state, lms.id_token(login.nonce, **{**nrps_platform.staff_claims(), **claims}))
    launch_id = launch_id_of(response)
    assert browser.get(f"/deep-link/{launch_id}").status_code == 200
    assert_not_bound(app.test_client().get(f"/deep-link/{launch_id}"))
    assert_not_bound(app.test_client().post(f"/deep-link/{launch_id}", data={"item": "all-blocks", "data": "d"}))


def test_a_forged_cookie_or_the_cookie_of_another_launch_is_refused(lms: Lms, app: Flask) -> None:
    mine, other = app.test_client(), app.test_client()
    launch_id = _staff_launch(lms, mine)
    other_launch = _staff_launch(lms, other)
    forger = app.test_client()
    forger.set_cookie(binding.COOKIE, "0" * 64, path=f"/roster/{launch_id}")
    assert_not_bound(forger.get(f"/roster/{launch_id}"))
    # the other launch's valid cookie, copied to this launch's path
    other.set_cookie(binding.COOKIE, binding.proof(str(app.config["SECRET_KEY"]), other_launch), path=f"/roster/{launch_id}")
    assert_not_bound(other.get(f"/roster/{launch_id}"))


def test_over_https_the_launch_cookie_is_httponly_secure_samesite_none_partitioned_and_scoped_to_the_launch(
    lms: Lms, app: Flask, nrps_platform: NrpsPlatform
) -> None:
    browser = app.test_client()
    query = {"iss": nrps_platform.issuer, "login_hint": "u-1", "target_link_uri": HTTPS + "/lti/launch", "client_id": CLIENT_ID}
    login = browser.get("/lti/login", query_string=query, base_url=HTTPS)
    auth = parse_qs(urlsplit(login.headers["Location"]).query)
    token = lms.id_token(auth["nonce"][0], **{**nrps_platform.staff_claims(), LTI + "target_link_uri": HTTPS + "/lti/launch"})
    response = browser.post("/lti/launch", data={"state": auth["state"][0], "id_token": token}, base_url=HTTPS)
    launch_id = launch_id_of(response)
    assert "smeb_ticket" not in response.headers["Location"]  # the state cookie came back: so will this one
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(binding.COOKIE + "=")]
    assert sorted(re.search(r"Path=([^;]+)", c).group(1) for c in cookies) == sorted(binding.staff_paths(launch_id))  # type: ignore[union-attr]
    for cookie in cookies:
        for flag in ("Secure", "HttpOnly", "SameSite=None", "Partitioned"):
            assert flag in cookie, cookie
        assert launch_id not in cookie.split(";")[0]  # an HMAC, not the launch id
    assert browser.get(f"/roster/{launch_id}", base_url=HTTPS).status_code == 200


def test_a_learner_launch_sets_no_staff_cookie_and_its_player_stays_a_plain_url(lms: Lms, app: Flask) -> None:
    browser = app.test_client()
    login = lms.login(browser)
    response = lms.post_launch(browser, login.state, lms.id_token(login.nonce))
    launch_id = launch_id_of(response)
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith(binding.COOKIE + "=")]
    # the player in an LMS iframe without third-party cookies: no cookie is needed (see docs/lti.md, "Limits")
    assert app.test_client(use_cookies=False).get(f"/play/{launch_id}").status_code == 200


# -- the embedded browser that sends no cookie ---------------------------------------------------


def _cookieless_staff_launch(lms: Lms, app: Flask, **extra: Any) -> tuple[FlaskClient, str]:
    """A staff launch in an LMS iframe with third-party cookies blocked, proven through platform storage.

    Returns the cookie-less browser and the URL the launch redirected it to.
    """
    platform: NrpsPlatform = lms.platform  # type: ignore[assignment]
    query = {"iss": platform.issuer, "login_hint": "u-1", "target_link_uri": HTTPS + "/lti/launch", "client_id": CLIENT_ID, "lti_storage_target": "_parent"}
    browser = app.test_client(use_cookies=False)
    page = browser.get("/lti/login", query_string=query, base_url=HTTPS).get_data(as_text=True)
    state = re.search(r'name="state" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    secret = json.loads(re.search(r'value: ("[^"]+")', page).group(1))  # type: ignore[union-attr]
    token = lms.id_token(nonce, **{**platform.staff_claims(), LTI + "target_link_uri": HTTPS + "/lti/launch", **extra})
    response = browser.post("/lti/launch", data={"state": state, "id_token": token, "lti_storage_proof": secret}, base_url=HTTPS)
    assert response.status_code == 303, _text(response)
    return browser, response.headers["Location"]


def _ticket_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)[binding.TICKET][0]


def test_a_cookieless_staff_launch_reaches_the_roster_by_single_use_tickets(lms: Lms, app: Flask) -> None:
    browser, target = _cookieless_staff_launch(lms, app)
    launch_id = urlsplit(target).path.rsplit("/", 1)[1]
    assert urlsplit(target).path == f"/play/{launch_id}"
    player = browser.get(f"{urlsplit(target).path}?{urlsplit(target).query}", base_url=HTTPS)
    assert player.status_code == 200  # the player: it uses the launch's ticket and gives its staff links fresh ones

    roster_url = html.unescape(re.search(r'href="(/roster/[^"]+)"', player.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
    ticket = _ticket_of(roster_url)
    first = browser.get(roster_url, base_url=HTTPS)
    assert first.status_code == 200 and "Kari Elektriker" in _text(first)
    # the page's own links carry fresh tickets, which work once each
    back = html.unescape(re.search(r'<a href="(/play/[^"]+)">', first.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
    assert _ticket_of(back) != ticket
    # the URL as it stood in the address bar is used up: leaked now, it shows nothing
    assert_not_bound(browser.get(roster_url, base_url=HTTPS))
    assert_not_bound(app.test_client().get(roster_url, base_url=HTTPS))


def test_a_ticket_expires_and_belongs_to_its_launch_only(lms: Lms, app: Flask, tool_config: dict[str, Any]) -> None:
    other_launch = _staff_launch(lms, app.test_client())
    browser, target = _cookieless_staff_launch(lms, app)
    assert_not_bound(browser.get(f"/roster/{other_launch}?{binding.TICKET}={_ticket_of(target)}", base_url=HTTPS))  # not its launch

    short = make_app(**{**tool_config, "SMEB_STAFF_TICKET_TTL": 1})  # another worker, with 1-second tickets
    try:
        browser, target = _cookieless_staff_launch(Lms(short, lms.platform), short)
        launch_id = urlsplit(target).path.rsplit("/", 1)[1]
        time.sleep(2.1)
        assert_not_bound(browser.get(f"/roster/{launch_id}?{binding.TICKET}={_ticket_of(target)}", base_url=HTTPS))
    finally:
        short.extensions["smeb.engine"].dispose()


def test_a_cookieless_dashboard_keeps_working_through_its_links_and_forms(lms: Lms, app: Flask) -> None:
    browser, target = _cookieless_staff_launch(lms, app)
    launch_id = urlsplit(target).path.rsplit("/", 1)[1]
    page = browser.get(f"/app/{launch_id}/dashboard?{binding.TICKET}={_ticket_of(target)}", base_url=HTTPS)
    assert page.status_code == 200, _text(page)[:500]
    text = page.get_data(as_text=True)
    export = html.unescape(re.search(r'id="export-csv" href="([^"]+)"', text).group(1))  # type: ignore[union-attr]
    assert browser.get(export, base_url=HTTPS).status_code == 200
    assert_not_bound(browser.get(export, base_url=HTTPS))  # once only
    # the filter form (GET) carries a ticket of its own
    form = re.search(r'<form class="filters".*?</form>', text, re.S).group(0)  # type: ignore[union-attr]
    field = re.search(r'name="smeb_ticket" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    again = browser.get(f"/app/{launch_id}/dashboard?team=-&{binding.TICKET}={field}", base_url=HTTPS)
    assert again.status_code == 200


def test_a_cookieless_deep_linking_launch_can_choose_content(lms: Lms, app: Flask, nrps_platform: NrpsPlatform) -> None:
    claims = {"message_type": "LtiDeepLinkingRequest", "resource_link": None,
              DL + "deep_linking_settings": {"deep_link_return_url": nrps_platform.issuer + "/return", "accept_types": ["ltiResourceLink"], "data": "d"}}
    browser, target = _cookieless_staff_launch(lms, app, **claims)
    assert urlsplit(target).path.startswith("/deep-link/")
    page = browser.get(f"{urlsplit(target).path}?{urlsplit(target).query}", base_url=HTTPS)
    assert page.status_code == 200
    field = re.search(r'name="smeb_ticket" value="([^"]+)"', page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    chosen = browser.post(urlsplit(target).path, data={"item": "all-blocks", "data": "d", binding.TICKET: field}, base_url=HTTPS)
    assert chosen.status_code == 200 and 'name="JWT"' in chosen.get_data(as_text=True)
