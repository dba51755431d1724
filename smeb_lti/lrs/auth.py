"""Who is calling: per-tenant HTTP Basic credentials (hashed) and short-lived per-launch tokens.

Scopes follow the xAPI OAuth scope list (Communication 4.2). Secrets are 32 random bytes
shown once; the database keeps a salted scrypt hash. Because scrypt is slow on purpose, a
verified (credential, secret) pair is remembered in-process for a minute; the credential row
(and its revocation) is still read on every request, so revoking takes effect at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smeb_lti.lrs import clock, store, tables
from smeb_lti.lrs.errors import Forbidden, Unauthorized
from smeb_lti.settings import settings
from smeb_lti.web.keys import derive_key

SCOPES = ("statements/write", "statements/read/mine", "statements/read", "state", "define", "profile", "all/read", "all")
# What a launch token may do: write and read back its own statements, and keep state.
TOKEN_SCOPES = ("statements/write", "statements/read/mine", "state", "profile")

_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_verified: dict[tuple[int, str], float] = {}
_VERIFIED_TTL = 60.0


@dataclass(frozen=True)
class Principal:
    """An authenticated caller within one tenant."""

    tenant: store.Tenant
    scopes: frozenset[str]
    authority: dict[str, Any]
    key: str
    actor_ifi: str | None = None  # launch tokens: the only actor it may write/read for
    registration: str | None = None
    session_id: str | None = None

    def allows(self, scope: str, read: bool = False) -> bool:
        """Scope check: ``all`` grants everything, ``all/read`` every read."""
        return "all" in self.scopes or scope in self.scopes or (read and "all/read" in self.scopes)

    def require(self, *alternatives: str, read: bool = False) -> None:
        """Raise Forbidden (403) unless one of ``alternatives`` is granted."""
        if not any(self.allows(scope, read) for scope in alternatives):
            needed = list(alternatives) + (["all/read"] if read else []) + ["all"]
            raise Forbidden(
                f"credential {self.key!r} lacks the scope for this request: needs one of {needed}, has {sorted(self.scopes)}"
            )


def _hash_secret(secret: str, salt: bytes) -> str:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, **_SCRYPT).hex()


@dataclass(frozen=True)
class IssuedCredential:
    key: str
    secret: str
    scopes: tuple[str, ...]


def add_credential(session: Session, tenant: store.Tenant, scopes: list[str], label: str = "") -> IssuedCredential:
    """Issue a key/secret pair for ``tenant``; the secret is returned once and stored only hashed."""
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"unknown scope(s) {unknown or '(none given)'}; choose from {list(SCOPES)}")
    key = "smeb_" + secrets.token_hex(10)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    session.execute(
        sa.insert(tables.credentials).values(
            tenant_id=tenant.id,
            key=key,
            secret_hash=_hash_secret(secret, salt),
            salt=salt.hex(),
            scopes=" ".join(scopes),
            label=label or key,
            created_us=clock.now_us(),
        )
    )
    return IssuedCredential(key, secret, tuple(scopes))


def list_credentials(session: Session, tenant: store.Tenant) -> list[dict[str, Any]]:
    rows = session.execute(sa.select(tables.credentials).where(tables.credentials.c.tenant_id == tenant.id).order_by(tables.credentials.c.id))
    return [
        {"key": r.key, "label": r.label, "scopes": r.scopes.split(), "revoked": r.revoked_us is not None}
        for r in rows
    ]


def revoke_credential(session: Session, key: str) -> bool:
    result = session.execute(
        sa.update(tables.credentials)
        .where(tables.credentials.c.key == key, tables.credentials.c.revoked_us.is_(None))
        .values(revoked_us=clock.now_us())
    )
    return bool(store.rowcount(result))


def _authority_for(tenant: store.Tenant, key: str, name: str) -> dict[str, Any]:
    return {"objectType": "Agent", "name": name, "account": {"homePage": f"urn:smeb:lrs:{tenant.slug}", "name": key}}


def _check_basic(session: Session, tenant: store.Tenant, key: str, secret: str) -> Principal:
    row = session.execute(sa.select(tables.credentials).where(tables.credentials.c.key == key)).first()
    # Same message whether the key is unknown, revoked or of another tenant: no tenant probing.
    refused = Unauthorized(f"credentials refused for LRS tenant {tenant.slug!r}: unknown key, wrong secret, or revoked")
    if row is None or row.revoked_us is not None or row.tenant_id != tenant.id:
        raise refused
    digest = hashlib.sha256(secret.encode("utf-8")).hexdigest()
    cached = _verified.get((row.id, digest))
    if cached is None or cached < time.monotonic():
        if not hmac.compare_digest(_hash_secret(secret, bytes.fromhex(row.salt)), row.secret_hash):
            raise refused
        _verified[(row.id, digest)] = time.monotonic() + _VERIFIED_TTL
    return Principal(tenant, frozenset(row.scopes.split()), _authority_for(tenant, row.key, row.label), row.key)


# --------------------------------------------------------------------------- launch tokens
_SECRET_NAME = "launch-token"


def token_secret(session: Session) -> bytes:
    """The launch-token key, the same in every worker process of the tool.

    Order: ``SMEB_LRS_TOKEN_SECRET`` (the settings); a key derived from the tool's ``SECRET_KEY`` (from
    ``SMEB_SECRET_KEY``); else one random key stored once in ``lrs_secrets`` (the first process to need it writes
    it, the others read it). The resolved key is cached in the app config.
    """

    configured = settings().lrs_token_secret
    if configured:
        return configured
    config = current_app.config
    cached = config.get("SMEB_LRS_TOKEN_SECRET")
    if cached:
        return cached.encode("utf-8") if isinstance(cached, str) else bytes(cached)
    base = config.get("SECRET_KEY")
    if base:
        # A derived key, so a leaked launch-token key does not reveal the Flask session key.
        secret = derive_key("smeb-lrs-launch-token-key", secret=base)
    else:
        table = tables.secrets_table
        row = session.execute(sa.select(table.c.value).where(table.c.name == _SECRET_NAME)).first()
        if row is None:
            value = secrets.token_hex(32)
            try:
                with session.begin_nested():
                    session.execute(sa.insert(table).values(name=_SECRET_NAME, value=value, created_us=clock.now_us()))
            except IntegrityError:  # another worker stored it first: use theirs
                value = session.execute(sa.select(table.c.value).where(table.c.name == _SECRET_NAME)).scalar_one()
        else:
            value = row.value
        secret = bytes.fromhex(value)
    config["SMEB_LRS_TOKEN_SECRET"] = secret
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(
    secret_key: bytes,
    tenant: str,
    actor_ifi: str,
    registration: str | None,
    ttl_seconds: int = 4 * 3600,
    session_id: str | None = None,
) -> str:
    """A launch token: HMAC-SHA256 over (tenant, actor, registration, session, expiry)."""
    payload = {"t": tenant, "a": actor_ifi, "r": registration, "s": session_id, "e": int(time.time()) + ttl_seconds}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    signature = _b64(hmac.new(secret_key, b"smeb-lrs-token." + body.encode("ascii"), hashlib.sha256).digest())
    return f"lt.{body}.{signature}"


def _check_token(secret_key: bytes, tenant: store.Tenant, token: str) -> Principal:
    try:
        prefix, body, signature = token.split(".")
    except ValueError:
        raise Unauthorized("launch token is malformed; ask the tool for a new launch") from None
    expected = _b64(hmac.new(secret_key, b"smeb-lrs-token." + body.encode("ascii"), hashlib.sha256).digest())
    if prefix != "lt" or not hmac.compare_digest(expected, signature):
        raise Unauthorized("launch token signature is invalid; ask the tool for a new launch")
    try:
        payload = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        raise Unauthorized("launch token payload is unreadable") from None
    if payload.get("t") != tenant.slug:
        raise Unauthorized(f"launch token was issued for another LRS tenant, not {tenant.slug!r}")
    if int(payload.get("e", 0)) < time.time():
        raise Unauthorized("launch token has expired; relaunch the course from the tool")
    session_id = payload.get("s")
    authority = {"objectType": "Agent", "name": "SMEB launch", "account": {"homePage": f"urn:smeb:lrs:{tenant.slug}", "name": f"launch:{session_id or 'xapi'}"}}
    return Principal(
        tenant,
        frozenset(TOKEN_SCOPES),
        authority,
        key=f"launch:{session_id or 'xapi'}",
        actor_ifi=payload.get("a"),
        registration=payload.get("r"),
        session_id=session_id,
    )


def authenticate(session: Session, tenant: store.Tenant, header: str | None, secret_key: bytes) -> Principal:
    """Resolve an Authorization header (Basic key:secret, Basic token:, or Bearer token)."""
    if not header:
        raise Unauthorized()
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return _check_token(secret_key, tenant, value)
    if scheme.lower() != "basic":
        raise Unauthorized(f"unsupported Authorization scheme {scheme!r}; use Basic or Bearer")
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("Basic credentials are not valid base64 of 'key:secret'") from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise Unauthorized("Basic credentials must be 'key:secret' (base64)")
    if user.startswith("lt.") and password == "":
        return _check_token(secret_key, tenant, user)
    return _check_basic(session, tenant, user, password)
