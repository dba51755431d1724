"""The LTI tool's ``SMEB_*`` settings, validated once at start-up (:func:`smeb_lti.lti.init_app`).

- ``SMEB_ENV``: ``production`` or ``development`` (default). Production refuses to start without
  ``SMEB_SECRET_KEY`` and ``SMEB_KEY_ENCRYPTION_KEY``; development generates both once and keeps
  them in ``SMEB_DATA_DIR/secrets/`` so every worker and restart uses the same ones.
- ``SMEB_SECRET_KEY``: Flask's secret (at least 32 characters).
- ``SMEB_KEY_ENCRYPTION_KEY``: a Fernet key (``python -c "from cryptography.fernet import Fernet;
  print(Fernet.generate_key().decode())"``) that encrypts the tool's private RSA keys in the database.
- ``SMEB_REDIS_URL``: optional ``redis://`` URL for states, nonces and caches (default: the database).
- ``SMEB_PUBLIC_URL``: optional public base URL (``https://kurs.smeb.no``) when behind a proxy.
- ``SMEB_LTI_HTTP_TIMEOUT``: seconds for calls to platforms (JWKS, tokens, registration), default 10.
- ``SMEB_LTI_JWKS_TTL``: seconds a platform's key set is cached, default 3600.
- ``SMEB_LTI_LAUNCH_TTL``: seconds a launch stays usable by the player, default 43200 (12 h).
- ``SMEB_LTI_JWKS_REFETCH_INTERVAL``: at most one re-fetch of a platform's key set per this many seconds
  (an unknown ``kid``: a rotated key, or a forged token), default 10.
- ``SMEB_LOGIN_RATE_PER_ADDRESS``: OIDC login initiations per minute from one client address, default 60.
- ``SMEB_LOGIN_RATE_PER_ISSUER``: OIDC login initiations per minute for one registered issuer, default 1200.
- ``SMEB_MAX_ID_TOKEN_BYTES``: the largest id_token a launch may post, default 65536 (64 KiB).
- ``SMEB_MAX_TOKEN_LIFETIME``: how far in the future an id_token's ``exp`` may be, in seconds, default 3600.
- ``SMEB_STAFF_TICKET_TTL``: seconds a single-use staff-page ticket lives (browsers without the
  launch cookie, e.g. an LMS iframe with third-party cookies blocked), default 600.

Each value may also come from the Flask config (``create_app({...})``), which wins over the environment.
"""

from __future__ import annotations

import os
import tempfile
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from smeb_lti.lti.errors import LtiConfigError

NAMES = (
    "SMEB_ENV",
    "SMEB_SECRET_KEY",
    "SMEB_KEY_ENCRYPTION_KEY",
    "SMEB_REDIS_URL",
    "SMEB_PUBLIC_URL",
    "SMEB_LTI_HTTP_TIMEOUT",
    "SMEB_LTI_JWKS_TTL",
    "SMEB_LTI_LAUNCH_TTL",
    "SMEB_LTI_JWKS_REFETCH_INTERVAL",
    "SMEB_LOGIN_RATE_PER_ADDRESS",
    "SMEB_LOGIN_RATE_PER_ISSUER",
    "SMEB_MAX_ID_TOKEN_BYTES",
    "SMEB_MAX_TOKEN_LIFETIME",
    "SMEB_STAFF_TICKET_TTL",
)


@dataclass(frozen=True)
class LtiSettings:
    env: str
    secret_key: str
    key_encryption_key: str
    redis_url: str | None
    public_url: str | None
    http_timeout: float
    jwks_ttl: int
    launch_ttl: int
    jwks_refetch_interval: int = 10
    login_rate_per_address: int = 60
    login_rate_per_issuer: int = 1200
    max_id_token_bytes: int = 65536
    max_token_lifetime: int = 3600
    staff_ticket_ttl: int = 600

    @property
    def production(self) -> bool:
        return self.env == "production"


def _number(raw: str | None, name: str, default: float, *, integer: bool = False, unit: str = "seconds") -> Any:
    if raw in (None, ""):
        return int(default) if integer else float(default)
    try:
        value = int(str(raw)) if integer else float(str(raw))
    except ValueError:
        raise LtiConfigError(f"{name}={raw!r}: expected a {'whole ' if integer else ''}number of {unit}") from None
    if value <= 0:
        raise LtiConfigError(f"{name}={raw!r}: must be greater than 0")
    return value


