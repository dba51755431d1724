"""The journal's wire format, checked strictly (pure: no Flask, no database).

The server of a zero-knowledge journal must be unable to store plaintext, even by mistake of a
client: every body is an object with exactly the fields named here, every opaque value is
base64url of a fixed or bounded size, and a "ciphertext" that decodes to readable text is refused.
Anything else is a :class:`JournalInputError` that names the field (JSON path).

Keyring (``PUT .../journal/keyring``)::

    {"version": 0,                                  # the version being replaced (0 = first set-up)
     "passphrase": {"kdf": KDF, "wrappedKey": B64}, # the data key wrapped by PBKDF2(passphrase)
     "recovery":   {"kdf": KDF, "wrappedKey": B64}} # the same key wrapped by PBKDF2(recovery code)
    KDF = {"name": "PBKDF2-SHA256", "iterations": >= 600000, "salt": B64 (16..64 bytes)}

``recovery`` may be left out when replacing (a passphrase change re-wraps only the passphrase copy).

Entry (``POST .../journal/entries`` / ``PUT .../journal/entries/<id>``)::

    {"id": "<uuid>", "kind": "entry" | "reflection", "blockId": "<reflection block id>" | null,
     "iv": B64 (12 bytes), "ciphertext": B64 (AES-GCM output, 17..MAX bytes)}
    {"version": n, "iv": ..., "ciphertext": ...}    # update of version n
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from smeb_lti.journal.errors import JournalInputError

# OWASP Password Storage Cheat Sheet (2023+): PBKDF2-HMAC-SHA256 with at least 600,000 iterations.
MIN_ITERATIONS = 600_000
MAX_ITERATIONS = 10_000_000  # a bound so a hostile keyring cannot make the learner's browser spin for minutes
KDF_NAME = "PBKDF2-SHA256"
SALT_BYTES = (16, 64)
WRAPPED_KEY_BYTES = 40  # AES-KW (RFC 3394) of a 256-bit key: 32 bytes + 8 bytes integrity block
IV_BYTES = 12  # AES-GCM's recommended 96-bit nonce
TAG_BYTES = 16
MAX_CIPHERTEXT_BYTES = 48 * 1024  # ~40,000 characters of Norwegian text after padding; a journal entry, not a book
MAX_BODY_BYTES = 96 * 1024
KINDS = ("entry", "reflection")
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Kdf:
    iterations: int
    salt: str


@dataclass(frozen=True)
class Wrapped:
    kdf: Kdf
    wrapped_key: str


@dataclass(frozen=True)
class KeyringInput:
    version: int
    passphrase: Wrapped
    recovery: Wrapped | None


@dataclass(frozen=True)
class EntryInput:
    id: str
    kind: str
    block_id: str | None
    iv: str
    ciphertext: str


@dataclass(frozen=True)
class EntryUpdate:
    version: int
    iv: str
    ciphertext: str


def _fail(path: str, message: str) -> JournalInputError:
    return JournalInputError(f"{path}: {message}", field=path)


def _object(value: Any, path: str, required: Collection[str], optional: Collection[str] = ()) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path, "must be a JSON object")
    unknown = sorted(set(value) - set(required) - set(optional))
    if unknown:
        # The usual way plaintext would leak is an extra field ("text", "title"): refuse, never ignore.
        raise _fail(f"{path}.{unknown[0]}", "is not a field of this request (the server stores only ciphertext and key material)")
    for name in required:
        if name not in value:
            raise _fail(f"{path}.{name}", "is required")
    return value


def _int(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(path, f"must be a whole number {low}..{high}, got {value!r}")
    return value


def b64url_bytes(value: Any, path: str, low: int, high: int) -> bytes:
    """Decode unpadded base64url of ``low..high`` bytes; anything else names ``path``."""
    if not isinstance(value, str):
        raise _fail(path, "must be a base64url string")
    if len(value) > (high * 4 + 2) // 3 or not _B64URL.match(value):
        raise _fail(path, f"must be unpadded base64url of at most {high} bytes")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        raise _fail(path, "is not valid base64url") from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != value:
        raise _fail(path, "is not canonical base64url")
    if not low <= len(raw) <= high:
        raise _fail(path, f"must decode to {low}..{high} bytes, got {len(raw)}")
    return raw


def looks_like_text(raw: bytes) -> bool:
    """Whether bytes read as text: AES-GCM output is uniformly random, so this never holds for real ciphertext.

    A random byte is a printable character (ASCII or the start of a valid multi-byte one) with a probability
    of about 0.4. Allowing one unprintable character in ten let 17 random bytes through 1 time in 100,000
    (measured), which refused a real one-letter entry; so short texts must be printable throughout
    (about 0.4^17 < 2e-7), and only from 64 bytes on, where even the lenient rule is below 1e-20, may a
    tenth of the characters be control characters.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\n\r\t")
    return printable >= (0.9 * len(text) if len(raw) >= 64 else len(text))


