"""Deep linking: an instructor picks a course or module; the tool answers with a signed LtiDeepLinkingResponse."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient

from content import load_course
from smeb_lti.courses.catalogue import install
from smeb_lti.db import session_scope
from tests.smeb_lti.lti.conftest import Lms, launch_id_of
from tests.support.lti_platform import LTI, PlatformSim

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "courses" / "valid" / "all-blocks"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
INSTRUCTOR = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]


@pytest.fixture
def course_slug(app: Flask) -> str:
    course = load_course(FIXTURE)
    with session_scope(app.extensions["smeb.sessions"]) as session:
        install(session, course)
    return course.slug


def deep_link_claims(platform: PlatformSim, data: Any = "opaque-data-42", roles: list[str] = INSTRUCTOR) -> dict[str, Any]:
    return {
        "message_type": "LtiDeepLinkingRequest",
        "resource_link": None,
        "roles": roles,
        "locale": "en",
        DL + "deep_linking_settings": {
            "deep_link_return_url": platform.issuer + "/deep-link-return",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": "false",
            "data": data,
        },
    }


@pytest.fixture
def browser(app: Flask) -> FlaskClient:
    """The instructor's browser: it does the launch and opens the catalogue (staff pages are bound to it)."""
    return app.test_client()


def _start(browser: FlaskClient, lms: Lms, platform: PlatformSim, **kwargs: Any) -> str:
    response = lms.launch(browser, **deep_link_claims(platform, **kwargs))
    assert response.status_code == 303 and "/deep-link/" in response.headers["Location"]
    return launch_id_of(response)


