"""The demo LMS speaks LTI 1.3 as a platform: OIDC auth, tokens, AGS, NRPS and deep-linking return.

The platform is driven through Flask's test client; the tool's side is a real RSA key whose JWKS
is served over real HTTP on 127.0.0.1 (the platform fetches it as it would from the tool).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from smeb_lti.demo_lms import (
    Tool,
    add_course_link,
    create_platform_app,
    register_tool,
)
from smeb_lti.demo_lms.claims import (
    AGS_CLAIM,
    DL_DATA,
    DL_ITEMS,
    DL_SETTINGS,
    LTI,
    NRPS_CLAIM,
    SCOPE_LINEITEM,
    SCOPE_NRPS,
    SCOPE_SCORE,
)
from smeb_lti.demo_lms.client import forms_of

PLATFORM = "http://platform.test"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"


class ToolKeyServer:
    """The tool's key pair and its JWKS on a real local HTTP server."""

    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        jwk.update({"kid": "tool-key-1", "alg": "RS256", "use": "sig"})
        self.jwks = {"keys": [jwk]}
        self.server = make_server("127.0.0.1", 0, self._app)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/jwks":
            return Response(json.dumps(self.jwks), mimetype="application/json")(environ, start_response)
        return Response(status=404)(environ, start_response)

    def sign(self, claims: dict[str, Any], kid: str = "tool-key-1", key: bytes | None = None) -> str:
        return jwt.encode(claims, key or self.pem, algorithm="RS256", headers={"kid": kid})

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def tool_keys() -> Iterator[ToolKeyServer]:
    server = ToolKeyServer()
    yield server
    server.stop()


@pytest.fixture
def tool(tool_keys: ToolKeyServer) -> Tool:
    return Tool(
        client_id="client-1",
        deployment_id="dep-1",
        name="SMEB",
        login_url="http://tool.test/lti/login",
        launch_url="http://tool.test/lti/launch",
        jwks_url=tool_keys.url + "/jwks",
        redirect_uris=("http://tool.test/lti/launch",),
        deep_link_url="http://tool.test/lti/launch",
    )


@pytest.fixture
def app(tmp_path: Path, tool: Tool) -> Any:
    db = tmp_path / "platform.db"
    register_tool(db, tool)
    add_course_link(db, tool, "rl-kurs", "Kurs", {"course": "all-blocks"}, 5)
    return create_platform_app({"PLATFORM_URL": PLATFORM, "PLATFORM_DB": str(db), "PLATFORM_PAGE_SIZE": 5})


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def _login(client: Any, user: str = "demo-ola", link: str = "rl-kurs") -> dict[str, str]:
    """Press the start button; return the login-initiation fields the platform posts to the tool."""
    page = client.post(f"/launch/{link}", data={"user": user})
    assert page.status_code == 200
    form = forms_of(page.get_data(as_text=True))[0]
    assert form.action == "http://tool.test/lti/login"
    return form.fields


def _auth_params(login: dict[str, str], **overrides: str) -> dict[str, str]:
    params = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": login["client_id"],
        "redirect_uri": "http://tool.test/lti/launch",
        "state": "state-1",
        "nonce": "nonce-1",
        "login_hint": login["login_hint"],
        "lti_message_hint": login["lti_message_hint"],
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v != ""}


def _id_token(client: Any, **overrides: str) -> dict[str, Any]:
    login = _login(client, overrides.pop("user", "demo-ola"))
    response = client.get("/auth", query_string=_auth_params(login, **overrides))
    assert response.status_code == 200, response.get_data(as_text=True)
    form = forms_of(response.get_data(as_text=True))[0]
    assert form.action == "http://tool.test/lti/launch" and form.fields["state"] == "state-1"
    jwks = client.get("/.well-known/jwks.json").get_json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    assert jwt.get_unverified_header(form.fields["id_token"])["kid"] == jwks["keys"][0]["kid"]
    return jwt.decode(form.fields["id_token"], key, algorithms=["RS256"], audience="client-1", issuer=PLATFORM)


