"""Attachments in multipart/mixed (Communication 1.5.2) and signed statements (Data 2.6)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.support.lrs_server import statement

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
BOUNDARY = "xapi-boundary-1"


def multipart(first: object, parts: list[tuple[bytes, dict[str, str]]]) -> bytes:
    out = [f"--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n".encode() + json.dumps(first).encode() + b"\r\n"]
    for data, headers in parts:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        out.append(f"--{BOUNDARY}\r\n{head}\r\n".encode() + data + b"\r\n")
    out.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(out)


def attachment(data: bytes, usage: str = "https://smeb.no/xapi/attachments/certificate", content_type: str = "text/plain") -> dict:
    return {"usageType": usage, "display": {"en-US": "file"}, "contentType": content_type,
            "length": len(data), "sha2": hashlib.sha256(data).hexdigest()}


def part_headers(data: bytes, content_type: str = "text/plain") -> dict[str, str]:
    return {"Content-Type": content_type, "Content-Transfer-Encoding": "binary", "X-Experience-API-Hash": hashlib.sha256(data).hexdigest()}


def post_multipart(lrs, body: bytes):
    return lrs.request("POST", "/statements", data=body, content_type=f'multipart/mixed; boundary="{BOUNDARY}"')


def test_a_statement_with_an_attachment_part_is_stored_and_returned_as_multipart(lrs):
    data = b"certificate bytes \x00\xff"
    s = statement(attachments=[attachment(data)])
    assert post_multipart(lrs, multipart(s, [(data, part_headers(data))])).status_code == 200
    response = lrs.get_statements(statementId=s["id"], attachments="true")
    assert response.headers["Content-Type"].startswith("multipart/mixed")
    from smeb_lti.lrs import multipart as mp

    parts = mp.parse(response.get_data(), response.headers["Content-Type"])
    assert json.loads(parts[0].body)["id"] == s["id"]
    assert parts[1].body == data
    assert parts[1].headers["x-experience-api-hash"] == hashlib.sha256(data).hexdigest()
    plain = lrs.get_statements(statementId=s["id"], attachments="false")
    assert plain.headers["Content-Type"] == "application/json"


def test_an_attachment_part_whose_data_does_not_match_its_hash_is_rejected(lrs):
    data = b"real data"
    s = statement(attachments=[attachment(data)])
    headers = part_headers(data)
    response = post_multipart(lrs, multipart(s, [(b"other data", headers)]))
    assert response.status_code == 400
    assert "hash" in response.get_json()["message"]


def test_an_attachment_without_file_url_or_part_is_rejected(lrs):
    data = b"missing"
    s = statement(attachments=[attachment(data)])
    assert post_multipart(lrs, multipart(s, [])).status_code == 400
    assert lrs.post_statements(s).status_code == 400


def test_file_url_only_attachments_are_accepted_as_plain_json(lrs):
    s = statement(attachments=[dict(attachment(b"x"), fileUrl="https://smeb.no/files/x.pdf")])
    assert lrs.post_statements(s).status_code == 200


def test_attachment_parts_need_content_transfer_encoding_binary(lrs):
    data = b"abc"
    s = statement(attachments=[attachment(data)])
    headers = part_headers(data)
    del headers["Content-Transfer-Encoding"]
    assert post_multipart(lrs, multipart(s, [(data, headers)])).status_code == 400


def test_a_first_part_that_is_not_json_is_rejected(lrs):
    body = f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nhello\r\n--{BOUNDARY}--\r\n".encode()
    assert post_multipart(lrs, body).status_code == 400


def _key_and_cert() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smeb test signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256())
    )
    return key, base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def _signed(s: dict, key: rsa.RSAPrivateKey, x5c: str, payload: dict | None = None, alg: str = "RS256") -> tuple[dict, bytes]:
    token = jwt.encode(payload or s, key, algorithm=alg, headers={"x5c": [x5c]}).encode()
    signed = dict(s, attachments=[attachment(token, usage=SIGNATURE, content_type="application/octet-stream")])
    return signed, token


def test_a_correctly_signed_statement_is_accepted(lrs):
    key, x5c = _key_and_cert()
    signed, token = _signed(statement(), key, x5c)
    body = multipart(signed, [(token, part_headers(token, "application/octet-stream"))])
    assert post_multipart(lrs, body).status_code == 200


def test_a_signature_over_a_different_statement_is_rejected(lrs):
    key, x5c = _key_and_cert()
    s = statement()
    signed, token = _signed(s, key, x5c, payload=dict(s, verb={"id": "http://adlnet.gov/expapi/verbs/failed"}))
    response = post_multipart(lrs, multipart(signed, [(token, part_headers(token, "application/octet-stream"))]))
    assert response.status_code == 400
    assert "not the same statement" in response.get_json()["message"]


def test_a_signature_over_the_statement_with_a_shorter_duration_is_accepted(lrs):
    """The JWS was made over ``PT0.12S``, the statement says ``PT0.1237S``: beyond 0.01 s is not compared."""
    key, x5c = _key_and_cert()
    s = dict(statement(), result={"duration": "P1DT12H36M0.1237S"})
    signed, token = _signed(s, key, x5c, payload=dict(s, result={"duration": "P1DT12H36M0.12S"}))
    assert post_multipart(lrs, multipart(signed, [(token, part_headers(token, "application/octet-stream"))])).status_code == 200


def test_a_signature_that_does_not_verify_against_its_certificate_is_rejected(lrs):
    key, _ = _key_and_cert()
    _, other_cert = _key_and_cert()
    signed, token = _signed(statement(), key, other_cert)
    response = post_multipart(lrs, multipart(signed, [(token, part_headers(token, "application/octet-stream"))]))
    assert response.status_code == 400
    assert "x5c" in response.get_json()["message"]


def test_a_signature_with_a_non_rsa_algorithm_is_rejected(lrs):
    s = statement()
    token = jwt.encode(s, "a-shared-secret-of-sufficient-length-32", algorithm="HS256").encode()
    signed = dict(s, attachments=[attachment(token, usage=SIGNATURE, content_type="application/octet-stream")])
    response = post_multipart(lrs, multipart(signed, [(token, part_headers(token, "application/octet-stream"))]))
    assert response.status_code == 400
    assert "RS256" in response.get_json()["message"]


def test_a_malformed_signature_is_rejected(lrs):
    token = b"not-a-jws"
    signed = dict(statement(), attachments=[attachment(token, usage=SIGNATURE, content_type="application/octet-stream")])
    assert post_multipart(lrs, multipart(signed, [(token, part_headers(token, "application/octet-stream"))])).status_code == 400
