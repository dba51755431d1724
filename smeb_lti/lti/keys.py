"""The tool's RSA signing keys: in the database, private halves encrypted with ``SMEB_KEY_ENCRYPTION_KEY``.

One key is active (signs client assertions and deep-linking responses). Rotation makes a
new active key and *retires* the old one: a retired key stays in the JWKS for
:data:`RETIRED_KEY_GRACE` seconds, longer than any token it signed can live (deep-linking
responses 10 min, client assertions 1 min), so a platform that fetches the JWKS later
still verifies them. Then it is deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK
from sqlalchemy import DateTime, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from smeb_lti.db import Base
from smeb_lti.lti.errors import ToolKeyError

# Longest lifetime of a token we sign (600 s) + clock skew + JWKS caches of platforms (Moodle: none, Canvas: minutes).
RETIRED_KEY_GRACE = 3600


class ToolKey(Base):
    __tablename__ = "lti_tool_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_pem: Mapped[str] = mapped_column(Text)
    private_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str
    public_pem: str


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    created_at: datetime
    retired_at: datetime | None
    in_jwks_until: datetime | None  # None: active


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def public_jwk(public_pem: str, kid: str) -> dict[str, str]:
    jwk = json.loads(JWK.from_pem(public_pem.encode("ascii")).export_public())
    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return jwk


def _new_key(fernet: Fernet) -> ToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    kid = JWK.from_pem(public_pem.encode("ascii")).thumbprint()  # RFC 7638: stable, derived from the key
    return ToolKey(
        kid=kid,
        public_pem=public_pem,
        private_encrypted=fernet.encrypt(private_pem.encode("ascii")).decode("ascii"),
        created_at=datetime.now(UTC),
    )


def _active(session: Session) -> ToolKey | None:
    return session.scalars(select(ToolKey).where(ToolKey.retired_at.is_(None)).order_by(ToolKey.created_at.desc())).first()


def ensure_key(session: Session, fernet: Fernet) -> str:
    """The active key's kid, creating the first key if there is none."""
    row = _active(session)
    if row is None:
        row = _new_key(fernet)
        session.add(row)
        session.flush()
    return row.kid


def rotate(session: Session, fernet: Fernet, now: datetime | None = None) -> str:
    """Make a new active key, retire the current one, delete keys retired longer than the grace period."""
    now = now or datetime.now(UTC)
    for row in session.scalars(select(ToolKey).where(ToolKey.retired_at.is_(None))):
        row.retired_at = now
    session.execute(delete(ToolKey).where(ToolKey.retired_at < now - timedelta(seconds=RETIRED_KEY_GRACE)))
    row = _new_key(fernet)
    row.created_at = now
    session.add(row)
    session.flush()
    return row.kid


def signing_key(session: Session, fernet: Fernet) -> SigningKey:
    """The active key with its private half decrypted."""
    row = _active(session)
    if row is None:
        ensure_key(session, fernet)
        row = _active(session)
        assert row is not None
    try:
        private_pem = fernet.decrypt(row.private_encrypted.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise ToolKeyError(
            f"SMEB_KEY_ENCRYPTION_KEY does not decrypt the tool key {row.kid}: it was encrypted with another key. "
            "Restore the original SMEB_KEY_ENCRYPTION_KEY, or run `smeb keys rotate` and let platforms re-fetch the JWKS"
        ) from None
    return SigningKey(kid=row.kid, private_pem=private_pem, public_pem=row.public_pem)


def jwks(session: Session, now: datetime | None = None) -> dict[str, list[dict[str, str]]]:
    """The public key set: the active key and keys retired less than the grace period ago."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(seconds=RETIRED_KEY_GRACE)
    rows = [r for r in session.scalars(select(ToolKey)) if r.retired_at is None or _utc(r.retired_at) > cutoff]
    # The active key first, then retired keys, most recently retired first.
    rows.sort(key=lambda r: (r.retired_at is not None, -_utc(r.retired_at or r.created_at).timestamp()))
    return {"keys": [public_jwk(r.public_pem, r.kid) for r in rows]}


def list_keys(session: Session) -> list[KeyInfo]:
    rows = session.scalars(select(ToolKey).order_by(ToolKey.created_at.desc()))
    return [
        KeyInfo(
            kid=r.kid,
            created_at=_utc(r.created_at),
            retired_at=_utc(r.retired_at) if r.retired_at else None,
            in_jwks_until=_utc(r.retired_at) + timedelta(seconds=RETIRED_KEY_GRACE) if r.retired_at else None,
        )
        for r in rows
    ]