def _token(client: Any, tool_keys: ToolKeyServer, scopes: str = f"{SCOPE_SCORE} {SCOPE_LINEITEM} {SCOPE_NRPS}", **claims: Any) -> Any:
    now = int(time.time())
    body = {"iss": "client-1", "sub": "client-1", "aud": PLATFORM + "/token", "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
    body.update(claims)
    assertion = tool_keys.sign(body)
    return client.post("/token", data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
        "scope": scopes,
    })


def _bearer(client: Any, tool_keys: ToolKeyServer, scopes: str = f"{SCOPE_SCORE} {SCOPE_LINEITEM} {SCOPE_NRPS}") -> dict[str, str]:
    response = _token(client, tool_keys, scopes)
    assert response.status_code == 200, response.get_json()
    return {"Authorization": "Bearer " + response.get_json()["access_token"]}


# -- OIDC authorization endpoint --------------------------------------------------------------


def test_a_resource_link_launch_gets_a_signed_id_token_with_the_lti_claims(client: Any) -> None:
    claims = _id_token(client)
    assert claims["sub"] == "demo-ola" and claims["nonce"] == "nonce-1" and claims["name"] == "Ola Nordmann"
    assert claims[LTI + "message_type"] == "LtiResourceLinkRequest" and claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "deployment_id"] == "dep-1"
    assert claims[LTI + "resource_link"]["id"] == "rl-kurs"
    assert claims[LTI + "custom"] == {"course": "all-blocks"}
    assert claims[LTI + "roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
                                     "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"]
    assert claims[AGS_CLAIM]["lineitem"].startswith(PLATFORM + "/api/contexts/") and SCOPE_SCORE in claims[AGS_CLAIM]["scope"]
    assert claims[NRPS_CLAIM]["context_memberships_url"].endswith("/memberships")


def test_the_instructor_button_launches_with_the_instructor_role(client: Any) -> None:
    claims = _id_token(client, user="demo-kari")
    assert "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor" in claims[LTI + "roles"]


def test_an_unregistered_redirect_uri_gets_nothing_posted_to_it(client: Any) -> None:
    login = _login(client)
    response = client.get("/auth", query_string=_auth_params(login, redirect_uri="https://evil.example/steal"))
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "is not registered" in text
    assert "evil.example/steal\"" not in text and not forms_of(text)


@pytest.mark.parametrize(
    "override, message",
    [
        ({"nonce": ""}, "nonce is required"),
        ({"response_type": "code"}, "response_type must be"),
        ({"prompt": "login"}, "prompt must be"),
        ({"scope": "profile"}, "scope must contain"),
        ({"response_mode": "query"}, "response_mode must be"),
        ({"login_hint": "demo-kari"}, "login_hint does not belong"),
        ({"lti_message_hint": "forged"}, "lti_message_hint is unknown"),
    ],
)
def test_a_wrong_authentication_request_is_refused_back_to_the_tool(client: Any, override: dict[str, str], message: str) -> None:
    login = _login(client)
    response = client.get("/auth", query_string=_auth_params(login, **override))
    assert response.status_code == 400
    form = forms_of(response.get_data(as_text=True))[0]
    assert form.action == "http://tool.test/lti/launch"
    assert form.fields["error"] == "invalid_request" and message in form.fields["error_description"]
    assert "id_token" not in form.fields and form.fields["state"] == "state-1"


def test_a_launch_hint_can_be_used_once(client: Any) -> None:
    login = _login(client)
    assert client.get("/auth", query_string=_auth_params(login)).status_code == 200
    again = client.get("/auth", query_string=_auth_params(login))
    assert again.status_code == 400 and "lti_message_hint is unknown" in forms_of(again.get_data(as_text=True))[0].fields["error_description"]


def test_the_message_hint_has_moodles_shape_and_names_the_course_module(client: Any) -> None:
    hint = json.loads(_login(client)["lti_message_hint"])
    assert hint["cmid"] == "rl-kurs" and len(hint["launchid"]) > 20 and set(hint) == {"cmid", "launchid"}


