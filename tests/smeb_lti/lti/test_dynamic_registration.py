"""LTI Dynamic Registration 1.0 against a platform over real HTTP."""

from __future__ import annotations

import html

import pytest
from flask import Flask

from smeb_lti.lti import registrations
from smeb_lti.settings import update_settings
from tests.smeb_lti.lti.conftest import Lms, launch_id_of
from tests.support.lti_platform import PlatformSim

TOOL = "https://purl.imsglobal.org/spec/lti-tool-configuration"


@pytest.fixture(autouse=True)
def _platform_allowed(app: Flask, platform: PlatformSim) -> None:
    # The simulated LMS runs on 127.0.0.1: allowed by origin, loopback explicitly (the gate: tests/smeb_lti/test_privacy_dynreg.py).
    update_settings(app, {"SMEB_DYNREG_ALLOWED_ORIGINS": f"{platform.issuer} http://127.0.0.1:9", "SMEB_DYNREG_ALLOW_PRIVATE": "1"})


def _register(app: Flask, platform: PlatformSim, token: str = "reg-token-1"):  # type: ignore[no-untyped-def]
    query = {"openid_configuration": platform.issuer + "/openid-configuration", "registration_token": token}
    return app.test_client().get("/lti/register", query_string=query, base_url="https://kurs.smeb.test")


def test_registration_posts_the_tool_configuration_stores_the_platform_and_closes_the_window(app: Flask, platform: PlatformSim) -> None:
    response = _register(app, platform)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "org.imsglobal.lti.close" in page and "dyn-client-1" in page
    assert ("/openid-configuration", "Bearer reg-token-1") in platform.requests
    (sent,) = platform.registrations_received
    assert sent["initiate_login_uri"] == "https://kurs.smeb.test/lti/login"
    assert sent["redirect_uris"] == ["https://kurs.smeb.test/lti/launch"]
    assert sent["jwks_uri"] == "https://kurs.smeb.test/.well-known/jwks.json"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in sent["scope"].split()
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in sent["scope"].split()
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly" not in sent["scope"].split()  # not offered by this platform
    tool = sent[TOOL]
    assert tool["domain"] == "kurs.smeb.test" and tool["target_link_uri"] == "https://kurs.smeb.test/lti/launch"
    assert {m["type"] for m in tool["messages"]} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    assert {"sub", "name", "email", "locale"} <= set(tool["claims"])
    with app.extensions["smeb.sessions"]() as session:
        row = registrations.find(session, platform.issuer, "dyn-client-1")
        assert row is not None and row.deployment_ids == ("dyn-dep-1",)
        assert (row.auth_login_url, row.auth_token_url, row.key_set_url) == (platform.auth_url, platform.token_url, platform.jwks_url)


def test_a_dynamically_registered_platform_can_launch(app: Flask, platform: PlatformSim) -> None:
    assert _register(app, platform).status_code == 200
    launch_id_of(Lms(app, platform, client_id="dyn-client-1", deployment_id="dyn-dep-1").launch(app.test_client()))


def test_an_issuer_that_is_not_the_configuration_urls_origin_is_refused(app: Flask, platform: PlatformSim) -> None:
    platform.openid_issuer = "https://moodle.victim.example"
    response = _register(app, platform)
    assert response.status_code == 400 and "not that URL's origin" in html.unescape(response.get_data(as_text=True))
    assert platform.registrations_received == []


def test_a_registration_endpoint_on_another_host_is_refused(app: Flask, platform: PlatformSim) -> None:
    platform.registration_endpoint = "http://localhost:9/internal-admin"
    response = _register(app, platform)
    assert response.status_code == 400 and "is not on the platform's origin" in html.unescape(response.get_data(as_text=True))


def test_a_refused_registration_token_is_reported_and_nothing_is_stored(app: Flask, platform: PlatformSim) -> None:
    response = _register(app, platform, token="wrong")
    assert response.status_code == 502 and "refused the registration (HTTP 401)" in html.unescape(response.get_data(as_text=True))
    with app.extensions["smeb.sessions"]() as session:
        assert registrations.all_registrations(session) == []


def test_registration_without_a_configuration_url_explains_where_to_start(app: Flask) -> None:
    response = app.test_client().get("/lti/register")
    assert response.status_code == 400 and "openid_configuration" in response.get_data(as_text=True)


def test_an_unreachable_configuration_url_is_a_gateway_error(app: Flask, platform: PlatformSim) -> None:
    response = app.test_client().get("/lti/register", query_string={"openid_configuration": "http://127.0.0.1:9/openid-configuration"})
    assert response.status_code == 502 and "could not fetch the platform" in html.unescape(response.get_data(as_text=True))
