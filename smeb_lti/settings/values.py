"""Reading one ``SMEB_*`` value: typed, bounded, and refused with a message naming the variable.

The rules for each variable live here; :mod:`smeb_lti.settings` assembles them into the one frozen ``Settings``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from smeb_lti.errors import SmebError

_NEW_SECRET = "`python -c \"import secrets;print(secrets.token_urlsafe(48))\"`"
_NEW_FERNET = "`python -c \"from cryptography.fernet import Fernet;print(Fernet.generate_key().decode())\"`"

# Request limits: (default, smallest, largest); the bounds keep a typo from disabling a limit or breaking the player.
MAX_REQUEST_BYTES = (1024 * 1024, 16 * 1024, 1024 * 1024 * 1024)  # a page posts a forum text or an id_token form
MAX_EVENT_BYTES = (256 * 1024, 16 * 1024, 16 * 1024 * 1024)  # an event carries at most the player state (~4 KB)
MAX_JSON_DEPTH = (32, 4, 512)  # an event nests 3 levels; 32 leaves room and stops recursion attacks
# The LRS: a statement alone nests 9 levels (batch > statement > SubStatement > context > ... > extensions), so
# below 16 real statements are refused; above ~900 the json module itself runs out of recursion.
LRS_JSON_DEPTH = (32, 16, 512)


class SettingsError(SmebError, ValueError):
    """A ``SMEB_*`` setting is invalid; the message names the variable and what is expected. Raised at start."""

    status = 500
    default = "the tool's configuration is invalid"



class Reader:
    """Typed reads of one mapping of ``SMEB_*`` values (strings from the environment, any type from test_config)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None or value == "" else str(value)

    def number(self, name: str, default: float, *, integer: bool = False, unit: str = "seconds") -> Any:
        """A number greater than 0 (the LTI timeouts, lifetimes and rates)."""
        raw = self.text(name)
        if raw is None:
            return int(default) if integer else float(default)
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            raise SettingsError(f"{name}={raw!r}: expected a {'whole ' if integer else ''}number of {unit}") from None
        if value <= 0:
            raise SettingsError(f"{name}={raw!r}: must be greater than 0")
        return value

    def bounded(self, name: str, default: int, low: int, high: int, unit: str) -> int:
        value = int(self.number(name, default, integer=True, unit=unit))
        if not low <= value <= high:
            raise SettingsError(f"{name}={self.text(name)!r}: expected {low} to {high} {unit}")
        return value

    def limit(self, name: str, bounds: tuple[int, int, int]) -> int:
        """A request limit: a whole number within ``bounds`` (default, smallest, largest)."""
        default, low, high = bounds
        raw = self.values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return default
        text = str(raw).strip()
        if isinstance(raw, bool) or not text.isdigit():
            raise SettingsError(f"{name}={raw!r}: expected a whole number from {low} to {high} (default {default})")
        value = int(text)
        if not low <= value <= high:
            raise SettingsError(f"{name}={value}: expected a whole number from {low} to {high} (default {default})")
        return value

    def whole(self, name: str, default: int, low: int, high: int, what: str) -> int:
        """A whole number from ``low`` to ``high``; the message says what it counts."""
        raw = self.values.get(name)
        text = "" if raw is None else str(raw).strip()
        if text == "":
            return default
        if isinstance(raw, bool) or not text.lstrip("-").isdigit() or not low <= int(text) <= high:
            raise SettingsError(f"{name}={raw!r}: expected {what}, a whole number from {low} to {high} (default {default})")
        return int(text)

    def flag(self, name: str, expected: str) -> bool:
        raw = self.values.get(name)
        if isinstance(raw, bool):
            return raw
        text = "" if raw is None else str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("", "0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name}={raw!r}: {expected}")



