"""Hostile input to the embedded LRS (issue 13): every refusal is a 400 JSON error naming the field,
with the X-Experience-API-Version header, and nothing is stored. On SQLite and PostgreSQL.

Non-finite numbers (``NaN``, ``Infinity``, ``1e400``) would be stored as text no JSON reader accepts;
50,000 levels of nesting made ``json`` raise RecursionError (an HTML 500); a NUL character cannot be
stored in PostgreSQL ``text`` (the driver fails late: a 500 "could not reach its database").
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.support.lrs_server import statement

AGENT = json.dumps({"objectType": "Agent", "mbox": "mailto:ola@example.com"})
DEEP = "[" * 50_000 + "]" * 50_000


def assert_refused(response: Any, *names: str) -> dict[str, Any]:
    """A 400 xAPI error: JSON, the version header, and a message naming each of ``names``."""
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == 400
    for name in names:
        assert name in body["message"], (name, body["message"])
    return body


def stored_count(lrs: Any) -> int:
    response = lrs.get_statements(limit=0)
    assert response.status_code == 200
    return len(response.get_json()["statements"])


def raw_statement(**replace: str) -> str:
    """A valid statement as JSON text with placeholders replaced by raw (possibly invalid) JSON."""
    s = statement(result={"score": {"raw": "@RAW@"}})
    text = json.dumps(s)
    for key, value in replace.items():
        text = text.replace(f'"@{key.upper()}@"', value)
    return text


# --------------------------------------------------------------------------- item 2: non-finite numbers
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_a_statement_with_a_non_finite_number_is_refused_naming_its_path(lrs, number):
    response = lrs.request("POST", "/statements", data=raw_statement(raw=number), content_type="application/json")
    body = assert_refused(response, "$.result.score.raw")
    assert "finite" in body["message"] or "JSON number" in body["message"]
    assert stored_count(lrs) == 0


def test_a_put_statement_and_a_batch_with_nan_are_refused(lrs):
    text = raw_statement(raw="NaN")
    sid = json.loads(text.replace("NaN", "0"))["id"]
    response = lrs.request("PUT", "/statements", params={"statementId": sid}, data=text, content_type="application/json")
    assert_refused(response, "$.result.score.raw")
    batch = "[" + json.dumps(statement()) + "," + raw_statement(raw="NaN") + "]"
    assert_refused(lrs.request("POST", "/statements", data=batch, content_type="application/json"), "$[1].result.score.raw")
    assert stored_count(lrs) == 0


def test_the_multipart_statement_path_refuses_nan_too(lrs):
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{raw_statement(raw='NaN')}\r\n--{boundary}--\r\n").encode()
    response = lrs.request("POST", "/statements", data=body, content_type=f"multipart/mixed; boundary={boundary}")
    assert_refused(response, "$.result.score.raw")
    assert stored_count(lrs) == 0


def state_params(**extra: str) -> dict[str, str]:
    return {"activityId": "https://smeb.no/xapi/a", "agent": AGENT, "stateId": "s1", **extra}


DOCUMENTS = [
    ("/activities/state", state_params(), {}),
    ("/activities/profile", {"activityId": "https://smeb.no/xapi/a", "profileId": "p1"}, {"If-None-Match": "*"}),
    ("/agents/profile", {"agent": AGENT, "profileId": "p1"}, {"If-None-Match": "*"}),
]


@pytest.mark.parametrize("path, params, headers", DOCUMENTS)
@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_a_json_document_with_nan_is_refused_and_not_stored(lrs, path, params, headers, method):
    response = lrs.request(method, path, params=params, data='{"progress": NaN}', content_type="application/json", headers=headers)
    assert_refused(response, "NaN")
    assert lrs.request("GET", path, params=params).status_code == 404


def test_a_merge_post_with_infinity_leaves_the_stored_document_unchanged(lrs):
    params = state_params()
    assert lrs.request("PUT", "/activities/state", params=params, data='{"a": 1}', content_type="application/json").status_code == 204
    response = lrs.request("POST", "/activities/state", params=params, data='{"b": 1e400}', content_type="application/json")
    assert_refused(response)
    assert lrs.request("GET", "/activities/state", params=params).get_json() == {"a": 1}


# --------------------------------------------------------------------------- item 3: depth
def test_fifty_thousand_levels_of_statement_json_are_a_400_not_a_500(lrs):
    assert_refused(lrs.request("POST", "/statements", data=DEEP, content_type="application/json"), "nested deeper than 32")
    assert stored_count(lrs) == 0


def deep_extension(levels: int) -> dict[str, Any]:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"k": value}
    return statement(context={"extensions": {"https://smeb.no/xapi/ext/deep": value}})


def test_extensions_may_nest_deeply_up_to_the_limit_and_not_beyond(lrs):
    # statement (1) > context (2) > extensions (3) > value: 29 more levels fill the 32.
    assert lrs.post_statements(deep_extension(29)).status_code == 200
    response = lrs.post_statements(deep_extension(30))
    assert_refused(response, "nested deeper than 32")
    assert stored_count(lrs) == 1


def test_a_substatement_with_context_activity_definitions_and_extensions_fits_comfortably(lrs):
    sub = statement(context={"contextActivities": {"parent": [{"id": "https://smeb.no/xapi/p", "definition": {
        "extensions": {"https://smeb.no/xapi/ext/x": {"a": [{"b": [{"c": [1, 2]}]}]}}}}]}})
    for key in ("id",):
        sub.pop(key)
    s = statement(object={"objectType": "SubStatement", **sub})
    assert lrs.post_statements([s]).status_code == 200


def test_the_depth_limit_is_a_setting(migrated_db_url):
    from tests.smeb_lti.lrs.conftest import CONFIG, _tenant_client
    from tests.support.app import make_app

    app = make_app(migrated_db_url, **CONFIG, SMEB_LRS_MAX_JSON_DEPTH=40)
    try:
        lrs = _tenant_client(app)
        assert lrs.post_statements(deep_extension(35)).status_code == 200
        assert_refused(lrs.post_statements(deep_extension(38)), "nested deeper than 40")
    finally:
        app.extensions["smeb.engine"].dispose()


@pytest.mark.parametrize("value", ["12", "0", "-3", "banana", "100000"])
def test_an_invalid_depth_setting_is_refused_at_start_naming_the_variable(migrated_db_url, monkeypatch, value):
    from smeb_lti.app import create_app

    monkeypatch.setenv("SMEB_LRS_MAX_JSON_DEPTH", value)
    with pytest.raises(ValueError, match="SMEB_LRS_MAX_JSON_DEPTH"):
        create_app({"SMEB_DATABASE_URL": migrated_db_url, "TESTING": True})


def test_the_shared_depth_setting_applies_when_the_lrs_one_is_unset(migrated_db_url, monkeypatch):
    from smeb_lti.app import create_app
    from smeb_lti.settings import get_settings

    monkeypatch.delenv("SMEB_LRS_MAX_JSON_DEPTH", raising=False)
    monkeypatch.setenv("SMEB_MAX_JSON_DEPTH", "20")
    app = create_app({"SMEB_DATABASE_URL": migrated_db_url, "TESTING": True})
    assert get_settings(app).lrs_max_json_depth == 20
    app.extensions["smeb.engine"].dispose()


@pytest.mark.parametrize("path, params, headers", DOCUMENTS)
def test_a_deeply_nested_json_document_is_refused(lrs, path, params, headers):
    response = lrs.request("PUT", path, params=params, data=DEEP, content_type="application/json", headers=headers)
    assert_refused(response, "nested deeper than 32")
    assert lrs.request("GET", path, params=params).status_code == 404


@pytest.mark.parametrize("path, name", [("/statements", "agent"), ("/activities/state", "agent"), ("/agents", "agent"),
                                        ("/agents/profile", "agent")])
def test_a_deeply_nested_agent_parameter_is_refused_naming_it(lrs, path, name):
    params = {"activityId": "https://smeb.no/xapi/a"} if path == "/activities/state" else {}
    params[name] = '{"mbox": ' * 40 + '"mailto:a@example.com"' + "}" * 40
    assert_refused(lrs.request("GET", path, params=params), f"'{name}'", "nested deeper")
    params[name] = DEEP
    assert_refused(lrs.request("GET", path, params=params), f"'{name}'")


# --------------------------------------------------------------------------- item 4: NUL and other unstorable text
@pytest.mark.parametrize("name", ["activity", "verb", "agent", "registration", "since", "format", "limit"])
def test_a_nul_in_a_get_statements_parameter_is_refused_naming_it(lrs, name):
    values = {"activity": "https://smeb.no/x\x00", "verb": "https://smeb.no/v\x00", "agent": AGENT[:-1] + '\x00}',
              "registration": str(uuid.uuid4()) + "\x00", "since": "2026-01-01T00:00:00Z\x00", "format": "exact\x00", "limit": "1\x00"}
    assert_refused(lrs.get_statements(**{name: values[name]}), f"'{name}'", "NUL")


@pytest.mark.parametrize("path, params", [
    ("/activities/state", state_params(stateId="s\x00")),
    ("/activities/state", state_params(activityId="https://smeb.no/a\x00")),
    ("/activities/profile", {"activityId": "https://smeb.no/xapi/a", "profileId": "p\x00"}),
    ("/agents/profile", {"agent": AGENT, "profileId": "\x00"}),
])
def test_a_nul_in_a_document_parameter_is_refused_and_nothing_stored(lrs, path, params):
    name = next(key for key, value in params.items() if "\x00" in value)
    response = lrs.request("PUT", path, params=params, data="{}", content_type="application/json", headers={"If-None-Match": "*"})
    assert_refused(response, f"'{name}'", "NUL")


def test_a_nul_in_a_parameter_name_and_in_the_alternate_syntax_form_is_refused(lrs):
    assert_refused(lrs.get_statements(**{"act\x00ivity": "x"}), "NUL")
    form = "verb=" + "https%3A%2F%2Fsmeb.no%2Fv%00" + "&Authorization=" + lrs.auth.replace(" ", "+") + "&X-Experience-API-Version=1.0.3"
    response = lrs.client.post(lrs.base + "/statements?method=GET", data=form, content_type="application/x-www-form-urlencoded")
    assert_refused(response, "'verb'", "NUL")


def test_a_nul_in_a_header_is_refused_naming_it(lrs):
    params = state_params(stateId="ctype")
    response = lrs.request("PUT", "/activities/state", params=params, data=b"x", content_type="text/plain\x00")
    assert_refused(response, "Content-Type", "NUL")
    assert lrs.request("GET", "/activities/state", params=params).status_code == 404


@pytest.mark.parametrize("where", ["name", "key", "iri"])
def test_a_nul_inside_a_statement_is_refused_naming_its_path(lrs, where):
    s = statement()
    if where == "name":
        s["actor"]["name"] = "Ola\x00"
        path = "$.actor.name"
    elif where == "key":
        s["context"] = {"extensions": {"https://smeb.no/ext": {"a\x00": 1}}}
        path = "$.context.extensions"
    else:
        s["context"] = {"extensions": {"https://smeb.no/ext": ["ok", "nul\x00"]}}
        path = "$.context.extensions"
    assert_refused(lrs.post_statements(s), path, "NUL")
    assert stored_count(lrs) == 0


def test_a_lone_surrogate_in_a_statement_is_refused_naming_its_path(lrs):
    text = json.dumps(statement()).replace('"Ola"', '"\\ud800"')
    assert_refused(lrs.request("POST", "/statements", data=text, content_type="application/json"), "$.actor.name", "surrogate")
    # A proper pair (an emoji written as escapes) is fine.
    text = json.dumps(statement()).replace('"Ola"', '"\\ud83d\\ude00"')
    assert lrs.request("POST", "/statements", data=text, content_type="application/json").status_code == 200


def test_an_iri_too_long_for_the_index_is_refused_naming_it(lrs):
    long = "https://smeb.no/" + "\u00e6" * 1100  # 2,200 bytes in UTF-8: beyond what the store indexes
    assert_refused(lrs.post_statements(statement(activity=long)), "$.object.id", "2048")
    assert_refused(lrs.post_statements(statement(verb=long)), "$.verb.id", "2048")
    assert stored_count(lrs) == 0
    assert lrs.post_statements(statement(activity="https://smeb.no/" + "a" * 2000)).status_code == 200


def test_a_document_content_type_longer_than_the_store_keeps_is_refused(lrs):
    params = state_params(stateId="long-ctype")
    response = lrs.request("PUT", "/activities/state", params=params, data=b"x", content_type="text/plain; x=" + "a" * 300)
    assert_refused(response, "Content-Type", "255")
    assert lrs.request("GET", "/activities/state", params=params).status_code == 404


@pytest.mark.parametrize("limit", ["\u00b2", "\u0661", "9" * 5000, "+1", " 1"])
def test_a_limit_that_is_not_ascii_digits_is_refused(lrs, limit):
    assert_refused(lrs.get_statements(limit=limit), "'limit'")


@pytest.mark.parametrize("cursor", [{"p": {"limit": 5}, "h": 1, "a": 1}, {"p": {}, "h": "x", "a": 1}, {"p": {}, "h": 1, "a": 2**70},
                                    {"p": {"activity": "https://x/\u0000"}, "h": 1, "a": 1}, [1]])
def test_a_forged_more_cursor_is_refused(lrs, cursor):
    import base64

    text = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")
    assert_refused(lrs.get_statements(more=text), "more")


def test_a_deep_more_cursor_is_refused(lrs):
    import base64

    text = base64.urlsafe_b64encode(DEEP.encode()).decode().rstrip("=")
    assert_refused(lrs.get_statements(more=text), "more")


def test_a_tenant_path_with_nul_is_a_json_404(lrs):
    response = lrs.client.get("/lrs/ac%00me/xapi/statements", headers=lrs.headers())
    assert response.status_code == 404
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    assert response.get_json()["error"] == 404


# --------------------------------------------------------------------------- item 13: the version header on every answer
ENDPOINTS = [
    ("GET", "/statements", {"statementId": str(uuid.uuid4())}),
    ("HEAD", "/statements", {}),
    ("POST", "/statements", {}),
    ("PUT", "/statements", {"statementId": str(uuid.uuid4())}),
    ("GET", "/activities/state", state_params()),
    ("PUT", "/activities/state", state_params()),
    ("POST", "/activities/state", state_params()),
    ("DELETE", "/activities/state", state_params()),
    ("GET", "/activities/profile", {"activityId": "https://smeb.no/xapi/a"}),
    ("PUT", "/agents/profile", {"agent": AGENT, "profileId": "p"}),
    ("GET", "/activities", {"activityId": "https://smeb.no/xapi/a"}),
    ("GET", "/agents", {"agent": AGENT}),
]


@pytest.mark.parametrize("method, path, params", ENDPOINTS)
def test_xapi_00331_a_request_without_the_version_header_gets_a_400_carrying_the_version_header(shared_lrs, method, path, params):
    lrs = shared_lrs
    body = json.dumps(statement()) if path == "/statements" and method in ("POST", "PUT") else "{}"
    response = lrs.request(method, path, params=params, data=body, content_type="application/json", version=None)
    assert response.status_code == 400
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    if method != "HEAD":
        assert "X-Experience-API-Version" in response.get_json()["message"]


@pytest.mark.parametrize("method, path", [("PATCH", "/statements"), ("GET", "/statements/"), ("GET", "/nothing"),
                                          ("PROPFIND", "/activities/state"), ("DELETE", "/statements")])
@pytest.mark.parametrize("version", [None, "1.0.3"])
def test_every_error_under_the_lrs_carries_the_version_header_and_is_json(shared_lrs, method, path, version):
    response = shared_lrs.request(method, path, version=version)
    assert response.status_code in (400, 404, 405)
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == response.status_code


@pytest.mark.parametrize("timestamp", ["2026-11-21T12:00Z", "2026-11-21T13:00:00+01", "2026-11-21T12:00:00,5Z"])
def test_a_cmi5_statement_with_an_iso_timestamp_the_lrs_does_not_parse_itself_is_ordered_not_a_500(lrs, timestamp):
    """ISO 8601 forms the validator accepts (no seconds, an hour-only offset, a comma) reach the cmi5 rules,
    which order a batch by timestamp; they were a ValueError there (500)."""
    from smeb_lti.lrs import cmi5
    from tests.smeb_lti.lrs.test_cmi5 import Au

    au = Au(lrs)
    au.login()
    initialized = au.statement(cmi5.VERB_INITIALIZED)
    initialized["timestamp"] = timestamp
    response = au.send(initialized)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert au.verbs() == ["launched", "initialized"]


def test_xapi_00331_over_real_http_the_adl_2_0_suites_three_cases_get_a_version_it_accepts(migrated_db_url):
    """The ADL 2.0.0 suite's own cases (Statement GET, POST, PUT without the header) over a real socket, checked
    with the suite's pattern: fetch() joins repeated headers with ", ", so a doubled header would fail it too."""
    import http.client
    import re

    from tests.support.lrs_server import start_lrs_server

    allowed = re.compile(r"^2\.0\.0$|^1\.0(\.[1-3])$")
    server = start_lrs_server(migrated_db_url)
    try:
        path = "/" + server.endpoint.split("/", 3)[3]
        cases = [("GET", f"statements?statementId={uuid.uuid4()}", None),
                 ("POST", "statements", json.dumps(statement())),
                 ("PUT", f"statements?statementId={uuid.uuid4()}", json.dumps(statement()))]
        for method, target, body in cases:
            connection = http.client.HTTPConnection("127.0.0.1", server.server.server_port, timeout=10)
            headers = {"Authorization": server.auth_header, **({"Content-Type": "application/json"} if body else {})}
            connection.request(method, path + target, body=body, headers=headers)
            response = connection.getresponse()
            versions = [v for k, v in response.getheaders() if k.lower() == "x-experience-api-version"]
            response.read()
            connection.close()
            assert response.status == 400, (method, response.status)
            assert len(versions) == 1 and allowed.match(versions[0]), (method, versions)
    finally:
        server.stop()
