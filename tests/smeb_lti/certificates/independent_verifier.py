"""An Open Badges 3.0 verifier written as an outsider would write it: nothing of ``smeb_lti`` is imported.

It trusts only what the credential says and what the issuer serves over HTTP:

1. read ``issuer.id`` from the (not yet trusted) credential and fetch the issuer Profile there;
2. resolve the JWT ``kid``: it must be listed in the Profile's ``assertionMethod``; a URL is
   dereferenced (the document at the URL without its fragment must be the Profile, which must
   hold a verification method with that id and a ``publicKeyJwk``); a ``did:key`` is decoded
   from the identifier itself (multibase base58btc, multicodec ed25519-pub);
3. check the EdDSA signature (PyJWT) and that ``iss``/``jti`` mirror ``issuer.id``/``id``;
4. validate the credential against the OB 3.0 JSON Schema from ``tests/fixtures/openbadges``
   (local copy, never fetched) and check that ``credentialSchema`` names it;
5. follow ``credentialStatus`` (W3C Bitstring Status List v1.0): fetch ``statusListCredential``
   (a VC-JWT), verify it with a key of the same Profile, decode ``encodedList`` (multibase
   ``u`` + base64url, GZIP) and read the bit at ``statusListIndex`` (index 0 = left-most bit).

Result: ``valid``, ``revoked`` or ``invalid`` with a reason. Only PyJWT (a JOSE library),
cryptography (through PyJWT's OKP keys), httpx and jsonschema are used.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "openbadges" / "ob_v3p0_achievementcredential_schema.json"
OB_SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
JWT_CLAIMS = ("iss", "jti", "nbf", "sub", "iat", "exp")
MIN_LIST_BITS = 131_072  # the spec's minimum list length (16 KiB), for herd privacy


class VerificationFailed(Exception):
    """The badge does not verify; the message says where."""


@dataclass
class Outcome:
    status: str  # valid | revoked | invalid
    reason: str = ""
    kid: str = ""
    issuer: str = ""
    status_list: str = ""
    status_cache_control: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        text = f"{self.status.upper()}: issuer={self.issuer} kid={self.kid}"
        if self.status_list:
            text += f" status={self.status_list}#{self.details.get('statusListIndex')} (Cache-Control: {self.status_cache_control})"
        return text + (f" [{self.reason}]" if self.reason else "")


# ----------------------------------------------------------------------------- did:key
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _B58:
            raise VerificationFailed(f"did:key is not base58btc ({char!r})")
        number = number * 58 + _B58.index(char)
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + raw


def did_key_public(did_url: str) -> Ed25519PublicKey:
    """The Ed25519 key inside a ``did:key:z6Mk...`` (W3C did:key method: multibase z + 0xed01 + 32 bytes)."""
    identifier = did_url.split("#", 1)[0].removeprefix("did:key:")
    if not identifier.startswith("z"):
        raise VerificationFailed("did:key must be multibase base58btc ('z')")
    data = _base58_decode(identifier[1:])
    if len(data) != 34 or data[:2] != b"\xed\x01":
        raise VerificationFailed("did:key is not an Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(data[2:])


# ----------------------------------------------------------------------------- HTTP
def _fetch(client: httpx.Client, url: str, accept: str) -> httpx.Response:
    if not url.startswith(("https://", "http://")):
        raise VerificationFailed(f"cannot fetch {url!r}: not an http(s) URL")
    response = client.get(url, headers={"Accept": accept}, follow_redirects=False)
    if response.status_code != 200:
        raise VerificationFailed(f"{url} answered {response.status_code}")
    return response


def fetch_profile(client: httpx.Client, issuer_id: str) -> dict[str, Any]:
    response = _fetch(client, issuer_id, "application/ld+json, application/json")
    try:
        profile = response.json()
    except ValueError:
        raise VerificationFailed(f"the issuer Profile at {issuer_id} is not JSON") from None
    if profile.get("id") != issuer_id:
        raise VerificationFailed(f"the document at {issuer_id} says it is {profile.get('id')!r}")
    if "Profile" not in (profile.get("type") or []):
        raise VerificationFailed(f"the document at {issuer_id} is not a Profile")
    # The Profile class of the OB 3.0 schema (local copy).
    schema = json.loads(SCHEMA_FILE.read_text("utf-8"))
    profile_schema = {"$ref": "#/$defs/Profile", "$defs": schema["$defs"]}
    errors = list(jsonschema.Draft201909Validator(profile_schema).iter_errors(profile))
    if errors:
        raise VerificationFailed(f"the issuer Profile breaks the OB 3.0 schema: {errors[0].message}")
    return profile


def resolve_key(client: httpx.Client, kid: str, profile: dict[str, Any]) -> Ed25519PublicKey:
    """The public key ``kid`` names, if (and only if) the issuer Profile authorises it."""
    if kid not in (profile.get("assertionMethod") or []):
        raise VerificationFailed(f"key {kid!r} is not one of the issuer's (not in the Profile's assertionMethod)")
    if kid.startswith("did:key:"):
        return did_key_public(kid)
    document_url = kid.split("#", 1)[0]
    # Dereference the key URL like any outsider: the document it lives in.
    document = profile if document_url == profile["id"] else _fetch(client, document_url, "application/ld+json, application/json").json()
    for method in document.get("verificationMethod") or []:
        if method.get("id") == kid:
            if method.get("controller") != profile["id"]:
                raise VerificationFailed(f"key {kid!r} is controlled by {method.get('controller')!r}, not the issuer")
            jwk = method.get("publicKeyJwk") or {}
            if (jwk.get("kty"), jwk.get("crv")) != ("OKP", "Ed25519"):
                raise VerificationFailed(f"key {kid!r} is not an Ed25519 JWK")
            key = jwt.PyJWK({"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]}).key
            assert isinstance(key, Ed25519PublicKey)
            return key
    raise VerificationFailed(f"key {kid!r} is not a verification method in {document_url}")


def verify_jwt(client: httpx.Client, token: str, profile: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """``(payload, kid)`` of a VC-JWT signed by a key the Profile lists."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise VerificationFailed(f"not a JWT: {error}") from None
    if header.get("alg") != "EdDSA":
        raise VerificationFailed(f"unexpected alg {header.get('alg')!r}")
    kid = str(header.get("kid") or "")
    key = resolve_key(client, kid, profile)
    try:
        payload = jwt.decode(token, key, algorithms=["EdDSA"], options={"require": ["iss", "jti"], "verify_aud": False})
    except jwt.InvalidSignatureError:
        raise VerificationFailed(f"the signature does not verify with key {kid}") from None
    except jwt.PyJWTError as error:
        raise VerificationFailed(f"invalid JWT: {error}") from None
    issuer = payload.get("issuer")
    issuer_url = issuer.get("id") if isinstance(issuer, dict) else issuer
    if payload["iss"] != issuer_url or payload["iss"] != profile["id"] or payload["jti"] != payload.get("id"):
        raise VerificationFailed("the JWT claims do not mirror the credential (iss = issuer.id = Profile, jti = id)")
    return payload, kid


