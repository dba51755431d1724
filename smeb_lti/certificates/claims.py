"""The short signed claims a certificate carries in its QR code (and PDF metadata).

Encoding (version 1), chosen so the verification URL fits a QR code a phone reads at arm's
length (~400 characters, QR version 10-15 at level M):

    token   = b64url(payload) "." b64url(ed25519_signature(payload))
    payload = UTF-8 JSON array, no spaces, in this order:
              [1, id, course_id, course_title, learner_name, "YYYY-MM-DD", issuer,
               organization|null, [competence tags], duration_minutes|null, kid]

A fixed-order array is its own canonical form: :func:`encode` is deterministic, and the
verifier checks the signature over the *received bytes*, then re-encodes what it parsed and
requires the same bytes (so two encodings of the same claims cannot both circulate).
The same code runs in the browser (``routes.py``'s page) with WebCrypto.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from smeb_lti.certificates.errors import BadSignature, MalformedPayload, UnknownKey
from smeb_lti.certificates.signing import (
    SigningKey,
    b64url,
    b64url_decode,
    verify_signature,
)

VERSION = 1
CERT_ID = re.compile(r"^[a-z2-7]{16}$")
MAX_TOKEN = 2000  # a QR code cannot carry much more; anything longer is not ours


@dataclass(frozen=True)
class CertificateClaims:
    certificate_id: str
    course_id: str
    course_title: str
    learner_name: str
    issued_on: dt.date
    issuer: str
    organization: str | None
    competences: tuple[str, ...]
    duration_minutes: int | None
    kid: str

    def as_list(self) -> list[Any]:
        return [
            VERSION,
            self.certificate_id,
            self.course_id,
            self.course_title,
            self.learner_name,
            self.issued_on.isoformat(),
            self.issuer,
            self.organization,
            list(self.competences),
            self.duration_minutes,
            self.kid,
        ]


def encode(claims: CertificateClaims) -> bytes:
    return json.dumps(claims.as_list(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(claims: CertificateClaims, key: SigningKey) -> str:
    """The token ``<claims>.<signature>``; ``claims.kid`` must be the signing key's id."""
    if claims.kid != key.kid:
        raise ValueError(f"claims name key {claims.kid!r} but are signed with {key.kid!r}")
    payload = encode(claims)
    return f"{b64url(payload)}.{b64url(key.sign(payload))}"


def _str(value: Any, field: str, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"claims field {field!r} must be a non-empty string")
    return value


def decode(payload: bytes) -> CertificateClaims:
    """Parse the payload bytes; :class:`MalformedPayload` naming the field when they are not version-1 claims."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedPayload(f"the claims are not UTF-8 JSON: {error}") from None
    if not isinstance(data, list) or len(data) != 11:
        raise MalformedPayload("the claims must be a JSON array of 11 items (version 1)")
    if data[0] != VERSION:
        raise MalformedPayload(f"unknown claims version {data[0]!r}; this verifier reads version {VERSION}")
    cert_id = _str(data[1], "id")
    if not CERT_ID.match(cert_id):
        raise MalformedPayload(f"certificate id {cert_id!r} is not 16 base32 characters")
    try:
        issued = dt.date.fromisoformat(_str(data[5], "issued"))
    except ValueError:
        raise MalformedPayload(f"issued date {data[5]!r} is not YYYY-MM-DD") from None
    tags = data[8]
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        raise MalformedPayload("competences must be a list of non-empty strings")
    minutes = data[9]
    if minutes is not None and (not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0):
        raise MalformedPayload("duration must be whole minutes or null")
    claims = CertificateClaims(
        certificate_id=cert_id,
        course_id=_str(data[2], "course_id"),
        course_title=_str(data[3], "course_title"),
        learner_name=_str(data[4], "learner_name"),
        issued_on=issued,
        issuer=_str(data[6], "issuer"),
        organization=_str(data[7], "organization", optional=True),
        competences=tuple(tags),
        duration_minutes=minutes,
        kid=_str(data[10], "kid"),
    )
    if encode(claims) != payload:
        raise MalformedPayload("the claims are not in canonical form (re-encoding gives other bytes)")
    return claims


def split_token(token: str) -> tuple[bytes, bytes]:
    """``(payload, signature)`` bytes of a token, or :class:`MalformedPayload`."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        raise MalformedPayload(f"the signed claims must be a string of at most {MAX_TOKEN} characters")
    parts = token.split(".")
    if len(parts) != 2 or not all(parts):
        raise MalformedPayload("the signed claims must be <base64url claims>.<base64url signature>")
    try:
        payload, signature = b64url_decode(parts[0]), b64url_decode(parts[1])
    except ValueError:
        raise MalformedPayload("the signed claims are not base64url") from None
    if len(signature) != 64:
        raise MalformedPayload(f"an Ed25519 signature is 64 bytes, this one is {len(signature)}")
    return payload, signature


def verify(token: str, keys: Mapping[str, Ed25519PublicKey]) -> CertificateClaims:
    """The claims of ``token`` if an issuer key signed them; otherwise the specific error."""
    payload, signature = split_token(token)
    claims = decode(payload)
    key = keys.get(claims.kid)
    if key is None:
        raise UnknownKey(f"the claims were signed with key {claims.kid!r}, which is not one of the issuer's keys")
    if not verify_signature(key, signature, payload):
        raise BadSignature("the signature does not match the claims: the certificate was altered or forged")
    return claims


def verification_url(base_url: str, token: str, certificate_id: str) -> str:
    """The public page's URL; the signed claims ride in the fragment, which browsers never send to the server."""
    return f"{base_url.rstrip('/')}/verify/{certificate_id}#{token}"


def parse_verification_url(url: str) -> tuple[str, str]:
    """``(certificate_id, token)`` of a verification URL (e.g. decoded from the QR code)."""
    match = re.match(r"^https?://[^#]*/verify/([^/#?]+)#(.+)$", url or "")
    if not match:
        raise MalformedPayload("not a certificate verification URL (…/verify/<id>#<signed claims>)")
    return match.group(1), match.group(2)