def _ciphertext(value: Any, path: str) -> str:
    raw = b64url_bytes(value, path, TAG_BYTES + 1, MAX_CIPHERTEXT_BYTES)
    if looks_like_text(raw):
        raise _fail(path, "decodes to readable text: encrypt the entry in the browser before sending it")
    return str(value)


def _wrapped(value: Any, path: str) -> Wrapped:
    obj = _object(value, path, ("kdf", "wrappedKey"))
    kdf = _object(obj["kdf"], f"{path}.kdf", ("name", "iterations", "salt"))
    if kdf["name"] != KDF_NAME:
        raise _fail(f"{path}.kdf.name", f"must be {KDF_NAME!r}")
    iterations = _int(kdf["iterations"], f"{path}.kdf.iterations", MIN_ITERATIONS, MAX_ITERATIONS)
    b64url_bytes(kdf["salt"], f"{path}.kdf.salt", *SALT_BYTES)
    b64url_bytes(obj["wrappedKey"], f"{path}.wrappedKey", WRAPPED_KEY_BYTES, WRAPPED_KEY_BYTES)
    return Wrapped(Kdf(iterations, kdf["salt"]), obj["wrappedKey"])


def parse_keyring(raw: Any, *, first: bool) -> KeyringInput:
    """A keyring body; the first set-up must carry both wrapped copies, a replacement may omit ``recovery``."""
    obj = _object(raw, "$", ("version", "passphrase") if not first else ("version", "passphrase", "recovery"), ("recovery",))
    version = _int(obj["version"], "$.version", 0, 2**31 - 1)
    passphrase = _wrapped(obj["passphrase"], "$.passphrase")
    recovery = _wrapped(obj["recovery"], "$.recovery") if "recovery" in obj else None
    if recovery is not None and recovery.kdf.salt == passphrase.kdf.salt:
        raise _fail("$.recovery.kdf.salt", "must differ from the passphrase salt (use a fresh random salt)")
    return KeyringInput(version, passphrase, recovery)


def parse_entry(raw: Any, reflection_ids: Collection[str]) -> EntryInput:
    """A new entry; ``reflection_ids`` are the reflection block ids of the launch's course."""
    obj = _object(raw, "$", ("id", "kind", "iv", "ciphertext"), ("blockId",))
    try:
        entry_id = str(uuid.UUID(str(obj["id"])))
    except ValueError:
        raise _fail("$.id", "must be a UUID made by the browser") from None
    if entry_id != obj["id"]:
        raise _fail("$.id", "must be a lower-case hyphenated UUID")
    kind = obj["kind"]
    if kind not in KINDS:
        raise _fail("$.kind", f"must be one of {', '.join(KINDS)}")
    block_id = obj.get("blockId")
    if kind == "reflection":
        if block_id not in reflection_ids:
            raise _fail("$.blockId", f"must be a reflection block of this course ({', '.join(sorted(reflection_ids)) or 'none'})")
    elif block_id is not None:
        raise _fail("$.blockId", "only reflection answers name a block")
    b64url_bytes(obj["iv"], "$.iv", IV_BYTES, IV_BYTES)
    return EntryInput(entry_id, kind, block_id, obj["iv"], _ciphertext(obj["ciphertext"], "$.ciphertext"))


def parse_update(raw: Any) -> EntryUpdate:
    obj = _object(raw, "$", ("version", "iv", "ciphertext"))
    version = _int(obj["version"], "$.version", 1, 2**31 - 1)
    b64url_bytes(obj["iv"], "$.iv", IV_BYTES, IV_BYTES)
    return EntryUpdate(version, obj["iv"], _ciphertext(obj["ciphertext"], "$.ciphertext"))


def parse_delete(raw: Any) -> int:
    obj = _object(raw, "$", ("version",))
    return _int(obj["version"], "$.version", 1, 2**31 - 1)