def check_secrets(mode: str, secret_key: str | None, encryption_key: str | None) -> None:
    if mode == "production":
        missing = [n for n, v in (("SMEB_SECRET_KEY", secret_key), ("SMEB_KEY_ENCRYPTION_KEY", encryption_key)) if not v]
        if missing:
            raise SettingsError(
                f"SMEB_ENV=production needs {' and '.join(missing)}: there is no default secret in production. "
                f"Generate SMEB_SECRET_KEY with {_NEW_SECRET} and SMEB_KEY_ENCRYPTION_KEY with {_NEW_FERNET}"
            )
    if secret_key is not None and len(secret_key) < 32:
        raise SettingsError(f"SMEB_SECRET_KEY is shorter than 32 characters: use {_NEW_SECRET}")
    if encryption_key is not None:
        try:
            Fernet(encryption_key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise SettingsError(
                f"SMEB_KEY_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes): generate one with {_NEW_FERNET}"
            ) from None


def redis_url_of(url: str | None) -> str | None:
    if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(f"SMEB_REDIS_URL={url!r}: expected redis://HOST:PORT/DB or rediss://...")
    return url


def public_url_of(url: str | None, mode: str) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(f"SMEB_PUBLIC_URL={url!r}: expected the tool's base URL, e.g. https://kurs.smeb.no")
    if mode == "production" and parts.scheme != "https":
        raise SettingsError(f"SMEB_PUBLIC_URL={url!r}: production needs https (LMSs refuse http tools, cookies need Secure)")
    return url.rstrip("/")


def lrs_json_depth(read: Reader) -> int:
    """SMEB_LRS_MAX_JSON_DEPTH, else SMEB_MAX_JSON_DEPTH (shared with the player's events), else 32."""
    default, low, high = LRS_JSON_DEPTH
    for name in ("SMEB_LRS_MAX_JSON_DEPTH", "SMEB_MAX_JSON_DEPTH"):
        raw = read.values.get(name)
        if raw is None or raw == "":
            continue
        try:
            value: int | None = int(raw)
        except (TypeError, ValueError):
            value = None
        if value is None or isinstance(raw, bool) or not low <= value <= high:
            hint = "; the shared value also bounds the LRS, or set SMEB_LRS_MAX_JSON_DEPTH for the LRS alone" if name == "SMEB_MAX_JSON_DEPTH" else ""
            raise SettingsError(
                f"{name}={raw!r}: the embedded LRS needs a whole number of nesting levels from {low} "
                f"(a statement alone nests 9) to {high} (default {default}){hint}"
            )
        return value
    return default


def paths_of(value: Any) -> tuple[Path, ...]:
    """``SMEB_COURSE_DIRS``: folders separated by ``os.pathsep`` (or a list, from test_config)."""
    if not value:
        return ()
    parts = [p for p in value.split(os.pathsep) if p] if isinstance(value, str) else [str(p) for p in value]
    return tuple(Path(p) for p in parts)


def operator_token_of(token: str | None) -> str | None:
    """Unset: the operator page is off. Set: at least 32 characters (it is a password checked over the network)."""
    if token is not None and len(token) < 32:
        raise SettingsError(f"SMEB_OPERATOR_TOKEN must be at least 32 characters (e.g. `python -c \"import secrets; "
                            f"print(secrets.token_urlsafe(32))\"`), got {len(token)}")
    return token


def date_of(raw: str | None) -> dt.date | None:
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise SettingsError(f"SMEB_TODAY={raw!r}: expected an ISO date such as 2026-11-09") from None


def stored_secret(data_dir: Path, name: str, make: Callable[[], str]) -> str:
    """A development secret generated once and kept in ``data_dir/secrets/<name>`` (mode 0600).

    Written to a private temporary file and then hard-linked into place, so a worker starting at the same moment
    sees either no file or the whole secret, never an empty one; whoever links first wins and everyone reads the
    winner's value.
    """
    folder = data_dir / "secrets"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(make())
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return path.read_text(encoding="ascii").strip()