def _stored_secret(data_dir: Path, name: str, make: Any) -> str:
    """A development secret generated once and kept in ``data_dir/secrets/<name>`` (mode 0600).

    Written to a private temporary file and then hard-linked into place, so a worker
    starting at the same moment sees either no file or the whole secret, never an
    empty one; whoever links first wins and everyone reads the winner's value.
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


def load(config: Mapping[str, Any], env: Mapping[str, str] | None = None, data_dir: Path | None = None) -> LtiSettings:
    """Read and check every LTI setting; raise :class:`LtiConfigError` naming the first bad variable."""
    env = os.environ if env is None else env

    def raw(name: str) -> str | None:
        value = config.get(name)
        if value is None:
            value = env.get(name)
        return None if value in (None, "") else str(value)

    mode = (raw("SMEB_ENV") or "development").lower()
    if mode not in ("production", "development", "test"):
        raise LtiConfigError(f"SMEB_ENV={mode!r}: expected 'production' or 'development'")
    data_dir = data_dir or Path(str(config.get("SMEB_DATA_DIR") or env.get("SMEB_DATA_DIR") or "var")).absolute()

    secret_key = raw("SMEB_SECRET_KEY")
    encryption_key = raw("SMEB_KEY_ENCRYPTION_KEY")
    if mode == "production":
        missing = [n for n, v in (("SMEB_SECRET_KEY", secret_key), ("SMEB_KEY_ENCRYPTION_KEY", encryption_key)) if not v]
        if missing:
            raise LtiConfigError(
                f"SMEB_ENV=production needs {' and '.join(missing)}: there is no default secret in production. "
                "Generate SMEB_SECRET_KEY with `python -c \"import secrets;print(secrets.token_urlsafe(48))\"` and "
                "SMEB_KEY_ENCRYPTION_KEY with `python -c \"from cryptography.fernet import Fernet;print(Fernet.generate_key().decode())\"`"
            )
    if secret_key is None:
        secret_key = _stored_secret(data_dir, "secret_key", lambda: secrets.token_urlsafe(48))
    if len(secret_key) < 32:
        raise LtiConfigError("SMEB_SECRET_KEY is shorter than 32 characters: use `python -c \"import secrets;print(secrets.token_urlsafe(48))\"`")
    if encryption_key is None:
        encryption_key = _stored_secret(data_dir, "key_encryption_key", lambda: Fernet.generate_key().decode("ascii"))
    try:
        Fernet(encryption_key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise LtiConfigError(
            "SMEB_KEY_ENCRYPTION_KEY is not a Fernet key (32 url-safe base64-encoded bytes): "
            "generate one with `python -c \"from cryptography.fernet import Fernet;print(Fernet.generate_key().decode())\"`"
        ) from None

    redis_url = raw("SMEB_REDIS_URL")
    if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise LtiConfigError(f"SMEB_REDIS_URL={redis_url!r}: expected redis://HOST:PORT/DB or rediss://...")
    public_url = raw("SMEB_PUBLIC_URL")
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise LtiConfigError(f"SMEB_PUBLIC_URL={public_url!r}: expected the tool's base URL, e.g. https://kurs.smeb.no")
        if mode == "production" and parts.scheme != "https":
            raise LtiConfigError(f"SMEB_PUBLIC_URL={public_url!r}: production needs https (LMSs refuse http tools, cookies need Secure)")
        public_url = public_url.rstrip("/")
    return LtiSettings(
        env=mode,
        secret_key=secret_key,
        key_encryption_key=encryption_key,
        redis_url=redis_url,
        public_url=public_url,
        http_timeout=_number(raw("SMEB_LTI_HTTP_TIMEOUT"), "SMEB_LTI_HTTP_TIMEOUT", 10),
        jwks_ttl=_number(raw("SMEB_LTI_JWKS_TTL"), "SMEB_LTI_JWKS_TTL", 3600, integer=True),
        launch_ttl=_number(raw("SMEB_LTI_LAUNCH_TTL"), "SMEB_LTI_LAUNCH_TTL", 43200, integer=True),
        jwks_refetch_interval=_number(raw("SMEB_LTI_JWKS_REFETCH_INTERVAL"), "SMEB_LTI_JWKS_REFETCH_INTERVAL", 10, integer=True),
        login_rate_per_address=_number(raw("SMEB_LOGIN_RATE_PER_ADDRESS"), "SMEB_LOGIN_RATE_PER_ADDRESS", 60, integer=True, unit="logins per minute"),
        login_rate_per_issuer=_number(raw("SMEB_LOGIN_RATE_PER_ISSUER"), "SMEB_LOGIN_RATE_PER_ISSUER", 1200, integer=True, unit="logins per minute"),
        max_id_token_bytes=_bounded(raw("SMEB_MAX_ID_TOKEN_BYTES"), "SMEB_MAX_ID_TOKEN_BYTES", 65536, 1024, 1048576, "bytes"),
        max_token_lifetime=_number(raw("SMEB_MAX_TOKEN_LIFETIME"), "SMEB_MAX_TOKEN_LIFETIME", 3600, integer=True),
        staff_ticket_ttl=_number(raw("SMEB_STAFF_TICKET_TTL"), "SMEB_STAFF_TICKET_TTL", 600, integer=True),
    )


def _bounded(raw: str | None, name: str, default: int, low: int, high: int, unit: str) -> int:
    """A whole number between ``low`` and ``high``: a limit outside makes no sense (too small breaks real launches)."""
    value = int(_number(raw, name, default, integer=True, unit=unit))
    if not low <= value <= high:
        raise LtiConfigError(f"{name}={raw!r}: expected {low} to {high} {unit}")
    return value
