"""The certificate as an Open Badges 3.0 ``OpenBadgeCredential`` (W3C VC Data Model 2.0), signed as a VC-JWT.

OB 3.0 §8.2 (VC-JWT): the JWT payload *is* the credential, with the registered claims that
mirror it: ``iss`` = ``issuer.id``, ``jti`` = ``id``, ``nbf`` = ``validFrom``. The JOSE header
carries ``alg: EdDSA`` and ``kid`` = ``<issuer.id>#<short kid>``: a verification method of the
issuer Profile served at ``issuer.id`` (:func:`issuer_profile`), which lists every key ever
used, retired ones included. A verifier that trusts the issuer's web origin therefore trusts
exactly the keys the Profile lists; a key that is not there signs nothing in SMEB AS's name.
Credentials signed before this (``kid`` = a bare ``did:key``) still verify: the Profile lists
each key's did:key in ``assertionMethod`` too.

Each credential carries ``credentialSchema`` (the OB 3.0 JSON Schema) and, when issued with a
status position, ``credentialStatus`` (:mod:`.status`, Bitstring Status List, revocation).

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
from smeb_lti.certificates.signing import (
    PublicKeyInfo,
    SigningKey,
    did_key,
    did_key_url,
    key_id,
    public_jwk,
)
from smeb_lti.certificates.status import VC_CONTEXT, iso, status_entry

OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CID_CONTEXT = "https://www.w3.org/ns/cid/v1"  # verificationMethod, assertionMethod, JsonWebKey (W3C Controlled Identifiers)
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
OB_SCHEMA_TYPE = "1EdTechJsonSchemaValidator2019"
ATTACHMENT_NAME = "openbadge-credential.jwt"
JWT_TYP = "vc+jwt"
ISSUER_PATH = "/certificates/issuer"


def issuer_id(base_url: str) -> str:
    """The issuer Profile's URL: ``issuer.id`` of every credential, served by :mod:`.routes`."""
    return f"{base_url.rstrip('/')}{ISSUER_PATH}"


def key_url(issuer: str, kid: str) -> str:
    """The verification method id of a key in the Profile: ``<issuer.id>#<short kid>``."""
    return f"{issuer}#{kid}"


def issuer_profile(base_url: str, keys: list[PublicKeyInfo], name: str = "SMEB AS") -> dict[str, Any]:
    """The issuer ``Profile`` (OB 3.0) as JSON-LD, with every verification key, retired ones included.

    Each key appears as a ``JsonWebKey`` verification method ``<issuer.id>#<kid>`` and, in
    ``assertionMethod``, both by that URL and by its ``did:key`` URL (what credentials from
    before the Profile existed name in their ``kid``).
    """
    me = issuer_id(base_url)
    methods = []
    assertion: list[str] = []
    for info in keys:
        vm_id = key_url(me, info.kid)
        jwk = public_jwk(info.public_key, info.kid)
        jwk["alg"] = "EdDSA"
        methods.append({"id": vm_id, "type": "JsonWebKey", "controller": me, "publicKeyJwk": jwk})
        assertion += [vm_id, did_key_url(info.public_key)]
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT, CID_CONTEXT],
        "id": me,
        "type": ["Profile"],
        "name": name,
        "url": base_url.rstrip("/"),
        "description": "Utsteder av kursbevis fra SMEB AS / Issuer of SMEB AS course certificates.",
        "verificationMethod": methods,
        "assertionMethod": assertion,
        "alsoKnownAs": [did_key(info.public_key) for info in keys],
    }


def build_credential(
    claims: CertificateClaims,
    *,
    base_url: str,
    valid_from: dt.datetime,
    description: str | None = None,
    status_index: int | None = None,
) -> dict[str, Any]:
    """The unsigned ``OpenBadgeCredential`` for a certificate (JSON-LD, OB 3.0 context 3.0.3).

    ``status_index``: the certificate's bit in the revocation status list (:mod:`.status`);
    ``None`` leaves ``credentialStatus`` out (only for tests of the credential alone).
    """
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
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"{base}/verify/{claims.certificate_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id(base), "type": ["Profile"], "name": claims.issuer, "url": base},
        "validFrom": iso(valid_from),
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
        "credentialSchema": [{"id": OB_SCHEMA, "type": OB_SCHEMA_TYPE}],
    }
    if status_index is not None:
        credential["credentialStatus"] = status_entry(base, status_index)
    return credential


def _slug(course_id: str) -> str:
    return course_id.rstrip("/").rsplit("/", 1)[-1] or "course"


def sign_credential(credential: Mapping[str, Any], key: SigningKey) -> str:
    """The VC-JWT (compact JWS, EdDSA) of ``credential``; ``kid`` names the key in the issuer Profile."""
    valid_from = dt.datetime.fromisoformat(str(credential["validFrom"]).replace("Z", "+00:00"))
    issuer = credential["issuer"]
    issuer_url = str(issuer["id"] if isinstance(issuer, Mapping) else issuer)
    payload = dict(credential)
    payload.update(iss=issuer_url, jti=credential["id"], nbf=int(valid_from.timestamp()))
    headers = {"kid": key_url(issuer_url, key.kid), "typ": JWT_TYP}
    return jwt.encode(payload, key.private_key, algorithm="EdDSA", headers=headers)


def _public_for(kid: str, keys: Mapping[str, Ed25519PublicKey]) -> Ed25519PublicKey | None:
    """The key a JWT ``kid`` names: ``<issuer>#<short kid>`` (now) or a ``did:key`` URL (before the Profile)."""
    if kid.startswith("did:key:"):
        by_did = {did_key_url(public): public for public in keys.values()}
        return by_did.get(kid)
    base, _, short = kid.partition("#")
    if not base.endswith(ISSUER_PATH) or not short:
        return None
    return keys.get(short)


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
    public = _public_for(str(header.get("kid")), keys)
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
    kid = str(header.get("kid"))
    if not kid.startswith("did:key:") and kid.partition("#")[0] != payload["iss"]:
        raise BadCredential(f"the JWT names key {kid!r}, which is not a key of its issuer {payload['iss']!r}")
    return credential


def credential_key_id(token: str, keys: Mapping[str, Ed25519PublicKey]) -> str | None:
    """The short kid of the key that signed the JWT, if it is one of ``keys``."""
    public = _public_for(str(jwt.get_unverified_header(token).get("kid")), keys)
    return key_id(public) if public is not None else None


def sign_status_list(credential: Mapping[str, Any], key: SigningKey) -> str:
    """The VC-JWT of a ``BitstringStatusListCredential`` (``issuer`` is the Profile URL)."""
    return sign_credential(credential, key)
