"""Every hostile or broken launch is refused with a 4xx and a clear message, and leaves nothing behind.

"Nothing behind": no stored launch row, no Flask session cookie, and the state cookie is cleared.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import time
from typing import Any

import jwt
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.smeb_lti.lti.conftest import (
    CLIENT_ID,
    Lms,
    launch_id_of,
    register,
    stored_launches,
)
from tests.support.lti_platform import LTI, PlatformKey, PlatformSim


def assert_refused(app: Flask, response: TestResponse, status: int, *phrases: str) -> None:
    text = text_of(response)
    assert response.status_code == status, text
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in the message: {text}"
    assert stored_launches(app) == 0
    cookies = response.headers.getlist("Set-Cookie")
    assert not [c for c in cookies if c.startswith("session=")], cookies
    assert all("Expires=Thu, 01 Jan 1970" in c for c in cookies if c.startswith("lti_state_")), cookies


def text_of(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


NOW = int(time.time())


@pytest.mark.parametrize(
    ("overrides", "status", "phrase"),
    [
        ({"exp": NOW - 600, "iat": NOW - 900}, 401, "expired"),
        ({"nbf": NOW + 3600}, 401, "not valid yet"),
        ({"iat": NOW + 3600, "exp": NOW + 7200}, 401, "not valid yet"),
        ({"aud": ["client-a", "stranger"], "azp": "client-a"}, 401, "does not trust: ['stranger']"),
        ({"aud": ["client-a", "stranger"]}, 401, "several audiences but no 'azp'"),
        ({"azp": "client-b"}, 401, "'azp' 'client-b' is not one of its audiences"),
        ({"aud": "client-zzz"}, 400, "client id 'client-zzz' is not registered"),
        ({"iss": "https://evil.example"}, 400, "'https://evil.example' is not registered"),
        ({"deployment_id": "dep-9"}, 400, "deployment id 'dep-9' is not registered"),
        ({"version": "1.1"}, 400, "LTI version is '1.1'"),
        ({"version": None}, 400, "LTI version is missing"),
        ({"message_type": None}, 400, "no message type"),
        ({"message_type": "LtiSubmissionReviewRequest"}, 400, "is not supported"),
        ({"roles": None}, 400, "no roles claim"),
        ({"deployment_id": None}, 400, "no deployment id"),
        ({"resource_link": None}, 400, "resource link id"),
        ({"resource_link": {"title": "no id"}}, 400, "resource link id"),
        ({"sub": None}, 400, "no user ('sub')"),
        ({"sub": ""}, 400, "no user ('sub')"),
        ({"nonce": None}, 401, "nonce"),
    ],
    ids=[
        "expired", "nbf-in-future", "iat-far-future", "extra-untrusted-audience", "two-audiences-without-azp", "azp-mismatch",
        "unknown-client", "wrong-issuer", "unknown-deployment", "wrong-lti-version", "missing-lti-version", "missing-message-type",
        "unsupported-message-type", "missing-roles-claim", "missing-deployment-id", "missing-resource-link", "resource-link-without-id",
        "missing-sub", "empty-sub", "missing-nonce",
    ],
)
def test_a_launch_with_a_bad_claim_is_refused(app: Flask, lms: Lms, overrides: dict[str, Any], status: int, phrase: str) -> None:
    client = app.test_client()
    login = lms.login(client)
    assert client.get_cookie("lti_state_" + login.state, path="/lti/") is not None
    assert_refused(app, lms.post_launch(client, login.state, lms.id_token(login.nonce, **overrides)), status, phrase)
    assert client.get_cookie("lti_state_" + login.state, path="/lti/") is None  # the browser keeps nothing either


def test_a_replayed_id_token_is_refused_in_the_same_browser(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    token = lms.id_token(login.nonce)
    launch_id_of(lms.post_launch(client, login.state, token))
    response = lms.post_launch(client, login.state, token)
    assert response.status_code == 401 and "already used" in text_of(response)
    assert stored_launches(app) == 1


def test_a_replayed_id_token_is_refused_from_a_fresh_browser_holding_the_stolen_cookie(app: Flask, lms: Lms) -> None:
    victim = app.test_client()
    login = lms.login(victim)
    token = lms.id_token(login.nonce)
    launch_id_of(lms.post_launch(victim, login.state, token))
    attacker = app.test_client()
    attacker.set_cookie("lti_state_" + login.state, login.state, path="/lti/")
    response = lms.post_launch(attacker, login.state, token)
    assert response.status_code == 401 and "already used" in text_of(response)
    assert stored_launches(app) == 1


def test_a_nonce_that_was_never_issued_is_refused(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    assert_refused(app, lms.post_launch(client, login.state, lms.id_token("made-up-nonce")), 401, "nonce was not issued")


def test_a_nonce_from_another_login_of_the_same_browser_is_refused(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    first, second = lms.login(client), lms.login(client)
    assert_refused(app, lms.post_launch(client, first.state, lms.id_token(second.nonce)), 401, "nonce was not issued with this state")


def test_a_launch_without_state_is_refused(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    response = client.post("/lti/launch", data={"id_token": lms.id_token(login.nonce)})
    assert_refused(app, response, 400, "has no 'state'")


def test_a_launch_with_an_invented_state_is_refused(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    assert_refused(app, lms.post_launch(client, "invented-state", lms.id_token(login.nonce)), 400, "state is unknown or has expired")


def test_a_state_issued_to_another_browser_is_refused_with_an_open_in_new_window_link(app: Flask, lms: Lms) -> None:
    other_browser, this_browser = app.test_client(), app.test_client()
    login = lms.login(other_browser)
    response = lms.post_launch(this_browser, login.state, lms.id_token(login.nonce))
    assert_refused(app, response, 400, "this browser did not start this launch", 'id="new-window"', "/lti/login?iss=")
    # and the state is gone: the right browser cannot be tricked into using it afterwards either
    assert lms.post_launch(other_browser, login.state, lms.id_token(login.nonce)).status_code == 400


def test_a_launch_for_another_target_than_its_login_is_refused(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    token = lms.id_token(login.nonce, **{LTI + "target_link_uri": "https://elsewhere.example/lti/launch"})
    assert_refused(app, lms.post_launch(client, login.state, token), 400, "is not the one its login was for")


def test_an_absurdly_long_state_is_refused_like_any_unknown_state(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    assert_refused(app, lms.post_launch(client, "s" * 5000, lms.id_token(login.nonce)), 400, "state is unknown")


def test_a_non_ascii_state_cookie_is_refused_not_a_server_error(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    client.set_cookie("lti_state_" + login.state, "tilstand-æøå", path="/lti/")
    assert_refused(app, lms.post_launch(client, login.state, lms.id_token(login.nonce)), 400, "did not start this launch")


def test_a_launch_without_id_token_is_refused(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    assert_refused(app, client.post("/lti/launch", data={"state": login.state}), 401, "no id_token")


def test_garbage_instead_of_a_jwt_is_refused(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    assert_refused(app, lms.post_launch(client, login.state, "not.a.jwt"), 401, "cannot be decoded")


def test_a_tampered_signature_is_refused(app: Flask, lms: Lms) -> None:
    client = app.test_client()
    login = lms.login(client)
    header, body, signature = lms.id_token(login.nonce).split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims[LTI + "roles"] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]  # a learner making themself teacher
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    assert_refused(app, lms.post_launch(client, login.state, forged), 401, "signature does not match")


def test_alg_none_is_refused(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    client = app.test_client()
    login = lms.login(client)
    claims = platform.claims(client_id=CLIENT_ID, deployment_id="dep-1", nonce=login.nonce)
    token = jwt.encode(claims, None, algorithm="none", headers={"kid": platform.keys[0].kid})
    assert_refused(app, lms.post_launch(client, login.state, token), 401, "alg 'none'")


def test_hs256_signed_with_the_platforms_public_key_is_refused(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    client = app.test_client()
    login = lms.login(client)
    claims = platform.claims(client_id=CLIENT_ID, deployment_id="dep-1", nonce=login.nonce)
    signing_input = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": platform.keys[0].kid}).encode()) + "." + _b64(json.dumps(claims).encode())
    mac = hmac.new(platform.keys[0].public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert_refused(app, lms.post_launch(client, login.state, signing_input + "." + _b64(mac)), 401, "alg 'HS256'")


def test_an_unknown_kid_refetches_the_jwks_once_then_is_refused(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    client = app.test_client()
    launch_id_of(lms.launch(client))
    assert platform.count("/jwks") == 1
    launch_id_of(lms.launch(client))
    assert platform.count("/jwks") == 1  # cached
    stranger = PlatformKey.generate("kid-unknown")
    for _ in range(2):
        login = lms.login(client)
        token = platform.mint(platform.claims(client_id=CLIENT_ID, deployment_id="dep-1", nonce=login.nonce), key=stranger)
        response = lms.post_launch(client, login.state, token)
        assert response.status_code == 401 and "no key with kid 'kid-unknown'" in text_of(response)
    assert platform.count("/jwks") == 2  # re-fetched once, not for every forged token
    assert stored_launches(app) == 2


def test_a_rotated_platform_key_is_picked_up_by_refetching_the_jwks(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    client = app.test_client()
    launch_id_of(lms.launch(client))
    rotated = PlatformKey.generate("kid-2")
    platform.keys.append(rotated)
    login = lms.login(client)
    token = platform.mint(platform.claims(client_id=CLIENT_ID, deployment_id="dep-1", nonce=login.nonce), key=rotated)
    launch_id_of(lms.post_launch(client, login.state, token))
    assert platform.count("/jwks") == 2


def test_a_jwks_url_that_does_not_answer_in_time_gives_a_clear_gateway_error(app: Flask, lms: Lms, platform: PlatformSim, tool_config: dict[str, Any]) -> None:
    from tests.support.app import make_app

    slow_app = make_app(**{**tool_config, "SMEB_LTI_HTTP_TIMEOUT": 0.5})
    try:
        platform.jwks_delay = 2.0
        client = slow_app.test_client()
        slow = Lms(slow_app, platform)
        response = slow.launch(client)
        assert_refused(slow_app, response, 502, "could not fetch the platform's key set")
    finally:
        platform.jwks_delay = 0.0
        slow_app.extensions["smeb.engine"].dispose()


def test_a_login_from_an_unknown_issuer_is_a_400_not_a_500(app: Flask, lms: Lms) -> None:
    response = app.test_client().get("/lti/login", query_string={"iss": "https://unknown.example", "login_hint": "x", "target_link_uri": "http://localhost/lti/launch"})
    assert response.status_code == 400 and "is not registered" in text_of(response)


def test_a_login_without_login_hint_is_refused(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    response = app.test_client().get("/lti/login", query_string={"iss": platform.issuer, "target_link_uri": "http://localhost/lti/launch"})
    assert response.status_code == 400 and "lacks login_hint" in text_of(response)


def test_a_login_for_an_unknown_deployment_is_refused(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    query = {"iss": platform.issuer, "login_hint": "x", "target_link_uri": "http://localhost/lti/launch", "client_id": CLIENT_ID, "lti_deployment_id": "dep-x"}
    response = app.test_client().get("/lti/login", query_string=query)
    assert response.status_code == 400 and "deployment id 'dep-x' is not registered" in text_of(response)


def test_an_issuer_with_two_registrations_needs_client_id_at_login(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    register(app, platform, client_id="client-b")
    response = app.test_client().get("/lti/login", query_string={"iss": platform.issuer, "login_hint": "x", "target_link_uri": "http://localhost/lti/launch"})
    assert response.status_code == 400 and "must carry client_id" in text_of(response)


def test_errors_are_json_for_clients_that_ask_for_json(app: Flask, lms: Lms) -> None:
    response = app.test_client().post("/lti/launch", data={"id_token": "x"}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "StateError", "message": "the launch has no 'state': start the activity again from the LMS"}
