"""A valid LTI 1.3 launch becomes a stored LaunchContext and sends the learner to the player."""

from __future__ import annotations

from flask import Flask

from smeb_lti.lti.launches import get_launch
from tests.smeb_lti.lti.conftest import (
    CLIENT_ID,
    DEPLOYMENT_ID,
    Lms,
    launch_id_of,
    stored_launches,
)
from tests.support.lti_platform import PlatformSim


def _context(app: Flask, launch_id: str):  # type: ignore[no-untyped-def]
    with app.extensions["smeb.sessions"]() as session:
        return get_launch(session, launch_id)


def test_a_resource_link_launch_redirects_to_the_player_with_a_stored_context(app: Flask, lms: Lms, platform: PlatformSim, registration_id: int) -> None:
    client = app.test_client()
    response = lms.launch(client)
    assert response.headers["Location"].endswith("/play/" + launch_id_of(response))
    context = _context(app, launch_id_of(response))
    assert context.issuer == platform.issuer
    assert (context.client_id, context.deployment_id, context.registration_id) == (CLIENT_ID, DEPLOYMENT_ID, registration_id)
    assert context.message_type == "LtiResourceLinkRequest"
    assert context.subject == "user-123"
    assert context.is_instructor is False
    assert context.locale == "nb"
    assert (context.name, context.email, context.context_id, context.resource_link_id) == ("Kari Elektriker", "kari@example.no", "ctx-1", "rl-1")
    assert dict(context.custom) == {"course": "all-blocks"}
    assert context.ags is not None and context.ags["lineitems"] == platform.issuer + "/lineitems"
    assert context.nrps is None and context.deep_linking is None


def test_the_login_accepts_post_and_redirects_to_the_platform_with_state_and_nonce(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    login = lms.login(app.test_client(), method="POST", lti_message_hint="hint-9")
    location = login.response.headers["Location"]
    assert location.startswith(platform.auth_url + "?")
    for part in ("response_type=id_token", "response_mode=form_post", "prompt=none", "scope=openid", "client_id=client-a", "lti_message_hint=hint-9", "login_hint=u-123"):
        assert part in location
    assert "redirect_uri=http%3A%2F%2Flocalhost%2Flti%2Flaunch" in location
    assert login.state and login.nonce and login.state != login.nonce


def test_the_jwks_publishes_the_tools_rsa_key(app: Flask) -> None:
    body = app.test_client().get("/.well-known/jwks.json").get_json()
    assert len(body["keys"]) == 1
    key = body["keys"][0]
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig") and key["kid"] and "d" not in key


def test_no_launch_is_stored_before_a_launch_succeeds(app: Flask, lms: Lms) -> None:
    assert stored_launches(app) == 0
    launch_id_of(lms.launch(app.test_client()))
    assert stored_launches(app) == 1
