"""The short signed claims: canonical, small enough for a QR code, and every failure named."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
import segno

from smeb_lti.certificates import claims as signed
from smeb_lti.certificates.errors import (
    BadSignature,
    IdMismatch,
    MalformedPayload,
    UnknownKey,
)
from smeb_lti.certificates.verify import verify_qr_url
from tests.smeb_lti.certificates.conftest import make_certificate, new_key


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_signed_claims_verify_and_read_back_unchanged(made, keys) -> None:
    assert signed.verify(made.token, keys) == made.claims


def test_the_verification_url_fits_a_qr_code_a_phone_can_read(key) -> None:
    long = make_certificate(key, learner="Đorđe Šćepanović-Dương Ødegård Åsheim Ærø", course_title="Systematisk HMS-arbeid – kundeverksted for elektrikere")
    qr = segno.make(long.url, error="m", micro=False)
    assert len(long.url) < 700
    assert qr.version <= 20, f"QR version {qr.version} is too dense for a printed A4 corner"


def test_encoding_is_deterministic(made) -> None:
    assert signed.encode(made.claims) == signed.encode(replace(made.claims))


def test_an_altered_claim_with_the_old_signature_is_a_bad_signature(made, keys) -> None:
    altered = replace(made.claims, learner_name="Ola Nordmann")
    token = b64(signed.encode(altered)) + "." + made.token.split(".")[1]
    with pytest.raises(BadSignature, match="altered or forged"):
        signed.verify(token, keys)


def test_a_forged_signature_under_our_key_id_is_a_bad_signature(made, keys) -> None:
    forger = new_key()
    payload = signed.encode(made.claims)  # names our kid
    token = b64(payload) + "." + b64(forger.sign(payload))
    with pytest.raises(BadSignature):
        signed.verify(token, keys)


def test_claims_signed_by_a_key_the_issuer_never_had_name_an_unknown_key(keys) -> None:
    stranger = make_certificate(new_key())
    with pytest.raises(UnknownKey, match="not one of the issuer's keys"):
        signed.verify(stranger.token, keys)


def _token(items: object) -> str:
    return b64(json.dumps(items).encode()) + "." + b64(b"\0" * 64)


@pytest.mark.parametrize(
    "token, message",
    [
        ("", "must be <base64url claims>"),
        ("abc", "must be <base64url claims>"),
        ("a.b.c", "must be <base64url claims>"),
        ("@@@.###", "not base64url"),
        ("YWJj." + b64(b"short"), "64 bytes"),
        (b64(b"\xff\xfe") + "." + b64(b"\0" * 64), "not UTF-8 JSON"),
        (b64(b"{}") + "." + b64(b"\0" * 64), "array of 11 items"),
        (_token([2, "x", "c", "t", "n", "2026-01-01", "i", None, [], None, "k"]), "unknown claims version"),
        (_token([1, "NOT-AN-ID", "c", "t", "n", "2026-01-01", "i", None, [], None, "k"]), "16 base32"),
        (_token([1, "abcdefghijklmnop", "c", "t", "n", "21.11.2026", "i", None, [], None, "k"]), "YYYY-MM-DD"),
        (_token([1, "abcdefghijklmnop", "c", "t", "n", "2026-01-01", "i", None, "tags", None, "k"]), "competences"),
        (_token([1, "abcdefghijklmnop", "c", "t", "", "2026-01-01", "i", None, [], None, "k"]), "learner_name"),
        (_token([1, "abcdefghijklmnop", "c", "t", "n", "2026-01-01", "i", None, [], None, "k"]), "canonical form"),
        ("x" * 5000 + ".y", "at most"),
    ],
)
def test_malformed_qr_payloads_are_refused_with_the_reason(token: str, message: str, keys) -> None:
    with pytest.raises(MalformedPayload, match=message) as caught:
        signed.verify(token, keys)
    assert caught.value.reason == "malformed-payload"


def test_a_qr_url_whose_path_names_another_certificate_is_an_id_mismatch(made, keys) -> None:
    other_id = "a" * 16
    url = made.url.replace(f"/verify/{made.claims.certificate_id}#", f"/verify/{other_id}#")
    with pytest.raises(IdMismatch):
        verify_qr_url(url, keys)
    assert verify_qr_url(made.url, keys) == made.claims


@pytest.mark.parametrize("url", ["https://kurs.smeb.example/verify/abc", "ftp://x/verify/a#b", "not a url"])
def test_urls_that_are_not_verification_links_are_malformed(url: str, keys) -> None:
    with pytest.raises(MalformedPayload, match="not a certificate verification URL"):
        verify_qr_url(url, keys)
