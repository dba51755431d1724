"""ADL LRS conformance over real HTTP (127.0.0.1): multipart attachments as the ADL suite sends them
(LF line ends, long boundaries), signed statements, HEAD, CORS, and concurrent document writers.

One SQLite LRS per module (``http_lrs``): these rules are about bytes on the wire, not the engine.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid

import pytest
import requests

from tests.support.lrs_server import statement

BOUNDARY = "-------314159265358979323846"
TEXT = b"here is a simple attachment"
TEXT2 = b"here is another simple attachment"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def attachment(data: bytes, **extra) -> dict:
    return {"usageType": "http://example.com/attachment-usage/test", "display": {"en-US": "A test attachment"},
            "contentType": "text/plain", "length": len(data), "sha2": sha(data), **extra}


def body(first: object, parts: list[tuple[dict[str, str], bytes]], first_type: str = "application/json", eol: str = "\n") -> bytes:
    """A multipart/mixed body in the ADL suite's layout (LF line ends by default)."""
    e = eol.encode()
    out = b"--" + BOUNDARY.encode() + e + f"Content-Type: {first_type}".encode() + e + e + json.dumps(first).encode() + e
    for headers, data in parts:
        out += b"--" + BOUNDARY.encode() + e + e.join(f"{k}: {v}".encode() for k, v in headers.items()) + e + e + data + e
    return out + b"--" + BOUNDARY.encode() + b"--" + e


def part(data: bytes, **override: str) -> tuple[dict[str, str], bytes]:
    headers = {"Content-Disposition": 'attachment; filename="text_data.txt"', "Content-Type": "text/plain",
               "Content-Transfer-Encoding": "binary", "X-Experience-API-Hash": sha(data)}
    headers.update(override)
    return {k: v for k, v in headers.items() if v}, data


class Client:
    def __init__(self, server) -> None:
        self.server = server
        self.session = requests.Session()

    def headers(self, content_type: str | None = None, **extra: str) -> dict[str, str]:
        headers = {"Authorization": self.server.auth_header, "X-Experience-API-Version": "1.0.3", **extra}
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def post_multipart(self, payload: bytes, content_type: str = f"multipart/mixed; boundary={BOUNDARY}") -> requests.Response:
        return self.session.post(self.server.endpoint + "statements", data=payload, headers=self.headers(content_type), timeout=30)

    def get(self, resource: str, params: dict, **headers: str) -> requests.Response:
        return self.session.get(self.server.endpoint + resource, params=params, headers=self.headers(**headers), timeout=30)


@pytest.fixture
def client(http_lrs):
    c = Client(http_lrs)
    yield c
    c.session.close()


# --------------------------------------------------------------------------- attachments (Communication 1.5.2, Data 2.4.11)
def test_xapi_00130_to_00135_a_well_formed_multipart_statement_is_stored_and_its_attachment_returned(client):
    s = statement(attachments=[attachment(TEXT), attachment(TEXT2)])
    response = client.post_multipart(body(s, [part(TEXT), part(TEXT2)]))
    assert response.status_code == 200, response.text
    got = client.get("statements", {"statementId": s["id"], "attachments": "true"})
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("multipart/mixed")
    assert TEXT in got.content and TEXT2 in got.content
    assert f"X-Experience-API-Hash: {sha(TEXT)}".encode() in got.content


def test_xapi_00167_a_statement_query_with_attachments_true_is_multipart_with_every_attachment(client):
    activity = f"http://example.com/multipart/{uuid.uuid4()}"
    data = uuid.uuid4().bytes
    s = statement(activity=activity, attachments=[attachment(data, contentType="application/octet-stream")])
    client.post_multipart(body(s, [part(data, **{"Content-Type": "application/octet-stream"})]))
    got = client.get("statements", {"activity": activity, "attachments": "true"})
    assert got.headers["Content-Type"].startswith("multipart/mixed")
    first = got.content.split(b"\r\n\r\n", 1)[1].split(b"\r\n--", 1)[0]
    assert json.loads(first)["statements"][0]["id"] == s["id"]
    assert data in got.content


def test_xapi_00161_attachments_false_returns_plain_json_without_the_data(client):
    s = statement(attachments=[attachment(TEXT)])
    client.post_multipart(body(s, [part(TEXT)]))
    got = client.get("statements", {"statementId": s["id"], "attachments": "false"})
    assert got.headers["Content-Type"].startswith("application/json") and TEXT not in got.content


