"""Keys and tokens derived from the app's ``SECRET_KEY``: one keyed HMAC, the purpose as domain separation.

Every secret value the tool derives (CSRF tokens, the staff browser cookie, the player's event token, the
pseudonymous xAPI actor key, the LRS launch-token key, survey answer tokens) comes from :func:`derive_key`,
so a leaked derived value reveals neither ``SECRET_KEY`` nor any other purpose's value.

The values are byte for byte the ones the tool derived before this module existed (stored answer tokens and
pseudonyms must stay valid): ``HMAC-SHA256(SECRET_KEY, purpose)``. A value bound to one launch keeps its
historic shape ``HMAC-SHA256(SECRET_KEY, purpose NUL launch_id)`` (:func:`launch_bound`); a message signed under
a purpose's own key is ``HMAC-SHA256(derive_key(purpose), message)`` (:func:`sign`). Launch ids are ASCII
(``secrets.token_urlsafe``), so their encoding never differs between the older copies.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app


def secret_key(app: Flask | None = None) -> bytes:
    """``SECRET_KEY`` of ``app`` (default: the current app) as bytes; set by :func:`smeb_lti.lti.routes.init_app`."""
    secret = (app or current_app).config.get("SECRET_KEY")
    if not secret:
        raise RuntimeError("SECRET_KEY is not set: smeb_lti.lti.routes.init_app must run before any part that derives keys")
    return _as_bytes(secret)


def _as_bytes(secret: str | bytes) -> bytes:
    return bytes(secret) if isinstance(secret, (bytes, bytearray)) else str(secret).encode("utf-8")


def derive_key(purpose: str, *, secret: str | bytes | None = None) -> bytes:
    """``HMAC-SHA256(secret, purpose)``: the key (or value) of one purpose; ``secret`` defaults to ``SECRET_KEY``."""
    key = secret_key() if secret is None else _as_bytes(secret)
    # surrogatepass: any text from a URL gets a value (then refused as unknown), never a 500; UTF-8 otherwise.
    return hmac.new(key, purpose.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()


def launch_bound(purpose: str, launch_id: str, *, secret: str | bytes | None = None) -> bytes:
    """The value of ``purpose`` for one launch: ``HMAC-SHA256(secret, purpose NUL launch_id)``."""
    return derive_key(f"{purpose}\x00{launch_id}", secret=secret)


def sign(purpose: str, message: bytes | str) -> str:
    """Hex ``HMAC-SHA256(derive_key(purpose), message)``: stable, useless without the server's key."""
    data = message if isinstance(message, bytes) else message.encode("utf-8", "surrogatepass")
    return hmac.new(derive_key(purpose), data, hashlib.sha256).hexdigest()


def same_token(sent: str, expected: str) -> bool:
    """Constant-time comparison of a token a client sent (any text) with the expected one (hex)."""
    # Compared as bytes: a str with non-ASCII characters would make compare_digest raise (a 500 instead of a refusal).
    return bool(sent) and hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode("ascii"))
