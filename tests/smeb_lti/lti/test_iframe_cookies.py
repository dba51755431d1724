"""Launches inside an LMS iframe with third-party cookies blocked: platform storage, cookie flags, fallback."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from tests.smeb_lti.lti.conftest import CLIENT_ID, Lms, launch_id_of, stored_launches
from tests.support.lti_platform import LTI, PlatformSim

HTTPS = "https://kurs.smeb.test"


def _storage_login(client: FlaskClient, platform: PlatformSim) -> tuple[str, str, str, str]:
    """Login with ``lti_storage_target``; returns (state, nonce, secret, page)."""
    query = {"iss": platform.issuer, "login_hint": "u-1", "target_link_uri": HTTPS + "/lti/launch", "client_id": CLIENT_ID, "lti_storage_target": "_parent"}
    response = client.get("/lti/login", query_string=query, base_url=HTTPS)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    state = re.search(r'name="state" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    key = json.loads(re.search(r'key: ("[^"]+")', page).group(1))  # type: ignore[union-attr]
    secret = json.loads(re.search(r'value: ("[^"]+")', page).group(1))  # type: ignore[union-attr]
    assert key == "state_" + state and secret not in (state, nonce)
    return state, nonce, secret, page


def test_over_https_the_state_cookie_is_samesite_none_secure_partitioned(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    client = app.test_client()
    response = client.get("/lti/login", base_url=HTTPS, query_string={"iss": platform.issuer, "login_hint": "u", "target_link_uri": HTTPS + "/lti/launch"})
    (cookie,) = response.headers.getlist("Set-Cookie")
    assert cookie.startswith("lti_state_")
    for flag in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/lti/"):
        assert flag in cookie, cookie


def test_the_login_puts_the_state_secret_into_platform_storage_before_going_to_the_platform(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    _, _, _, page = _storage_login(app.test_client(), platform)
    assert '"lti.put_data"' in page and f'action="{platform.auth_url}"' in page
    assert f'origin = "{platform.issuer}"' in page  # postMessage only to the platform's origin


def test_without_the_cookie_the_launch_asks_platform_storage_and_then_succeeds(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    state, nonce, secret, _ = _storage_login(app.test_client(), platform)
    token = lms.id_token(nonce, **{LTI + "target_link_uri": HTTPS + "/lti/launch"})
    cookieless = app.test_client(use_cookies=False)
    first = cookieless.post("/lti/launch", data={"state": state, "id_token": token}, base_url=HTTPS)
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and '"lti.get_data"' in page and f'"state_{state}"' in page
    assert stored_launches(app) == 0
    second = cookieless.post("/lti/launch", data={"state": state, "id_token": token, "lti_storage_proof": secret}, base_url=HTTPS)
    launch_id_of(second)


def test_a_wrong_platform_storage_value_is_refused_with_the_new_window_fallback(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    state, nonce, _, _ = _storage_login(app.test_client(), platform)
    response = app.test_client(use_cookies=False).post(
        "/lti/launch", data={"state": state, "id_token": lms.id_token(nonce, **{LTI + "target_link_uri": HTTPS + "/lti/launch"}), "lti_storage_proof": "guess"}, base_url=HTTPS
    )
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400 and "did not start this launch" in text and 'id="new-window"' in text
    assert stored_launches(app) == 0


def test_the_new_window_link_restarts_the_same_login_first_party(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    login = lms.login(app.test_client(), lti_message_hint="m-7")
    response = lms.post_launch(app.test_client(), login.state, lms.id_token(login.nonce))  # cookie blocked
    link = html.unescape(re.search(r'id="new-window" href="([^"]+)"', response.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
    params = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert urlsplit(link).path == "/lti/login"
    assert params == {"iss": platform.issuer, "login_hint": "u-123", "target_link_uri": "http://localhost/lti/launch", "client_id": CLIENT_ID, "lti_message_hint": "m-7"}
    # a new window is first-party: its cookie comes back and the launch works
    window = app.test_client()
    fresh = window.get(link)
    auth = parse_qs(urlsplit(fresh.headers["Location"]).query)
    launch_id_of(lms.post_launch(window, auth["state"][0], lms.id_token(auth["nonce"][0])))


MOODLE_HINT = json.dumps({"cmid": 7, "launchid": "ltilaunch3_1804289383"})


def _new_window_link(response: object) -> str:
    text = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return html.unescape(re.search(r'id="new-window" href="([^"]+)"', text).group(1))  # type: ignore[union-attr]


def test_a_moodle_launch_without_cookie_opens_moodles_own_launch_page_in_the_new_window(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    # Moodle forgets its lti_message_hint after one use: the new window must start a new launch at Moodle.
    login = lms.login(app.test_client(), lti_message_hint=MOODLE_HINT)
    response = lms.post_launch(app.test_client(), login.state, lms.id_token(login.nonce))  # cookie blocked
    assert response.status_code == 400 and "did not start this launch" in html.unescape(response.get_data(as_text=True))
    assert _new_window_link(response) == f"{platform.issuer}/mod/lti/launch.php?id=7&triggerview=0"
    assert stored_launches(app) == 0


def test_without_platform_storage_the_same_browser_gets_a_second_chance_by_a_same_site_repost(app: Flask, lms: Lms) -> None:
    browser = app.test_client()
    login = lms.login(browser)
    token = lms.id_token(login.nonce)
    # the platform's cross-site POST arrives without the SameSite=Lax cookie (plain HTTP)
    first = app.test_client(use_cookies=False).post("/lti/launch", data={"state": login.state, "id_token": token})
    page = html.unescape(first.get_data(as_text=True))
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert 'name="lti_repost" value="1"' in page and f'value="{login.state}"' in page and f'value="{token}"' in page
    assert stored_launches(app) == 0
    # the tool's own page posts it again: same-site, so the browser that started the login sends its cookie
    launch_id_of(browser.post("/lti/launch", data={"state": login.state, "id_token": token, "lti_repost": "1"}))


def test_a_repost_without_the_cookie_is_refused_and_the_state_is_gone(app: Flask, lms: Lms) -> None:
    browser = app.test_client()
    login = lms.login(browser)
    token = lms.id_token(login.nonce)
    stranger = app.test_client(use_cookies=False)
    refused = stranger.post("/lti/launch", data={"state": login.state, "id_token": token, "lti_repost": "1"})
    assert refused.status_code == 400 and 'id="new-window"' in refused.get_data(as_text=True)
    assert lms.post_launch(browser, login.state, token).status_code == 400  # single chance: the state was dropped
    assert stored_launches(app) == 0


def test_over_https_a_launch_without_cookie_is_not_reposted(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    # There the cookie is SameSite=None: if the browser had it, it sent it; a repost would only add a round trip.
    query = {"iss": platform.issuer, "login_hint": "u-1", "target_link_uri": HTTPS + "/lti/launch", "client_id": CLIENT_ID, "lti_message_hint": MOODLE_HINT}
    login = app.test_client().get("/lti/login", query_string=query, base_url=HTTPS)
    auth = parse_qs(urlsplit(login.headers["Location"]).query)
    token = lms.id_token(auth["nonce"][0], **{LTI + "target_link_uri": HTTPS + "/lti/launch"})
    response = app.test_client(use_cookies=False).post("/lti/launch", data={"state": auth["state"][0], "id_token": token}, base_url=HTTPS)
    assert response.status_code == 400 and _new_window_link(response) == f"{platform.issuer}/mod/lti/launch.php?id=7&triggerview=0"
