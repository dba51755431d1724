"""The demo platform's keys and JWTs: its own RSA key (id_tokens), and the tool's JWKS (assertions, deep-link responses)."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from smeb_lti.demo_lms.errors import ToolKeyUnavailable, ToolTokenInvalid


def ensure_key(conn: sqlite3.Connection) -> tuple[str, str, dict[str, Any]]:
    """``(kid, private_pem, public_jwk)``: made once, shared by every worker through the database."""
    row = conn.execute("SELECT kid, private_pem, public_jwk FROM platform_keys WHERE id = 1").fetchone()
    if row is None:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        kid = hashlib.sha256(json.dumps(jwk, sort_keys=True).encode()).hexdigest()[:16]
        jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
        # Two workers starting at once: the first insert wins, both read the winner.
        conn.execute("INSERT OR IGNORE INTO platform_keys VALUES (1, ?, ?, ?)", (kid, pem, json.dumps(jwk)))
        row = conn.execute("SELECT kid, private_pem, public_jwk FROM platform_keys WHERE id = 1").fetchone()
    return row["kid"], row["private_pem"], json.loads(row["public_jwk"])


def load_private(private_pem: str) -> rsa.RSAPrivateKey:
    """Parse once per process: loading a PEM checks the RSA key, which costs far more than signing with it."""
    key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the platform key must be an RSA key (LTI requires RS256)")
    return key


def sign(claims: Mapping[str, Any], kid: str, private_key: rsa.RSAPrivateKey) -> str:
    return jwt.encode(dict(claims), private_key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})


class ToolKeys:
    """The tool's key set, fetched over HTTP and kept for ``ttl`` seconds; refetched once for an unknown kid."""

    def __init__(self, timeout: float = 10.0, ttl: float = 300.0) -> None:
        self._timeout = timeout
        self._ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _fetch(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=self._timeout)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ToolKeyUnavailable(f"could not fetch the tool's JWKS from {url}: {error}") from error
        if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise ToolKeyUnavailable(f"the tool's JWKS at {url} has no 'keys' list")
        with self._lock:
            self._cache[url] = (time.monotonic(), body)
        return body

    def key(self, url: str, kid: str | None) -> Any:
        if not kid:
            raise ToolTokenInvalid("the JWT header has no 'kid': the platform cannot tell which tool key signed it")
        with self._lock:
            cached = self._cache.get(url)
        keyset = cached[1] if cached and time.monotonic() - cached[0] < self._ttl else self._fetch(url)
        found = next((k for k in keyset["keys"] if k.get("kid") == kid), None)
        if found is None and cached is not None:
            found = next((k for k in self._fetch(url)["keys"] if k.get("kid") == kid), None)  # rotated key
        if found is None:
            raise ToolTokenInvalid(f"the tool's JWKS ({url}) has no key with kid {kid!r}")
        return jwt.PyJWK(found, algorithm="RS256").key

    def verify(self, token: str, jwks_url: str, *, audience: str | list[str], issuer: str) -> dict[str, Any]:
        """Verify an RS256 JWT signed by the tool; every failure is :class:`ToolTokenInvalid` with the reason."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise ToolTokenInvalid(f"not a JWT: {error}") from error
        if header.get("alg") != "RS256":
            raise ToolTokenInvalid(f"JWT alg must be RS256 (LTI Security Framework §5.1.3), got {header.get('alg')!r}")
        key = self.key(jwks_url, header.get("kid"))
        try:
            return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=issuer, leeway=5,
                              options={"require": ["exp", "iat", "iss", "aud"]})
        except jwt.PyJWTError as error:
            raise ToolTokenInvalid(f"the tool's JWT was refused: {error}") from error


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
