"""Offline verification of a certificate PDF, and of the bare signed claims from a QR code.

Checks, in order, each failure its own exception (``.reason`` in brackets):

1. the file is a PDF with our signed claims in its metadata            [not-a-certificate]
2. the claims parse as version-1 claims                                  [malformed-payload]
3. the signing key is one of the issuer's (active or retired)           [unknown-key]
4. the Ed25519 signature matches the claims                              [bad-signature]
5. the verification URL in the metadata names the same id and claims,   [id-mismatch / tampered-claim]
   and the QR code on the page holds that very URL (decoded: zxing-cpp)
6. the attached Open Badge credential verifies (VC-JWT, EdDSA, Profile key) [bad-credential / unknown-key]
   and belongs to this certificate (id, learner, course)                 [attachment-swapped]
7. the printed text shows the signed name, course, date and id           [tampered-claim / id-mismatch]
8. optionally, online: the issuer has not revoked it                     [revoked]

Known limit: step 7 proves the signed values are *printed*; text added on top of the page
(an overlay with another name) is not detected offline. The QR code and the verification page
show the signed name, which is what a checker should compare with the person in front of them.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from smeb_lti.certificates import claims as signed
from smeb_lti.certificates.claims import CertificateClaims
from smeb_lti.certificates.errors import (
    AttachmentSwapped,
    IdMismatch,
    MalformedPayload,
    NotACertificate,
    Revoked,
    TamperedClaim,
)
from smeb_lti.certificates.openbadges import ATTACHMENT_NAME, credential_of
from smeb_lti.certificates.pdf import date_nb, format_id

META_TOKEN_KEY = "/smebclaims"
META_URL_KEY = "/smebverificationurl"

# Returns the revocation reason if the certificate is revoked, None if it is valid.
RevocationLookup = Callable[[str], "str | None"]


@dataclass(frozen=True)
class VerifiedCertificate:
    claims: CertificateClaims
    credential: dict[str, Any]
    verification_url: str
    checked_revocation: bool


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


@dataclass(frozen=True)
class PdfContents:
    token: str | None
    url: str | None
    attachment: str | None
    text: str
    qr_texts: tuple[str, ...]  # what the QR codes in the page images decode to


def read_pdf(data: bytes) -> PdfContents:
    """What verification needs from the file: metadata, the credential attachment, the text."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.startswith(b"%PDF-"):
        raise NotACertificate("the file is not a PDF")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        info: Mapping[str, Any] = reader.metadata or {}
        token = info.get(META_TOKEN_KEY)
        url = info.get(META_URL_KEY)
        attachments = reader.attachments
        attachment = None
        if ATTACHMENT_NAME in attachments:
            contents = attachments[ATTACHMENT_NAME]
            if len(contents) != 1:
                raise AttachmentSwapped(f"the PDF carries {len(contents)} files named {ATTACHMENT_NAME}; expected one")
            attachment = contents[0].decode("utf-8", errors="replace").strip()
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        qr_texts = tuple(_qr_texts(reader))
    except AttachmentSwapped:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise NotACertificate(f"the PDF cannot be read: {error}") from None
    except Exception as error:
        raise NotACertificate(f"the PDF is damaged ({type(error).__name__}: {error})") from None
    return PdfContents(
        token=str(token) if token is not None else None,
        url=str(url) if url is not None else None,
        attachment=attachment,
        text=_normalize(text),
        qr_texts=qr_texts,
    )


def _qr_texts(reader: Any) -> list[str]:
    """Decode every QR code in the page images (zxing-cpp); the PDF draws ours as one PNG image."""
    import zxingcpp
    from PIL import Image

    found: list[str] = []
    for page in reader.pages:
        for image in page.images:
            picture = Image.open(io.BytesIO(image.data))
            if picture.width * picture.height > 4_000_000:  # not ours (ours is ~250x250): do not decode huge images
                continue
            for barcode in zxingcpp.read_barcodes(picture.convert("L")):
                if barcode.format == zxingcpp.BarcodeFormat.QRCode:
                    found.append(barcode.text)
    return found


