"""Offline verification of a certificate PDF: every kind of tampering fails with its own reason."""

from __future__ import annotations

import base64
import io
from dataclasses import replace

import pytest
from pypdf import PdfReader, PdfWriter

from smeb_lti.certificates import claims as signed
from smeb_lti.certificates.errors import (
    AttachmentSwapped,
    BadCredential,
    BadSignature,
    IdMismatch,
    MalformedPayload,
    NotACertificate,
    Revoked,
    TamperedClaim,
    UnknownKey,
)
from smeb_lti.certificates.verify import META_TOKEN_KEY, META_URL_KEY, verify_pdf
from tests.smeb_lti.certificates.conftest import BASE, make_certificate, new_key


def rewrite(pdf: bytes, metadata: dict[str, str] | None = None, attachment: str | None = None) -> bytes:
    """The PDF re-saved by pypdf with changed metadata and/or a replaced credential attachment."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    if metadata:
        writer.add_metadata(metadata)
    if attachment is not None:
        writer = _without_attachments(writer)
        writer.add_attachment("openbadge-credential.jwt", attachment.encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _without_attachments(writer: PdfWriter) -> PdfWriter:
    fresh = PdfWriter()
    for page in writer.pages:
        fresh.add_page(page)
    fresh.add_metadata({k: v for k, v in (writer.metadata or {}).items()})
    return fresh


def test_a_genuine_certificate_verifies_offline(pdf: bytes, made, keys) -> None:
    result = verify_pdf(pdf, keys)
    assert result.claims == made.claims
    assert result.credential["credentialSubject"]["achievement"]["name"] == made.claims.course_title
    assert not result.checked_revocation


def test_re_saving_the_pdf_keeps_it_verifiable(pdf: bytes, keys) -> None:
    assert verify_pdf(rewrite(pdf), keys).claims.learner_name == "Kari Nordmann"


def test_a_pdf_showing_another_name_than_was_signed_is_a_tampered_claim(made, keys) -> None:
    forged = made.pdf(printed=replace(made.claims, learner_name="Ola Nordmann"))
    with pytest.raises(TamperedClaim, match="printed learner name") as caught:
        verify_pdf(forged, keys)
    assert caught.value.reason == "tampered-claim"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"course_title": "Guttastemning 2.0"}, "course title"),
        ({"issued_on": signed.dt.date(2025, 1, 1)}, "date"),
    ],
)
def test_other_printed_values_than_signed_are_tampered_claims(made, keys, change, field) -> None:
    with pytest.raises(TamperedClaim, match=f"printed {field} differs"):
        verify_pdf(made.pdf(printed=replace(made.claims, **change)), keys)


def test_a_printed_id_other_than_the_signed_id_is_an_id_mismatch(made, keys) -> None:
    with pytest.raises(IdMismatch, match="printed certificate id"):
        verify_pdf(made.pdf(printed=replace(made.claims, certificate_id="a" * 16)), keys)


def test_edited_signed_claims_in_the_metadata_are_a_bad_signature(pdf: bytes, made, keys) -> None:
    altered = replace(made.claims, learner_name="Ola Nordmann")
    token = base64.urlsafe_b64encode(signed.encode(altered)).rstrip(b"=").decode() + "." + made.token.split(".")[1]
    with pytest.raises(BadSignature):
        verify_pdf(rewrite(pdf, {META_TOKEN_KEY: token}), keys)


def test_a_flipped_bit_in_the_signature_is_a_bad_signature(pdf: bytes, made, keys) -> None:
    payload, sig = made.token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=="))
    raw[10] ^= 1
    token = payload + "." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(BadSignature):
        verify_pdf(rewrite(pdf, {META_TOKEN_KEY: token}), keys)


def test_garbage_instead_of_the_claims_is_a_malformed_payload(pdf: bytes, keys) -> None:
    with pytest.raises(MalformedPayload):
        verify_pdf(rewrite(pdf, {META_TOKEN_KEY: "hello.world"}), keys)


def test_a_verification_url_naming_another_id_is_an_id_mismatch(pdf: bytes, made, keys) -> None:
    url = made.url.replace(made.claims.certificate_id, "b" * 16, 1)
    with pytest.raises(IdMismatch, match="verification URL names certificate"):
        verify_pdf(rewrite(pdf, {META_URL_KEY: url}), keys)


def test_claims_in_the_url_other_than_in_the_metadata_are_a_tampered_claim(pdf: bytes, made, key, keys) -> None:
    twin = make_certificate(key, certificate_id=made.claims.certificate_id, learner="Ola Nordmann")
    with pytest.raises(TamperedClaim, match="other signed claims"):
        verify_pdf(rewrite(pdf, {META_URL_KEY: twin.url}), keys)


def test_a_certificate_from_a_stranger_key_is_an_unknown_key(keys) -> None:
    with pytest.raises(UnknownKey):
        verify_pdf(make_certificate(new_key()).pdf(), keys)


def test_another_certificates_credential_attached_is_a_swapped_attachment(made, key, keys) -> None:
    other = make_certificate(key, learner="Ola Nordmann")
    with pytest.raises(AttachmentSwapped, match="swapped") as caught:
        verify_pdf(made.pdf(credential_jwt=other.credential_jwt), keys)
    assert caught.value.reason == "attachment-swapped"


def test_a_swapped_attachment_in_a_re_saved_pdf_is_detected(pdf: bytes, key, keys) -> None:
    other = make_certificate(key, learner="Ola Nordmann")
    with pytest.raises(AttachmentSwapped):
        verify_pdf(rewrite(pdf, attachment=other.credential_jwt), keys)


def test_a_removed_attachment_is_reported(pdf: bytes, keys) -> None:
    writer = _without_attachments(PdfWriter(clone_from=PdfReader(io.BytesIO(pdf))))
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(AttachmentSwapped, match="missing"):
        verify_pdf(out.getvalue(), keys)


def test_a_forged_credential_under_our_key_id_is_a_bad_credential(made, key, keys) -> None:
    header, payload, signature = made.credential_jwt.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(BadCredential, match="altered or forged"):
        verify_pdf(made.pdf(credential_jwt=forged), keys)


def test_a_credential_signed_by_a_stranger_is_an_unknown_key(made, keys) -> None:
    stranger = make_certificate(new_key(), certificate_id=made.claims.certificate_id)
    with pytest.raises(UnknownKey, match="embedded credential"):
        verify_pdf(made.pdf(credential_jwt=stranger.credential_jwt), keys)


@pytest.mark.parametrize("data", [b"", b"hello", b"%PDF-1.7\ngarbage"])
def test_something_that_is_not_a_pdf_is_not_a_certificate(data: bytes, keys) -> None:
    with pytest.raises(NotACertificate):
        verify_pdf(data, keys)


def test_a_pdf_without_our_claims_is_not_a_certificate(keys) -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(NotACertificate, match="no signed claims"):
        verify_pdf(out.getvalue(), keys)


def test_online_a_revoked_certificate_fails_with_the_reason(pdf: bytes, made, keys) -> None:
    lookup = {made.claims.certificate_id: "issued-in-error"}.get
    with pytest.raises(Revoked, match="issued-in-error"):
        verify_pdf(pdf, keys, lookup)
    assert verify_pdf(pdf, keys, lambda _id: None).checked_revocation


def test_the_verification_url_uses_the_public_base(made) -> None:
    assert made.url.startswith(f"{BASE}/verify/{made.claims.certificate_id}#")


def test_damaged_files_always_fail_with_a_verification_error(pdf: bytes, keys) -> None:
    import logging

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.CRITICAL)  # the repair log of 90 broken files is noise here
    try:
        _check_damaged_variants(pdf, keys)
    finally:
        pypdf_log.setLevel(level)


def _check_damaged_variants(pdf: bytes, keys) -> None:
    import random

    from smeb_lti.certificates.errors import VerificationError

    rng = random.Random(20261121)
    for n in range(90):
        data = bytearray(pdf)
        if n % 3 == 0:
            data = data[: rng.randrange(10, len(data))]
        elif n % 3 == 1:
            for _ in range(20):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            data = bytearray(b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(500)))
        try:
            verify_pdf(bytes(data), keys)
        except VerificationError:
            continue
        # A flipped byte in an image or padding can leave a valid certificate: then it must verify as the same one.
        assert verify_pdf(bytes(data), keys).claims.certificate_id == verify_pdf(pdf, keys).claims.certificate_id


def _with_qr(made, qr_url: str) -> bytes:
    """The certificate with another QR code printed on it (everything else genuine)."""
    from weasyprint import HTML, Attachment

    from smeb_lti.certificates.pdf import certificate_html, qr_png

    html = certificate_html(made.claims, made.token, made.url, qr_png(qr_url))
    attachment = Attachment(string=made.credential_jwt, name="openbadge-credential.jwt")
    return HTML(string=html).write_pdf(attachments=[attachment], custom_metadata=True)


def test_a_qr_code_pointing_to_another_certificate_is_an_id_mismatch(made, key, keys) -> None:
    other = make_certificate(key, learner="Ola Nordmann")
    with pytest.raises(IdMismatch, match="QR code points to certificate"):
        verify_pdf(_with_qr(made, other.url), keys)


def test_a_qr_code_with_other_claims_is_a_tampered_claim(made, key, keys) -> None:
    twin = make_certificate(key, certificate_id=made.claims.certificate_id, learner="Ola Nordmann")
    with pytest.raises(TamperedClaim, match="QR code carries other signed claims"):
        verify_pdf(_with_qr(made, twin.url), keys)


def test_a_qr_code_to_somewhere_else_is_a_tampered_claim(made, keys) -> None:
    with pytest.raises(TamperedClaim, match="does not hold a verification link"):
        verify_pdf(_with_qr(made, "https://phishing.example/login"), keys)