def test_crlf_line_ends_work_as_well_as_lf(client):
    s = statement(attachments=[attachment(TEXT)])
    assert client.post_multipart(body(s, [part(TEXT)], eol="\r\n")).status_code == 200


@pytest.mark.parametrize(
    "case, make",
    [
        ("XAPI-00134 first part not application/json", lambda s: body(s, [part(TEXT)], first_type="text/plain")),
        ("XAPI-00132 part without X-Experience-API-Hash", lambda s: body(s, [part(TEXT, **{"X-Experience-API-Hash": ""})])),
        ("XAPI-00132 part whose hash matches no sha2", lambda s: body(s, [part(TEXT), part(TEXT2)])),
        ("XAPI-00128 an extra part nobody declared", lambda s: body(s, [part(TEXT), part(b"third")])),
        ("XAPI-00129 a declared attachment without its part", lambda s: body(dict(s, attachments=[attachment(TEXT), attachment(TEXT2)]), [part(TEXT)])),
        ("XAPI-00135 part without Content-Transfer-Encoding binary", lambda s: body(s, [part(TEXT, **{"Content-Transfer-Encoding": "base64"})])),
        ("XAPI-00133 statements split over two json parts", lambda s: body(s, [({"Content-Type": "application/json"}, json.dumps(statement()).encode()), part(TEXT)])),
        ("part data that does not hash to its header", lambda s: body(s, [({**part(TEXT)[0]}, b"tampered data")])),
        ("XAPI-00130 no boundary before the parts", lambda s: json.dumps(s).encode()),
    ],
)
def test_malformed_multipart_statements_are_400_and_store_nothing(client, case, make):
    s = statement(attachments=[attachment(TEXT)])
    response = client.post_multipart(make(s))
    assert response.status_code == 400, (case, response.text)
    assert client.get("statements", {"statementId": s["id"]}).status_code == 404


@pytest.mark.parametrize("content_type", ["multipart/mixed", "multipart/mixed;", f"multipart/form-data; boundary={BOUNDARY}"])
def test_xapi_00131_00138_multipart_without_a_boundary_or_of_another_kind_is_400(client, content_type):
    s = statement(attachments=[attachment(TEXT)])
    assert client.post_multipart(body(s, [part(TEXT)]), content_type=content_type).status_code == 400


def test_xapi_00129_a_json_statement_declaring_an_attachment_without_file_url_is_400(client):
    s = statement(attachments=[attachment(TEXT, fileUrl="http://over.there.com/file.txt"), attachment(TEXT)])
    response = client.session.post(client.server.endpoint + "statements", json=s, headers=client.headers(), timeout=30)
    assert response.status_code == 400


def test_a_file_url_attachment_is_accepted_as_plain_json(client):
    s = statement(attachments=[attachment(TEXT, fileUrl="http://over.there.com/file.txt")])
    response = client.session.post(client.server.endpoint + "statements", json=s, headers=client.headers(), timeout=30)
    assert response.status_code == 200


# --------------------------------------------------------------------------- transport details
def test_xapi_00125_head_over_http_has_headers_and_no_body(client):
    response = client.session.head(client.server.endpoint + "statements", params={"limit": 1}, headers=client.headers(), timeout=30)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["X-Experience-API-Consistent-Through"]


def test_cors_exposes_the_xapi_headers_to_browser_content(client):
    response = client.get("statements", {"limit": 1}, Origin="https://content.example.com")
    exposed = response.headers["Access-Control-Expose-Headers"]
    for name in ("ETag", "X-Experience-API-Version", "X-Experience-API-Consistent-Through", "Last-Modified"):
        assert name in exposed


def test_xapi_00322_concurrent_writers_with_the_same_etag_one_wins_the_other_gets_412(client):
    params = {"activityId": f"http://example.com/race/{uuid.uuid4()}", "profileId": "p"}
    url = client.server.endpoint + "activities/profile"
    client.session.put(url, params=params, json={"v": 0}, headers=client.headers(**{"If-None-Match": "*"}), timeout=30)
    etag = client.get("activities/profile", params).headers["ETag"]
    statuses: list[int] = []

    def write(value: int) -> None:
        with requests.Session() as s:
            r = s.put(url, params=params, json={"v": value}, headers=client.headers(**{"If-Match": etag}), timeout=30)
            statuses.append(r.status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses).count(204) == 1 and statuses.count(412) == 3, statuses
    assert client.get("activities/profile", params).json()["v"] in (1, 2, 3, 4)


