"""The certificate as an Open Badges 3.0 ``OpenBadgeCredential`` (W3C VC Data Model 2.0), signed as a VC-JWT.

OB 3.0 §8.2 (VC-JWT): the JWT payload *is* the credential, with the registered claims that
mirror it: ``iss`` = ``issuer.id``, ``jti`` = ``id``, ``nbf`` = ``validFrom``. The JOSE header
carries ``alg: EdDSA`` and ``kid``: a ``did:key`` verification method, so any verifier can
derive the Ed25519 public key from the header alone and compare it with the issuer's JWKS
at ``/certificates/keys.json`` (the same keys sign the QR claims).

The credential is embedded in the PDF as the attachment ``openbadge-credential.jwt`` so
the learner can import it in a wallet or backpack; :mod:`verify` checks that it belongs to
the same certificate as the printed text and the QR claims.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from smeb_lti.certificates.claims import CertificateClaims
from smeb_lti.certificates.errors import BadCredential, UnknownKey
from smeb_lti.certificates.signing import SigningKey, did_key_url, key_id

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ATTACHMENT_NAME = "openbadge-credential.jwt"
JWT_TYP = "vc+jwt"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build_credential(
    claims: CertificateClaims,
    *,
    base_url: str,
    valid_from: dt.datetime,
    description: str | None = None,
) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` for a certificate (JSON-LD, OB 3.0 context 3.0.3)."""
    base = base_url.rstrip("/")
    achievement: dict[str, Any] = {
        "id": f"{base}/certificates/achievements/{_slug(claims.course_id)}",
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": claims.course_title,
        "description": description or f"Fullført kurset «{claims.course_title}» hos {claims.issuer}.",
        "criteria": {"narrative": "Alle obligatoriske deler av kurset er fullført."},
    }
    if claims.competences:
        achievement["tag"] = list(claims.competences)
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"{base}/verify/{claims.certificate_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": f"{base}/certificates/issuer", "type": ["Profile"], "name": claims.issuer, "url": base},
        "validFrom": _iso(valid_from),
        "name": claims.course_title,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": claims.learner_name,
                    "identityType": "name",
                    "hashed": False,
                }
            ],
            "achievement": achievement,
        },
    }


def _slug(course_id: str) -> str:
    return course_id.rstrip("/").rsplit("/", 1)[-1] or "course"


def sign_credential(credential: Mapping[str, Any], key: SigningKey) -> str:
    """The VC-JWT (compact JWS, EdDSA) of ``credential``."""
    valid_from = dt.datetime.fromisoformat(str(credential["validFrom"]).replace("Z", "+00:00"))
    payload = dict(credential)
    payload.update(iss=credential["issuer"]["id"], jti=credential["id"], nbf=int(valid_from.timestamp()))
    headers = {"kid": did_key_url(key.public_key), "typ": JWT_TYP}
    return jwt.encode(payload, key.private_key, algorithm="EdDSA", headers=headers)


def credential_of(token: str, keys: Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    """Verify a VC-JWT with the issuer's keys and return the credential (JWT claims removed).

    ``keys`` maps our short kids to public keys; the header's did:key must be one of them.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise BadCredential(f"the embedded credential is not a JWT: {error}") from None
    if header.get("alg") != "EdDSA":
        raise BadCredential(f"the embedded credential must be signed with EdDSA, not {header.get('alg')!r}")
    by_did = {did_key_url(public): public for public in keys.values()}
    public = by_did.get(str(header.get("kid")))
    if public is None:
        raise UnknownKey(f"the embedded credential names key {header.get('kid')!r}, which is not one of the issuer's keys")
    try:
        payload = jwt.decode(token, public, algorithms=["EdDSA"], options={"require": ["iss", "jti", "nbf"]}, leeway=86400)
    except jwt.InvalidSignatureError:
        raise BadCredential("the embedded credential's signature is invalid: it was altered or forged") from None
    except jwt.PyJWTError as error:
        raise BadCredential(f"the embedded credential's JWT is invalid: {error}") from None
    credential = {k: v for k, v in payload.items() if k not in ("iss", "jti", "nbf", "sub", "iat", "exp")}
    if "OpenBadgeCredential" not in (credential.get("type") or []):
        raise BadCredential("the embedded JWT is not an OpenBadgeCredential")
    if payload["jti"] != credential.get("id") or payload["iss"] != (credential.get("issuer") or {}).get("id"):
        raise BadCredential("the JWT claims (iss, jti) do not mirror the credential (issuer.id, id)")
    return credential


def credential_key_id(token: str, keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """The short kid of the key that signed the JWT, if it is one of ``keys``."""
    did = str(jwt.get_unverified_header(token).get("kid"))
    for public in keys.values():
        if did_key_url(public) == did:
            return key_id(public)
    return None
