"""ADL LRS conformance, request level: versions, methods, parameter names, alternate syntax, HEAD,
content types, authentication, About, CORS (xAPI 1.0.3 Communication 1.x, 2.8, 3.2, 3.3, 4).

Each test names the requirement id of adlnet/xapi-lrs-conformance-requirements it exercises.
These rules do not depend on the database engine, so they share one SQLite LRS per module.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import urlencode

import pytest

from tests.support.lrs_server import statement

AGENT = json.dumps({"objectType": "Agent", "mbox": "mailto:conformance@example.com"})
ACTIVITY = "http://www.example.com/meetings/occurances/34534"


@pytest.fixture
def lrs(shared_lrs):
    return shared_lrs


# --------------------------------------------------------------------------- versions (Communication 3.3)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
def test_xapi_00321_a_statements_request_without_the_version_header_is_rejected(lrs, method):
    sid = str(uuid.uuid4())
    body = statement(id=sid) if method != "GET" else None
    params = {"statementId": sid} if method != "POST" else None
    response = lrs.request(method, "/statements", params=params, json_body=body, version=None)
    assert response.status_code == 400


def test_xapi_00321_the_about_resource_needs_no_version_header_nor_credentials(lrs):
    response = lrs.client.get(lrs.base + "/about")
    assert response.status_code == 200


@pytest.mark.parametrize("version", ["1.0", "1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.9"])
def test_xapi_00331_every_1_0_x_version_header_is_accepted(lrs, version):
    assert lrs.get_statements(limit=1, headers={"X-Experience-API-Version": version}).status_code == 200


@pytest.mark.parametrize("version", ["0.9", "0.95", "1.1.0", "3.0.0", "1", "banana"])
def test_xapi_00331_any_other_version_header_is_rejected(lrs, version):
    assert lrs.get_statements(limit=1, headers={"X-Experience-API-Version": version}).status_code == 400


@pytest.mark.parametrize("path", ["/statements?limit=1", "/about", "/activities?activityId=" + ACTIVITY])
def test_xapi_00333_responses_carry_the_latest_1_0_patch_version(lrs, path):
    response = lrs.request("GET", path)
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_xapi_00332_a_statement_keeps_the_version_it_was_accepted_with(lrs):
    s = statement(version="1.0.1")
    assert lrs.post_statements(s).status_code == 200
    assert lrs.get_statements(statementId=s["id"]).get_json()["version"] == "1.0.1"


def test_xapi_00330_the_lrs_does_not_convert_a_statement_to_an_older_format(lrs):
    s = statement()
    lrs.post_statements(s)
    got = lrs.get_statements(statementId=s["id"]).get_json()
    assert (got["actor"], got["verb"], got["object"]) == (s["actor"], s["verb"], s["object"])


# --------------------------------------------------------------------------- parameters (Communication 3.2)
@pytest.mark.parametrize(
    "params",
    [
        {"StatementId": str(uuid.uuid4())},
        {"VoidedStatementId": str(uuid.uuid4())},
        {"Agent": AGENT},
        {"Verb": "http://adlnet.gov/expapi/verbs/attended"},
        {"Activity": ACTIVITY},
        {"Registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7"},
        {"Related_Activities": "true"},
        {"Related_Agents": "true"},
        {"Since": "2012-06-01T19:09:13.245Z"},
        {"Until": "2012-06-01T19:09:13.245Z"},
        {"Limit": "10"},
        {"Format": "ids"},
        {"Attachments": "true"},
        {"Ascending": "true"},
    ],
)
def test_xapi_00325_a_statements_parameter_with_differing_case_is_rejected(lrs, params):
    assert lrs.get_statements(**params).status_code == 400


def test_xapi_00325_a_put_with_statementid_in_differing_case_is_rejected(lrs):
    s = statement()
    assert lrs.request("PUT", "/statements", params={"StatementId": s["id"]}, json_body=s).status_code == 400


@pytest.mark.parametrize(
    "path, params",
    [
        ("/statements", {"foo": "bar"}),
        ("/activities/state", {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s", "foo": "bar"}),
        ("/activities/profile", {"activityId": ACTIVITY, "profileId": "p", "foo": "bar"}),
        ("/agents/profile", {"agent": AGENT, "profileId": "p", "foo": "bar"}),
        ("/activities", {"activityId": ACTIVITY, "foo": "bar"}),
        ("/agents", {"agent": AGENT, "foo": "bar"}),
    ],
)
def test_xapi_00324_an_unrecognized_parameter_is_rejected(lrs, path, params):
    assert lrs.request("GET", path, params=params).status_code == 400


# --------------------------------------------------------------------------- methods (405)
@pytest.mark.parametrize(
    "method, path, params",
    [
        ("DELETE", "/statements", {"statementId": "ec531277-b57b-4c15-8d91-d292c5b2b8f7"}),
        ("DELETE", "/activities", {"activityId": ACTIVITY}),
        ("POST", "/activities", {"activityId": ACTIVITY}),
        ("PUT", "/activities", {"activityId": ACTIVITY}),
        ("DELETE", "/agents", {"agent": AGENT}),
        ("POST", "/agents", {"agent": AGENT}),
        ("PUT", "/agents", {"agent": AGENT}),
        ("POST", "/about", None),
        ("PUT", "/about", None),
        ("DELETE", "/about", None),
    ],
)
def test_a_method_the_specification_does_not_define_for_a_resource_is_405(lrs, method, path, params):
    """ADL suite: 'An LRS rejects with error code 405 Method Not Allowed ...' (non_templating, Communication 3.2)."""
    response = lrs.request(method, path, params=params, json_body={} if method in ("POST", "PUT") else None)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


# --------------------------------------------------------------------------- alternate request syntax (Communication 1.3)
def _form(lrs, method: str, form: dict, query_params: dict | None = None, **kwargs):
    query = urlencode({"method": method, **(query_params or {})})
    return lrs.request("POST", f"/statements?{query}", data=urlencode(form), content_type="application/x-www-form-urlencoded", **kwargs)


def test_xapi_00148_a_post_containing_a_get_returns_a_statement_result(lrs):
    response = _form(lrs, "GET", {"limit": "1"})
    assert response.status_code == 200
    assert set(response.get_json()) == {"statements", "more"}


def test_xapi_00336_an_alternate_put_issued_as_post_stores_the_statement(lrs):
    s = statement()
    response = _form(lrs, "PUT", {"statementId": s["id"], "content": json.dumps(s)})
    assert response.status_code == 204
    assert lrs.get_statements(statementId=s["id"]).status_code == 200


def test_xapi_00336_headers_travel_as_form_fields_when_the_client_cannot_set_them(lrs):
    s = statement()
    form = {"statementId": s["id"], "content": json.dumps(s), "X-Experience-API-Version": "1.0.3", "Authorization": lrs.auth}
    query = urlencode({"method": "PUT"})
    response = lrs.client.post(lrs.base + f"/statements?{query}", data=urlencode(form), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 204


def test_xapi_00336_an_alternate_syntax_request_not_sent_as_post_is_rejected(lrs):
    s = statement()
    response = lrs.request("GET", "/statements", params={"method": "POST"}, data=urlencode({"content": json.dumps(s)}),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_xapi_00336_parameters_outside_the_form_body_are_rejected(lrs):
    s = statement()
    response = _form(lrs, "PUT", {"statementId": s["id"], "content": json.dumps(s)}, {"statementId": s["id"]})
    assert response.status_code == 400


def test_xapi_00336_an_alternate_put_without_content_is_rejected(lrs):
    response = lrs.request("POST", "/statements?method=PUT")
    assert response.status_code == 400


def test_xapi_00336_an_alternate_put_whose_body_is_not_url_encoded_is_rejected(lrs):
    s = statement()
    body = json.dumps({"statementId": s["id"], "content": json.dumps(s)})
    response = lrs.request("POST", "/statements?method=PUT", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_xapi_00336_a_form_field_disagreeing_with_the_real_header_of_that_name_is_400(lrs):
    """Communication 1.3.s3.b7: the ADL suite sends X-Experience-API-Version 1.0.3 as a header and 0.8 in the form."""
    s = statement()
    response = _form(lrs, "PUT", {"statementId": s["id"], "content": json.dumps(s), "X-Experience-API-Version": "0.8"})
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert "'0.8'" in message and "'1.0.3'" in message
    assert lrs.get_statements(statementId=s["id"]).status_code == 404


def test_xapi_00336_a_form_field_agreeing_with_the_real_header_is_fine(lrs):
    s = statement()
    form = {"statementId": s["id"], "content": json.dumps(s), "X-Experience-API-Version": "1.0.3", "Authorization": lrs.auth}
    assert _form(lrs, "PUT", form).status_code == 204
    assert lrs.get_statements(statementId=s["id"]).status_code == 200


def test_xapi_00336_a_disagreeing_authorization_form_field_is_400_without_echoing_credentials(lrs):
    s = statement()
    other = lrs.credential("all")
    response = _form(lrs, "PUT", {"statementId": s["id"], "content": json.dumps(s), "Authorization": other})
    assert response.status_code == 400
    message = response.get_json()["message"]
    assert "Authorization" in message and other not in message and lrs.auth not in message


def test_xapi_00336_a_profile_can_be_created_with_if_none_match_as_a_form_field(lrs):
    profile = {"activityId": ACTIVITY, "profileId": f"alt-{uuid.uuid4()}"}
    form = {**profile, "content": '{"p": 1}', "Content-Type": "application/json"}
    path = "/activities/profile?method=PUT"
    refused = lrs.request("POST", path, data=urlencode(form), content_type="application/x-www-form-urlencoded")
    assert refused.status_code == 400  # a profile PUT needs If-Match or If-None-Match (Communication 3.1)
    created = lrs.request("POST", path, data=urlencode({**form, "If-None-Match": "*"}), content_type="application/x-www-form-urlencoded")
    assert created.status_code == 204
    assert lrs.request("GET", "/activities/profile", params=profile).get_json() == {"p": 1}


def test_xapi_00336_documents_work_through_the_alternate_syntax_too(lrs):
    form = {"activityId": ACTIVITY, "agent": AGENT, "stateId": f"alt-{uuid.uuid4()}", "content": '{"a": 1}',
            "Content-Type": "application/json"}
    put = lrs.request("POST", "/activities/state?method=PUT", data=urlencode(form), content_type="application/x-www-form-urlencoded")
    assert put.status_code == 204
    got = lrs.request("GET", "/activities/state", params={k: form[k] for k in ("activityId", "agent", "stateId")})
    assert got.get_json() == {"a": 1}


# --------------------------------------------------------------------------- HEAD (Communication 1.1)
@pytest.mark.parametrize(
    "path",
    [
        "/statements?limit=1",
        "/about",
        "/activities?" + urlencode({"activityId": ACTIVITY}),
        "/agents?" + urlencode({"agent": AGENT}),
        "/activities/state?" + urlencode({"activityId": ACTIVITY, "agent": AGENT}),
        "/activities/profile?" + urlencode({"activityId": ACTIVITY}),
        "/agents/profile?" + urlencode({"agent": AGENT}),
    ],
)
def test_xapi_00125_and_00126_head_answers_like_get_without_a_body(lrs, path):
    """Communication 1.1: the LRS responds to HEAD like GET but with an empty body."""
    get = lrs.request("GET", path)
    head = lrs.request("HEAD", path)
    assert head.status_code == get.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


def test_xapi_00125_head_of_a_single_statement_gives_its_headers(lrs):
    s = statement()
    lrs.post_statements(s)
    head = lrs.request("HEAD", "/statements", params={"statementId": s["id"]})
    assert head.status_code == 200 and head.data == b""
    assert "Last-Modified" in head.headers and "X-Experience-API-Consistent-Through" in head.headers


# --------------------------------------------------------------------------- content types (Communication 1.5)
def test_xapi_00127_a_statement_post_without_a_json_or_multipart_content_type_is_rejected(lrs):
    s = statement()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        response = lrs.request("POST", "/statements", data=json.dumps(s), content_type=content_type)
        assert response.status_code == 400, content_type
    assert lrs.get_statements(statementId=s["id"]).status_code == 404


def test_xapi_00127_a_json_content_type_with_a_charset_is_accepted(lrs):
    s = statement()
    response = lrs.request("POST", "/statements", data=json.dumps(s), content_type="application/json; charset=utf-8")
    assert response.status_code == 200


def test_xapi_00015_utf8_text_round_trips(lrs):
    """Data 2.2 / Communication 1.4: strings are encoded and interpreted as UTF-8."""
    s = statement(verb="http://adlnet.gov/expapi/verbs/experienced")
    s["verb"]["display"] = {"nb-NO": "opplevde æøå ÆØÅ 漢字 🎉"}
    response = lrs.request("POST", "/statements", data=json.dumps(s, ensure_ascii=False).encode("utf-8"), content_type="application/json")
    assert response.status_code == 200
    got = lrs.get_statements(statementId=s["id"])
    assert got.get_json()["verb"]["display"]["nb-NO"] == "opplevde æøå ÆØÅ 漢字 🎉"
    assert got.headers["Content-Type"].startswith("application/json")


# --------------------------------------------------------------------------- authentication (Communication 4)
def test_xapi_00334_a_request_without_credentials_is_401(lrs):
    response = lrs.client.get(lrs.base + "/statements", headers={"X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("header", ["Basic badauth", "Basic " + "Um9iQ0lzTm90OkFVc2VyT25UaGlzTFJT", "Basic:Um9iQ0lzTm90OkFVc2VyT25UaGlzTFJT",
                                    "Digest abc", "Bearer lt.x.y"])
def test_xapi_00334_unknown_or_malformed_credentials_are_401(lrs, header):
    assert lrs.get_statements(limit=1, auth=header).status_code == 401


def test_xapi_00335_http_basic_authentication_is_supported(lrs):
    s = statement()
    assert lrs.request("PUT", "/statements", params={"statementId": s["id"]}, json_body=s).status_code == 204


def test_xapi_00014_a_string_that_looks_like_json_is_not_an_object_type(lrs):
    s = statement()
    s["actor"]["objectType"] = '"objectType": "Agent"'
    assert lrs.post_statements(s).status_code == 400


def test_xapi_00327_valid_credentials_without_the_scope_are_403(lrs):
    reader = lrs.credential("statements/read")
    assert lrs.post_statements(statement(), auth=reader).status_code == 403
    assert lrs.get_statements(limit=1, auth=reader).status_code == 200


def test_xapi_00334_credentials_of_another_tenant_are_refused(lrs):
    foreign = lrs.credential("all", tenant="other")
    assert lrs.get_statements(limit=1, auth=foreign).status_code == 401


# --------------------------------------------------------------------------- about (Communication 2.8)
def test_xapi_00315_to_00320_about_lists_1_0_x_versions_as_an_array_and_may_have_extensions(lrs):
    response = lrs.request("GET", "/about")
    assert response.status_code == 200
    body = response.get_json()
    assert isinstance(body["version"], list) and all(isinstance(v, str) for v in body["version"])
    assert "1.0.3" in body["version"]
    assert all(re.fullmatch(r"0\.9|0\.95|1\.0\.\d+|2\.0\.\d+", v) for v in body["version"])
    assert isinstance(body.get("extensions", {}), dict)


def test_about_rejects_parameters(lrs):
    assert lrs.request("GET", "/about", params={"x": "1"}).status_code == 400


# --------------------------------------------------------------------------- error size (Communication 3.2)
def test_xapi_00323_00328_a_statement_larger_than_the_configured_limit_is_413(lrs):
    s = statement()
    s["result"] = {"response": "x" * 300_000}
    assert lrs.post_statements(s).status_code == 413


def test_errors_are_json_with_a_message_that_says_what_to_do(lrs):
    response = lrs.get_statements(Limit="1")
    body = response.get_json()
    assert body["error"] == 400 and "case-sensitive" in body["message"]


# --------------------------------------------------------------------------- CORS
def test_a_cors_preflight_is_answered_for_any_origin(lrs):
    response = lrs.client.options(lrs.base + "/statements", headers={
        "Origin": "https://moodle.example.com", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization, content-type, x-experience-api-version"})
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "https://moodle.example.com"
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]


def test_xapi_00329_a_storage_failure_is_a_json_500_and_the_next_request_works_again(lrs):
    import sqlalchemy as sa

    engine = lrs.app.extensions["smeb.engine"]
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE lrs_statements RENAME TO lrs_statements_away"))
    try:
        response = lrs.post_statements(statement())
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE lrs_statements_away RENAME TO lrs_statements"))
    assert response.status_code == 500
    assert "retry" in response.get_json()["message"]
    assert lrs.post_statements(statement()).status_code == 200