def decode_status_list(encoded: str) -> bytes:
    """``encodedList`` → the raw bitstring (W3C Bitstring Status List: multibase base64url of GZIP)."""
    if not encoded.startswith("u"):
        raise VerificationFailed("encodedList must be multibase base64url (prefix 'u')")
    body = encoded[1:]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        bits = gzip.decompress(packed)
    except (ValueError, OSError) as error:
        raise VerificationFailed(f"encodedList does not decode: {error}") from None
    if len(bits) * 8 < MIN_LIST_BITS:
        raise VerificationFailed(f"the status list is {len(bits) * 8} bits, below the spec's minimum {MIN_LIST_BITS}")
    return bits


def bit_at(bits: bytes, index: int) -> int:
    if not 0 <= index < len(bits) * 8:
        raise VerificationFailed(f"statusListIndex {index} is outside the list")
    return (bits[index // 8] >> (7 - index % 8)) & 1


def verify_badge(token: str, client: httpx.Client | None = None) -> Outcome:
    """Verify an OpenBadgeCredential VC-JWT from scratch; never raises for a bad badge."""
    own = client is None
    http = client or httpx.Client(timeout=10)
    outcome = Outcome("invalid")
    try:
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise VerificationFailed(f"not a JWT: {error}") from None
        issuer = unverified.get("issuer")
        outcome.issuer = str(issuer.get("id") if isinstance(issuer, dict) else issuer)
        profile = fetch_profile(http, outcome.issuer)
        payload, outcome.kid = verify_jwt(http, token, profile)
        credential = {k: v for k, v in payload.items() if k not in JWT_CLAIMS}
        if "OpenBadgeCredential" not in credential.get("type", []) and "AchievementCredential" not in credential.get("type", []):
            raise VerificationFailed("not an OpenBadgeCredential")
        schema = json.loads(SCHEMA_FILE.read_text("utf-8"))
        errors = sorted(jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker()).iter_errors(credential),
                        key=lambda e: list(e.path))
        if errors:
            raise VerificationFailed(f"the credential breaks the OB 3.0 schema at {list(errors[0].path)}: {errors[0].message}")
        if OB_SCHEMA_URL not in [s.get("id") for s in credential.get("credentialSchema") or []]:
            raise VerificationFailed("credentialSchema does not name the OB 3.0 schema")
        issuer_name = credential["issuer"].get("name") if isinstance(credential["issuer"], dict) else None
        if issuer_name != profile.get("name"):
            raise VerificationFailed(f"the credential names issuer {issuer_name!r}, the Profile {profile.get('name')!r}")
        outcome.details["name"] = credential.get("name")
        entry = credential.get("credentialStatus")
        if not isinstance(entry, dict):
            raise VerificationFailed("the credential has no credentialStatus: revocation cannot be checked")
        if entry.get("type") != "BitstringStatusListEntry" or entry.get("statusPurpose") != "revocation":
            raise VerificationFailed(f"unsupported credentialStatus {entry.get('type')!r}/{entry.get('statusPurpose')!r}")
        list_url = str(entry.get("statusListCredential"))
        index = int(str(entry.get("statusListIndex")))
        outcome.status_list = list_url
        outcome.details["statusListIndex"] = index
        response = _fetch(http, list_url, "application/vc+jwt")
        outcome.status_cache_control = response.headers.get("Cache-Control", "")
        status_payload, _ = verify_jwt(http, response.text.strip(), profile)
        if status_payload.get("id") != list_url or "BitstringStatusListCredential" not in status_payload.get("type", []):
            raise VerificationFailed(f"{list_url} is not that BitstringStatusListCredential")
        subject = status_payload.get("credentialSubject") or {}
        if subject.get("statusPurpose") != "revocation":
            raise VerificationFailed("the status list is not for revocation")
        if bit_at(decode_status_list(str(subject.get("encodedList", ""))), index):
            outcome.status = "revoked"
            outcome.reason = "the issuer has revoked this badge"
        else:
            outcome.status = "valid"
    except VerificationFailed as error:
        outcome.status, outcome.reason = "invalid", str(error)
    except httpx.HTTPError as error:
        outcome.status, outcome.reason = "invalid", f"network: {error}"
    finally:
        if own:
            http.close()
    return outcome