def _response_jwt(app: Flask, page: str, issuer: str) -> dict[str, Any]:
    """The deep-linking response JWT in the auto-submit page, verified with the tool's published key."""
    token = html.unescape(re.search(r'name="JWT" value="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    tool_keys = app.test_client().get("/.well-known/jwks.json").get_json()["keys"]
    key = jwt.PyJWK(next(k for k in tool_keys if k["kid"] == jwt.get_unverified_header(token)["kid"]))
    return jwt.decode(token, key, algorithms=["RS256"], audience=issuer)


def test_the_catalogue_page_lists_installed_courses_and_their_modules(app: Flask, lms: Lms, platform: PlatformSim, course_slug: str, browser: FlaskClient) -> None:
    page = browser.get("/deep-link/" + _start(browser, lms, platform)).get_data(as_text=True)
    assert "Test course with every block type" in page and "Module one" in page and "Gathering" in page
    assert f'value="{course_slug}/m1"' in page and f'value="{course_slug}"' in page
    assert 'name="data" value="opaque-data-42"' in page


def test_choosing_a_module_posts_a_signed_response_with_a_line_item_and_custom_parameters(
    app: Flask, lms: Lms, platform: PlatformSim, course_slug: str, browser: FlaskClient
) -> None:
    launch_id = _start(browser, lms, platform)
    response = browser.post("/deep-link/" + launch_id, data={"item": f"{course_slug}/m1", "data": "opaque-data-42"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'action="{platform.issuer}/deep-link-return"' in page
    claims = _response_jwt(app, page, platform.issuer)
    assert claims["iss"] == "client-a" and claims["aud"] == [platform.issuer]
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse" and claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "deployment_id"] == "dep-1" and claims[DL + "data"] == "opaque-data-42"
    (item,) = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink" and item["url"].endswith("/lti/launch")
    assert item["custom"] == {"course": course_slug, "module": "m1"}
    assert item["lineItem"] == {"scoreMaximum": 5, "label": "Test course with every block type: Module one", "resourceId": f"{course_slug}/m1"}
    # the launch is used up: a second response cannot be made from it
    assert browser.post("/deep-link/" + launch_id, data={"item": course_slug, "data": "opaque-data-42"}).status_code == 404


def test_a_module_without_quizzes_is_graded_by_completion(app: Flask, lms: Lms, platform: PlatformSim, course_slug: str, browser: FlaskClient) -> None:
    response = browser.post("/deep-link/" + _start(browser, lms, platform), data={"item": f"{course_slug}/m2", "data": "opaque-data-42"})
    (item,) = _response_jwt(app, response.get_data(as_text=True), platform.issuer)[DL + "content_items"]
    assert item["lineItem"]["scoreMaximum"] == 1 and item["custom"] == {"course": course_slug, "module": "m2"}


def test_a_tampered_data_value_is_refused(app: Flask, lms: Lms, platform: PlatformSim, course_slug: str, browser: FlaskClient) -> None:
    launch_id = _start(browser, lms, platform)
    response = browser.post("/deep-link/" + launch_id, data={"item": course_slug, "data": "opaque-data-43"})
    assert response.status_code == 400 and "'data' value was changed" in html.unescape(response.get_data(as_text=True))
    assert "JWT" not in response.get_data(as_text=True)


def test_non_ascii_data_round_trips_and_a_non_ascii_forgery_is_a_400(app: Flask, lms: Lms, platform: PlatformSim, course_slug: str, browser: FlaskClient) -> None:
    launch_id = _start(browser, lms, platform, data="kurs-æøå")
    forged = browser.post("/deep-link/" + launch_id, data={"item": course_slug, "data": "kurs-æøa"})
    assert forged.status_code == 400
    response = browser.post("/deep-link/" + launch_id, data={"item": course_slug, "data": "kurs-æøå"})
    assert _response_jwt(app, response.get_data(as_text=True), platform.issuer)[DL + "data"] == "kurs-æøå"


def test_structured_data_round_trips_as_json(app: Flask, lms: Lms, platform: PlatformSim, course_slug: str, browser: FlaskClient) -> None:
    launch_id = _start(browser, lms, platform, data={"b": 1, "a": [2]})
    response = browser.post("/deep-link/" + launch_id, data={"item": course_slug, "data": '{"a": [2], "b": 1}'})
    assert _response_jwt(app, response.get_data(as_text=True), platform.issuer)[DL + "data"] == {"b": 1, "a": [2]}


@pytest.mark.parametrize(("item", "phrase"), [("no-such-course", "no installed course"), ("{slug}/m9", "has no module 'm9'"), ("", "choose a course")])
def test_an_invalid_selection_is_refused(app: Flask, lms: Lms, platform: PlatformSim, course_slug: str, item: str, phrase: str, browser: FlaskClient) -> None:
    data = {"data": "opaque-data-42"}
    if item:
        data["item"] = item.format(slug=course_slug)
    response = browser.post("/deep-link/" + _start(browser, lms, platform), data=data)
    assert response.status_code == 400 and phrase in html.unescape(response.get_data(as_text=True))


def test_a_learner_cannot_open_the_catalogue(app: Flask, lms: Lms, platform: PlatformSim, course_slug: str, browser: FlaskClient) -> None:
    launch_id = _start(browser, lms, platform, roles=["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"])
    assert browser.get("/deep-link/" + launch_id).status_code == 403


def test_a_resource_link_launch_cannot_make_a_deep_linking_response(app: Flask, lms: Lms, course_slug: str, browser: FlaskClient) -> None:
    launch_id = launch_id_of(lms.launch(browser, roles=INSTRUCTOR))
    assert browser.post("/deep-link/" + launch_id, data={"item": course_slug, "data": ""}).status_code == 403


def test_a_deep_linking_request_without_settings_is_refused(app: Flask, lms: Lms, platform: PlatformSim) -> None:
    claims = deep_link_claims(platform)
    del claims[DL + "deep_linking_settings"]
    response = lms.launch(app.test_client(), **claims)
    assert response.status_code == 400 and "deep_linking_settings" in response.get_data(as_text=True)


def test_the_response_page_may_be_framed_by_the_lms_even_on_a_worker_that_never_saw_the_launch(
    app: Flask, lms: Lms, platform: PlatformSim, course_slug: str, browser: FlaskClient
) -> None:
    """The response ends the launch before its page is rendered; that page auto-posts inside the LMS's dialog.

    Under gunicorn the POST may reach a worker whose cache never saw the launch: looking the launch up after the
    view found nothing and sent ``frame-ancestors 'none'``, so Moodle's dialog refused the page and the activity
    was never added (tests/e2e/moodle/test_moodle_lti_flows.py, about one run in two).
    """
    from urllib.parse import urlsplit

    from smeb_lti.lti.framing import PLATFORMS
    from smeb_lti.web.headers import FrameOrigins

    launch_id = _start(browser, lms, platform)
    app.extensions["smeb.frame_origins"] = FrameOrigins(app.extensions["smeb.sessions"], PLATFORMS)  # a cold worker
    response = browser.post("/deep-link/" + launch_id, data={"item": course_slug, "data": "opaque-data-42"})
    assert response.status_code == 200
    issuer = urlsplit(platform.issuer)
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors {issuer.scheme}://{issuer.netloc}" in policy and "'none'" not in policy, policy
    assert "X-Frame-Options" not in response.headers