# --------------------------------------------------------------------------- signed statements (Data 2.6, E.Data2.6 of the ADL suite)
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"


@pytest.fixture(scope="module")
def rsa_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed_body(s: dict, token: bytes, content_type: str = "application/octet-stream") -> bytes:
    signed = dict(s, attachments=[attachment(token, usageType=SIGNATURE, contentType=content_type)])
    return body(signed, [part(token, **{"Content-Type": content_type})])


@pytest.mark.parametrize("payload_edit, alg, content_type, expected", [
    (None, "RS256", "application/octet-stream", 200),
    (None, "RS384", "application/octet-stream", 200),
    (None, "RS256", "text/plain; charset=ascii", 400),  # bad contentType (Data 2.6.s4.b1)
    (None, "HS256", "application/octet-stream", 400),  # bad algorithm (Data 2.6.s4.b4)
    ("break", "RS256", "application/octet-stream", 400),  # payload is not the statement's JSON (Data 2.6.s4.b3)
])
def test_xapi_00115_to_00117_signed_statements_are_validated(client, rsa_key, payload_edit, alg, content_type, expected):
    import jwt

    s = statement()
    key = "a-shared-secret-of-sufficient-length-32" if alg == "HS256" else rsa_key
    if payload_edit == "break":
        token = jwt.api_jws.encode(json.dumps(s).encode()[:-5], key, algorithm=alg).encode()
    else:
        token = jwt.encode(s, key, algorithm=alg).encode()
    response = client.post_multipart(signed_body(s, token, content_type))
    assert response.status_code == expected, response.text


def test_a_signed_statement_in_the_adl_suites_exact_wire_format_is_accepted(client, rsa_key):
    """helper.signStatement: CRLF preamble, no space after header colons, no CRLF after the close delimiter,
    the JWS signed over the statement without its attachments."""
    import jwt

    s = statement()
    token = jwt.encode(s, rsa_key, algorithm="RS256").encode()
    signed = dict(s, attachments=[{"usageType": SIGNATURE, "display": {"en-US": "Signed by the Test Suite"},
                                   "description": {"en-US": "Signed by the Test Suite"}, "contentType": "application/octet-stream",
                                   "length": len(token), "sha2": sha(token)}])
    boundary = "-------------1234567"
    payload = (f"\r\n--{boundary}\r\nContent-Type:application/json\r\n\r\n".encode() + json.dumps(signed).encode()
               + f"\r\n--{boundary}\r\nContent-Type:application/octet-stream\r\nContent-Transfer-Encoding:binary\r\n"
                 f"X-Experience-API-Hash:{sha(token)}\r\n\r\n".encode() + token + f"\r\n--{boundary}--".encode())
    response = client.post_multipart(payload, content_type=f"multipart/mixed; boundary={boundary}")
    assert response.status_code == 200, response.text
    got = client.get("statements", {"statementId": s["id"], "attachments": "true"})
    assert token in got.content


def test_responses_carry_a_date_header_the_adl_suite_uses_for_its_clock_margin(client):
    response = client.get("statements", {"limit": 1})
    assert response.headers["Date"] and response.headers["X-Experience-API-Consistent-Through"]


@pytest.mark.parametrize("document, content_type", [(b"1", "application/x-www-form-urlencoded"), (b"true", "application/x-www-form-urlencoded"),
                                                    (b"1", "application/json"), (b"true", "application/json")])
def test_a_new_document_is_not_rejected_for_its_contents(client, document, content_type):
    """H.Communication2.2: 'An LRS cannot reject a POST request ... based on the contents of the document'."""
    params = {"activityId": "http://www.example.com/activityId/hashset",
              "agent": json.dumps({"objectType": "Agent", "account": {"homePage": "http://www.example.com/agentId/1", "name": "Rick James"}}),
              "stateId": str(uuid.uuid4())}
    url = client.server.endpoint + "activities/state"
    response = client.session.post(url, params=params, data=document, headers=client.headers(content_type), timeout=30)
    assert response.status_code == 204, response.text
    assert client.get("activities/state", params).content == document


def test_xapi_00115_a_signature_attachment_without_its_jws_part_is_400(client):
    s = statement(attachments=[attachment(b"jws", usageType=SIGNATURE, contentType="application/octet-stream")])
    response = client.session.post(client.server.endpoint + "statements", json=s, headers=client.headers(), timeout=30)
    assert response.status_code == 400