def test_moodles_launch_page_starts_a_fresh_launch_for_the_signed_in_user(client: Any) -> None:
    first = _login(client, "demo-kari")  # pressing a start button signs the demo user in (Moodle's session)
    assert client.get("/auth", query_string=_auth_params(first)).status_code == 200  # the hint is used up
    page = client.get("/mod/lti/launch.php", query_string={"id": "rl-kurs", "triggerview": "0"})
    assert page.status_code == 200
    fresh = forms_of(page.get_data(as_text=True))[0]
    assert fresh.action == "http://tool.test/lti/login" and fresh.fields["login_hint"] == "demo-kari"
    assert fresh.fields["lti_message_hint"] != first["lti_message_hint"]
    assert client.get("/auth", query_string=_auth_params(fresh.fields)).status_code == 200


def test_moodles_launch_page_needs_a_signed_in_user(client: Any) -> None:
    response = client.get("/mod/lti/launch.php", query_string={"id": "rl-kurs"})
    assert response.status_code == 400 and "no demo user is signed in" in response.get_data(as_text=True)
    assert client.get("/mod/lti/launch.php", query_string={"id": "rl-none"}).status_code == 404


def test_the_embedded_activity_page_frames_moodles_launch_page(client: Any) -> None:
    page = client.get("/mod/lti/view.php", query_string={"id": "rl-kurs", "user": "demo-ola"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="contentframe"' in text and 'src="/mod/lti/launch.php?id=rl-kurs&amp;triggerview=0"' in text
    launch = forms_of(client.get("/mod/lti/launch.php", query_string={"id": "rl-kurs"}).get_data(as_text=True))[0]
    assert launch.fields["login_hint"] == "demo-ola"


# -- OAuth2 token endpoint -------------------------------------------------------------------


def test_a_signed_client_assertion_gets_a_scoped_access_token(client: Any, tool_keys: ToolKeyServer) -> None:
    response = _token(client, tool_keys, SCOPE_SCORE)
    body = response.get_json()
    assert response.status_code == 200 and body["token_type"] == "Bearer" and body["scope"] == SCOPE_SCORE and body["expires_in"] > 0


def test_a_replayed_client_assertion_is_refused(client: Any, tool_keys: ToolKeyServer) -> None:
    now = int(time.time())
    assertion = tool_keys.sign({"iss": "client-1", "sub": "client-1", "aud": PLATFORM + "/token", "iat": now, "exp": now + 60, "jti": "same"})
    form = {"grant_type": "client_credentials", "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion, "scope": SCOPE_SCORE}
    assert client.post("/token", data=form).status_code == 200
    again = client.post("/token", data=form)
    assert again.status_code == 401 and "jti was used before" in again.get_json()["error_description"]


def test_a_client_assertion_signed_with_another_key_is_refused(client: Any, tool_keys: ToolKeyServer) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    now = int(time.time())
    assertion = tool_keys.sign({"iss": "client-1", "sub": "client-1", "aud": PLATFORM + "/token", "iat": now, "exp": now + 60,
                                "jti": "x1"}, key=other)
    response = client.post("/token", data={"grant_type": "client_credentials", "scope": SCOPE_SCORE, "client_assertion": assertion,
                                           "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "claims, scopes, status, error",
    [
        ({"aud": "http://someone-else.test/token"}, SCOPE_SCORE, 401, "invalid_client"),
        ({"exp": int(time.time()) - 3600}, SCOPE_SCORE, 401, "invalid_client"),
        ({"sub": "client-2"}, SCOPE_SCORE, 401, "invalid_client"),
        ({}, "https://example.com/scope/everything", 400, "invalid_scope"),
    ],
)
def test_a_wrong_token_request_gets_an_oauth_error(client: Any, tool_keys: ToolKeyServer, claims: dict[str, Any], scopes: str,
                                                   status: int, error: str) -> None:
    response = _token(client, tool_keys, scopes, **claims)
    assert response.status_code == status and response.get_json()["error"] == error


# -- AGS -------------------------------------------------------------------------------------


def _lineitem_url(client: Any) -> str:
    return urlsplit(_id_token(client)[AGS_CLAIM]["lineitem"]).path


def _score(**changes: Any) -> dict[str, Any]:
    score = {"userId": "demo-ola", "scoreGiven": 4, "scoreMaximum": 5, "activityProgress": "Completed",
             "gradingProgress": "FullyGraded", "timestamp": "2026-11-21T10:00:00.000Z"}
    score.update(changes)
    return {k: v for k, v in score.items() if v is not None}


def test_a_posted_score_shows_in_the_gradebook(client: Any, tool_keys: ToolKeyServer) -> None:
    url = _lineitem_url(client)
    response = client.post(url + "/scores", data=json.dumps(_score()), content_type=SCORE_TYPE, headers=_bearer(client, tool_keys))
    assert response.status_code == 200
    page = client.get("/gradebook").get_data(as_text=True)
    assert '<td class="grade">4 / 5</td>' in page and "Ola Nordmann" in page and "FullyGraded" in page
    assert "score for demo-ola: 4/5" in client.get("/log").get_data(as_text=True)


def test_a_score_not_later_than_the_result_on_record_is_refused_with_409_like_moodle(client: Any, tool_keys: ToolKeyServer) -> None:
    url, auth = _lineitem_url(client), _bearer(client, tool_keys)

    def post(**changes: Any) -> Any:
        return client.post(url + "/scores", data=json.dumps(_score(**changes)), content_type=SCORE_TYPE, headers=auth)

    assert post(scoreGiven=4, timestamp="2026-11-21T10:00:00.100Z").status_code == 200
    older = post(scoreGiven=1, timestamp="2026-11-21T09:00:00Z")
    assert older.status_code == 409 and "earlier timestamp" in older.get_json()["error_description"]
    # Moodle keeps whole seconds (strtotime): later milliseconds in the same second are refused too.
    assert post(scoreGiven=5, timestamp="2026-11-21T10:00:00.900Z").status_code == 409
    assert '<td class="grade">4 / 5</td>' in client.get("/gradebook").get_data(as_text=True)
    assert post(scoreGiven=5, timestamp="2026-11-21T10:00:01.000Z").status_code == 200
    assert '<td class="grade">5 / 5</td>' in client.get("/gradebook").get_data(as_text=True)


@pytest.mark.parametrize("user", ["demo-kari", "demo-admin"])
def test_a_score_for_a_teacher_is_refused_with_400_like_moodle(client: Any, tool_keys: ToolKeyServer, user: str) -> None:
    response = client.post(_lineitem_url(client) + "/scores", data=json.dumps(_score(userId=user)), content_type=SCORE_TYPE,
                           headers=_bearer(client, tool_keys))
    assert response.status_code == 400 and "not gradable" in response.get_json()["error_description"]


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"userId": None}, "userId"),
        ({"userId": "someone-else"}, "userId"),
        ({"scoreGiven": -1}, "scoreGiven"),
        ({"scoreGiven": "4"}, "scoreGiven"),
        ({"scoreMaximum": None}, "scoreMaximum"),
        ({"scoreMaximum": 0}, "scoreMaximum"),
        ({"activityProgress": "Done"}, "activityProgress"),
        ({"gradingProgress": None}, "gradingProgress"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2026-11-21T10:00:00"}, "timestamp"),
        ({"comment": 7}, "comment"),
    ],
)
def test_a_malformed_score_is_refused_naming_the_field(client: Any, tool_keys: ToolKeyServer, changes: dict[str, Any], field: str) -> None:
    url = _lineitem_url(client)
    response = client.post(url + "/scores", data=json.dumps(_score(**changes)), content_type=SCORE_TYPE, headers=_bearer(client, tool_keys))
    assert response.status_code == 400 and f"'{field}'" in response.get_json()["error_description"]
    assert "No results yet" in client.get("/gradebook?lang=en").get_data(as_text=True)


def test_scores_need_a_bearer_token_with_the_score_scope(client: Any, tool_keys: ToolKeyServer) -> None:
    url = _lineitem_url(client)
    body = json.dumps(_score())
    no_token = client.post(url + "/scores", data=body, content_type=SCORE_TYPE)
    assert no_token.status_code == 401 and "Bearer" in no_token.headers["WWW-Authenticate"]
    wrong_scope = client.post(url + "/scores", data=body, content_type=SCORE_TYPE, headers=_bearer(client, tool_keys, SCOPE_NRPS))
    assert wrong_scope.status_code == 403 and wrong_scope.get_json()["error"] == "insufficient_scope"
    forged = client.post(url + "/scores", data=body, content_type=SCORE_TYPE, headers={"Authorization": "Bearer made-up"})
    assert forged.status_code == 401
    wrong_type = client.post(url + "/scores", data=body, content_type="text/plain", headers=_bearer(client, tool_keys))
    assert wrong_type.status_code == 415


def test_line_items_can_be_created_read_updated_and_listed_with_paging(client: Any, tool_keys: ToolKeyServer) -> None:
    auth = _bearer(client, tool_keys)
    container = urlsplit(_id_token(client)[AGS_CLAIM]["lineitems"]).path
    for n in range(6):
        created = client.post(container, data=json.dumps({"label": f"Modul {n}", "scoreMaximum": 10, "tag": "modul"}),
                              content_type="application/vnd.ims.lis.v2.lineitem+json", headers=auth)
        assert created.status_code == 201 and created.get_json()["id"].startswith(PLATFORM)
    bad = client.post(container, data=json.dumps({"label": "x", "scoreMaximum": 0}), content_type="application/vnd.ims.lis.v2.lineitem+json", headers=auth)
    assert bad.status_code == 400 and "scoreMaximum" in bad.get_json()["error_description"]
    first = client.get(container + "?tag=modul", headers=auth)
    assert len(first.get_json()) == 5 and 'rel="next"' in first.headers["Link"]
    next_url = first.headers["Link"].split(">")[0].lstrip("<")
    second = client.get(urlsplit(next_url).path + "?" + urlsplit(next_url).query, headers=auth)
    assert [i["label"] for i in second.get_json()] == ["Modul 5"] and "Link" not in second.headers
    item = urlsplit(second.get_json()[0]["id"]).path
    updated = client.put(item, data=json.dumps({"label": "Modul fem", "scoreMaximum": 20}), content_type="application/vnd.ims.lis.v2.lineitem+json", headers=auth)
    assert updated.get_json()["label"] == "Modul fem" and client.get(item, headers=auth).get_json()["scoreMaximum"] == 20


# -- NRPS ------------------------------------------------------------------------------------


def test_the_membership_service_pages_through_every_member_with_link_headers(client: Any, tool_keys: ToolKeyServer) -> None:
    url = urlsplit(_id_token(client)[NRPS_CLAIM]["context_memberships_url"]).path
    auth, seen, pages = _bearer(client, tool_keys, SCOPE_NRPS), [], 0
    next_url: str | None = url + "?limit=5"
    while next_url:
        response = client.get(next_url, headers=auth)
        assert response.status_code == 200 and response.mimetype == "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        seen += [m["user_id"] for m in response.get_json()["members"]]
        pages += 1
        link = response.headers.get("Link")
        next_url = None if link is None else (lambda u: u.path + "?" + u.query)(urlsplit(link.split(">")[0].lstrip("<")))
    assert pages == 3 and len(seen) == len(set(seen)) == 12 and seen[:3] == ["demo-ola", "demo-kari", "demo-admin"]
    instructors = client.get(url + "?role=Instructor", headers=auth).get_json()["members"]
    assert [m["name"] for m in instructors] == ["Kari Nordmann"]
    assert "NRPS" in client.get("/log").get_data(as_text=True)


# -- Deep linking return ---------------------------------------------------------------------


def _deep_link_settings(client: Any) -> dict[str, Any]:
    start = client.post("/deep-link/start", data={"client_id": "client-1", "user": "demo-kari"})
    fields = forms_of(start.get_data(as_text=True))[0].fields
    response = client.get("/auth", query_string=_auth_params(fields))
    token = forms_of(response.get_data(as_text=True))[0].fields["id_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims[LTI + "message_type"] == "LtiDeepLinkingRequest"
    return claims[DL_SETTINGS]


def _response_jwt(tool_keys: ToolKeyServer, data: str, items: list[dict[str, Any]], **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": "client-1", "aud": PLATFORM, "iat": now, "exp": now + 600, "nonce": uuid.uuid4().hex,
              LTI + "message_type": "LtiDeepLinkingResponse", LTI + "version": "1.3.0", LTI + "deployment_id": "dep-1",
              DL_DATA: data, DL_ITEMS: items}
    claims.update(changes)
    return tool_keys.sign(claims)


ITEM = {"type": "ltiResourceLink", "title": "Modul 1", "url": "http://tool.test/lti/launch", "custom": {"course": "all-blocks", "module": "m1"},
        "lineItem": {"scoreMaximum": 5, "label": "Modul 1", "resourceId": "all-blocks/m1"}}


def test_a_deep_linking_response_creates_the_link_and_its_line_item(client: Any, tool_keys: ToolKeyServer) -> None:
    settings = _deep_link_settings(client)
    assert settings["deep_link_return_url"] == PLATFORM + "/deep-link/return"
    response = client.post("/deep-link/return", data={"JWT": _response_jwt(tool_keys, settings["data"], [ITEM])})
    assert response.status_code == 200 and "Modul 1" in response.get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert "Modul 1" in home and "(maks 5)" in home
    gradebook = client.get("/gradebook").get_data(as_text=True)
    assert "<code>all-blocks/m1</code>" in gradebook
    again = client.post("/deep-link/return", data={"JWT": _response_jwt(tool_keys, settings["data"], [ITEM])})
    assert again.status_code == 400 and "data" in again.get_data(as_text=True)  # data is single-use


@pytest.mark.parametrize(
    "changes, status, message",
    [
        ({"aud": "http://other-platform.test"}, 401, "refused"),
        ({LTI + "message_type": "LtiResourceLinkRequest"}, 400, "message_type"),
        ({LTI + "deployment_id": "dep-x"}, 400, "deployment_id"),
        ({"nonce": None}, 400, "nonce"),
        ({DL_DATA: "forged"}, 400, "data"),
        ({DL_ITEMS: [{**ITEM, "lineItem": {"scoreMaximum": 0}}]}, 400, "scoreMaximum"),
        ({DL_ITEMS: [{"type": "file", "url": "http://tool.test/x.pdf"}]}, 400, "ltiResourceLink"),
    ],
)
def test_a_wrong_deep_linking_response_creates_nothing(client: Any, tool_keys: ToolKeyServer, changes: dict[str, Any], status: int,
                                                       message: str) -> None:
    settings = _deep_link_settings(client)
    token = _response_jwt(tool_keys, settings["data"], [ITEM], **{k: v for k, v in changes.items() if v is not None})
    if changes.get("nonce", "") is None:
        body = jwt.decode(token, options={"verify_signature": False})
        body.pop("nonce")
        token = tool_keys.sign(body)
    response = client.post("/deep-link/return", data={"JWT": token})
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert "Modul 1" not in client.get("/").get_data(as_text=True)


def test_pages_are_norwegian_by_default_and_english_on_request(client: Any) -> None:
    home = client.get("/").get_data(as_text=True)
    assert '<html lang="nb">' in home and "Start som deltaker" in home and "Start som instruktør" in home and "Legg til innhold" in home
    english = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Start as learner" in english
    assert "demo_lang=en" in client.get("/?lang=en").headers["Set-Cookie"]


def test_the_login_initiation_carries_the_platform_issuer_and_hints(client: Any) -> None:
    fields = _login(client)
    assert fields["iss"] == PLATFORM and fields["login_hint"] == "demo-ola" and fields["lti_deployment_id"] == "dep-1"
    assert fields["target_link_uri"] == "http://tool.test/lti/launch" and len(fields["lti_message_hint"]) > 20
    assert not parse_qs(urlsplit(fields["target_link_uri"]).query)