def verify_pdf(
    data: bytes,
    keys: Mapping[str, Ed25519PublicKey],
    revoked_reason: RevocationLookup | None = None,
) -> VerifiedCertificate:
    """Verify a certificate PDF against the issuer's public keys; raise the specific error on failure."""
    contents = read_pdf(data)
    if not contents.token:
        raise NotACertificate("the PDF has no signed claims in its metadata; it was not issued by SMEB or was re-saved without them")
    claims = signed.verify(contents.token, keys)
    if not contents.url:
        raise TamperedClaim("the PDF's verification URL is missing from its metadata")
    url_id, url_token = signed.parse_verification_url(contents.url)
    if url_id != claims.certificate_id:
        raise IdMismatch(f"the verification URL names certificate {url_id!r} but the signed claims are for {claims.certificate_id!r}")
    if url_token != contents.token:
        raise TamperedClaim("the verification URL carries other signed claims than the PDF metadata")
    _check_qr(contents.qr_texts, contents.url, claims)
    credential = _check_attachment(contents.attachment, claims, keys)
    _check_text(contents.text, claims)
    checked = False
    if revoked_reason is not None:
        reason = revoked_reason(claims.certificate_id)
        checked = True
        if reason is not None:
            raise Revoked(f"certificate {claims.certificate_id} was revoked by the issuer: {reason}")
    return VerifiedCertificate(claims, credential, contents.url, checked)


def _check_qr(qr_texts: tuple[str, ...], url: str, claims: CertificateClaims) -> None:
    if not qr_texts:
        raise TamperedClaim("the PDF has no readable QR code: it was removed or replaced")
    for text in qr_texts:
        if text == url:
            continue
        try:
            qr_id, _token = signed.parse_verification_url(text)
        except MalformedPayload:
            raise TamperedClaim(f"the QR code does not hold a verification link ({text[:60]!r})") from None
        if qr_id != claims.certificate_id:
            raise IdMismatch(f"the QR code points to certificate {qr_id!r}, not {claims.certificate_id!r}")
        raise TamperedClaim("the QR code carries other signed claims than the PDF metadata")


def _check_attachment(token: str | None, claims: CertificateClaims, keys: Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    if not token:
        raise AttachmentSwapped(f"the Open Badge credential ({ATTACHMENT_NAME}) is missing from the PDF")
    credential = credential_of(token, keys)
    cred_id = str(credential.get("id") or "")
    if not cred_id.endswith(f"/verify/{claims.certificate_id}"):
        raise AttachmentSwapped(f"the attached credential is {cred_id!r}, not certificate {claims.certificate_id}: the attachment was swapped")
    subject = credential.get("credentialSubject") or {}
    names = [i.get("identityHash") for i in subject.get("identifier") or [] if isinstance(i, dict) and i.get("identityType") == "name"]
    achievement = subject.get("achievement") or {}
    if names != [claims.learner_name] or achievement.get("name") != claims.course_title:
        raise AttachmentSwapped("the attached credential names another learner or course than the signed claims")
    return credential


def _check_text(text: str, claims: CertificateClaims) -> None:
    expected = {
        "learner name": claims.learner_name,
        "course title": claims.course_title,
        "date": date_nb(claims.issued_on),
    }
    for field, value in expected.items():
        if _normalize(value) not in text:
            raise TamperedClaim(f"the printed {field} differs from the signed one ({value!r} is not on the page)")
    if format_id(claims.certificate_id) not in text:
        raise IdMismatch(f"the printed certificate id differs from the signed id {format_id(claims.certificate_id)}")


def verify_qr_url(url: str, keys: Mapping[str, Ed25519PublicKey]) -> CertificateClaims:
    """Verify the URL read from a QR code: signature, and the path id equals the signed id."""
    url_id, token = signed.parse_verification_url(url)
    claims = signed.verify(token, keys)
    if url_id != claims.certificate_id:
        raise IdMismatch(f"the URL names certificate {url_id!r} but the signed claims are for {claims.certificate_id!r}")
    return claims
