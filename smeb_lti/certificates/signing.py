"""The issuer's Ed25519 keys: stored in the database, rotated, published.

* One key is *active* (``retired_at`` is NULL, newest first) and signs new certificates and
  credentials. :func:`rotate` retires it and makes a new one; retired keys stay in the table
  so every certificate ever issued still verifies (``/certificates/keys.json`` lists them all).
* The private key is PKCS#8 PEM. With ``SMEB_KEY_ENCRYPTION_KEY`` set it is encrypted with it
  (``BestAvailableEncryption``: scrypt + AES-256-CBC in ``cryptography``); a database dump then
  does not leak the signing key. Reading an encrypted key without the variable is an error
  that says so, never a silent new key.
* ``kid`` is short (11 base64url characters of SHA-256 over the raw public key) because it
  travels inside the QR code; :func:`did_key` gives the W3C ``did:key`` form for the Open
  Badge credential's JWT header.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy.orm import Session

from smeb_lti.certificates.errors import KeyEncryptionError
from smeb_lti.certificates.model import signing_keys, utcnow
from smeb_lti.db import as_utc as utc

ENV_ENCRYPTION_KEY = "SMEB_KEY_ENCRYPTION_KEY"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; ``ValueError`` on anything else."""
    if not isinstance(text, str) or any(c not in _B64URL for c in text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """Short key id: 11 base64url characters (66 bits) of SHA-256 over the raw public key."""
    return b64url(hashlib.sha256(raw_public(key)).digest())[:11]


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _base58btc(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def did_key(key: Ed25519PublicKey) -> str:
    """``did:key:z6Mk...`` (multicodec ed25519-pub 0xed01 + raw key, base58btc)."""
    return "did:key:z" + _base58btc(b"\xed\x01" + raw_public(key))


def did_key_url(key: Ed25519PublicKey) -> str:
    """The verification method id of a did:key: ``did:key:z6Mk...#z6Mk...``."""
    did = did_key(key)
    return f"{did}#{did.removeprefix('did:key:')}"


def public_jwk(key: Ed25519PublicKey, kid: str | None = None) -> dict[str, str]:
    """The RFC 8037 OKP JWK of a public key."""
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_public(key))}
    if kid:
        jwk["kid"] = kid
    return jwk


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(b64url_decode(text))


def verify_signature(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey
    created_at: dt.datetime

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


@dataclass(frozen=True)
class PublicKeyInfo:
    kid: str
    public_key: Ed25519PublicKey
    created_at: dt.datetime
    retired_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.retired_at is None


def encryption_key_from_env(env: Mapping[str, str]) -> str | None:
    """``SMEB_KEY_ENCRYPTION_KEY`` of ``env`` (a mapping the caller read), at least 16 characters, or None."""
    value = env.get(ENV_ENCRYPTION_KEY) or None
    if value is not None and len(value) < 16:
        raise KeyEncryptionError(f"{ENV_ENCRYPTION_KEY} is too short: use at least 16 random characters (e.g. `openssl rand -base64 32`)")
    return value


def _pem(private_key: Ed25519PrivateKey, encryption_key: str | None) -> str:
    algorithm: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(encryption_key.encode()) if encryption_key else serialization.NoEncryption()
    )
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, algorithm).decode("ascii")


def _load_private(pem: str, encrypted: bool, encryption_key: str | None, kid: str) -> Ed25519PrivateKey:
    if encrypted and not encryption_key:
        raise KeyEncryptionError(
            f"signing key {kid} is encrypted: set {ENV_ENCRYPTION_KEY} to the value it was created with"
        )
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), encryption_key.encode() if encrypted and encryption_key else None)
    except (ValueError, TypeError) as error:
        raise KeyEncryptionError(
            f"signing key {kid} cannot be decrypted: {ENV_ENCRYPTION_KEY} differs from the one it was created with"
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyEncryptionError(f"signing key {kid} is not an Ed25519 key")
    return key


def create_key(session: Session, encryption_key: str | None = None, now: dt.datetime | None = None) -> SigningKey:
    """A new active signing key (the previous active key, if any, stays active until :func:`rotate`)."""
    private = Ed25519PrivateKey.generate()
    kid = key_id(private.public_key())
    created = now or utcnow()
    session.execute(
        sa.insert(signing_keys).values(
            kid=kid,
            public_key=b64url(raw_public(private.public_key())),
            private_key=_pem(private, encryption_key),
            encrypted=bool(encryption_key),
            created_at=created,
            retired_at=None,
        )
    )
    return SigningKey(kid, private, created)


def active_key(session: Session, encryption_key: str | None = None, *, create: bool = True) -> SigningKey:
    """The key that signs now; the first call on an empty table creates one."""
    row = session.execute(
        sa.select(signing_keys).where(signing_keys.c.retired_at.is_(None)).order_by(signing_keys.c.created_at.desc()).limit(1)
    ).first()
    if row is None:
        if not create:
            raise KeyEncryptionError("no active signing key; create one with `smeb cert keys rotate`")
        return create_key(session, encryption_key)
    return SigningKey(row.kid, _load_private(row.private_key, row.encrypted, encryption_key, row.kid), utc(row.created_at))


def rotate(session: Session, encryption_key: str | None = None, now: dt.datetime | None = None) -> SigningKey:
    """Retire every active key and create a new one; old public keys keep verifying."""
    moment = now or utcnow()
    session.execute(sa.update(signing_keys).where(signing_keys.c.retired_at.is_(None)).values(retired_at=moment))
    return create_key(session, encryption_key, moment)


def public_keys(session: Session) -> list[PublicKeyInfo]:
    """Every key ever used, newest first (what verifiers need)."""
    rows = session.execute(sa.select(signing_keys).order_by(signing_keys.c.created_at.desc(), signing_keys.c.kid))
    return [PublicKeyInfo(r.kid, public_key_from_b64(r.public_key), utc(r.created_at), utc(r.retired_at)) for r in rows]


def keyring(session: Session) -> dict[str, Ed25519PublicKey]:
    """``kid -> public key`` for offline verification."""
    return {info.kid: info.public_key for info in public_keys(session)}


def jwks(infos: list[PublicKeyInfo]) -> dict[str, list[dict[str, str]]]:
    """A JWKS document; each key also names its did:key verification method."""
    keys = []
    for info in infos:
        jwk = public_jwk(info.public_key, info.kid)
        jwk.update(
            alg="EdDSA",
            use="sig",
            did=did_key_url(info.public_key),
            status="active" if info.active else "retired",
            created=info.created_at.isoformat(),
        )
        keys.append(jwk)
    return {"keys": keys}


def keyring_from_jwks(document: Mapping[str, object]) -> dict[str, Ed25519PublicKey]:
    """Parse a ``keys.json`` saved from ``/certificates/keys.json`` (for offline verification elsewhere)."""
    found: dict[str, Ed25519PublicKey] = {}
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise ValueError("a JWKS document needs a 'keys' list")
    for entry in keys:
        if isinstance(entry, dict) and entry.get("kty") == "OKP" and entry.get("crv") == "Ed25519":
            found[str(entry["kid"])] = public_key_from_b64(str(entry["x"]))
    return found
