"""Every ``SMEB_*`` setting of the tool in one frozen :class:`Settings`, read and validated once at start.

:func:`smeb_lti.app.create_app` builds it from the environment with the ``test_config`` values on top
(``Settings.from_env(overrides=test_config)``) and keeps it at ``app.extensions["smeb.settings"]``; code reads it
with :func:`settings` (or :func:`get_settings` for an app not yet serving, :func:`current_settings` for code that
also runs in commands). Commands without an app call ``Settings.from_env()``. The course-source limits
(``SMEB_COURSE_MAX_*``) are read by :mod:`content.limits`, which the pure course loader owns. A bad value stops the start with a :class:`SettingsError` naming the variable and what is
expected: nothing is read per request, nothing silently becomes the default. README's configuration table lists
the variables.

In development the two secrets may be unset: :meth:`Settings.with_development_secrets` then generates them once
into ``SMEB_DATA_DIR/secrets/`` so every worker and restart uses the same ones; production refuses to start.
"""


from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask, current_app, has_app_context

from content.limits import SourceLimitError, SourceLimits, limits_from
from smeb_lti.settings.values import (
    LRS_JSON_DEPTH,
    MAX_EVENT_BYTES,
    MAX_JSON_DEPTH,
    MAX_REQUEST_BYTES,
    Reader,
    SettingsError,
    check_secrets,
    date_of,
    lrs_json_depth,
    operator_token_of,
    paths_of,
    public_url_of,
    redis_url_of,
    stored_secret,
)

__all__ = ["MAX_EVENT_BYTES", "MAX_JSON_DEPTH", "MAX_REQUEST_BYTES", "Settings", "SettingsError", "course_limits",
           "current_settings", "get_settings", "settings", "update_settings"]


@dataclass(frozen=True)
class Settings:
    """The tool's configuration (README, "Configuration"); one per app, never changed while serving."""

    data_dir: Path
    database_url: str
    env: str = "development"
    secret_key: str | None = field(default=None, repr=False)
    key_encryption_key: str | None = field(default=None, repr=False)
    key_encryption_key_configured: bool = False
    """Whether the operator set ``SMEB_KEY_ENCRYPTION_KEY`` (certificates encrypt their key only with that one)."""
    redis_url: str | None = None
    public_url: str | None = None
    trusted_proxies: int = 0
    """Reverse proxies in front of the tool whose ``X-Forwarded-For``/``-Proto``/``-Host`` are believed; 0 believes
    none, since a client could otherwise name any address and escape the per-address login limit."""
    # LTI
    http_timeout: float = 10.0
    jwks_ttl: int = 3600
    launch_ttl: int = 43200
    jwks_refetch_interval: int = 10
    login_rate_per_address: int = 60
    login_rate_per_issuer: int = 1200
    max_id_token_bytes: int = 65536
    max_token_lifetime: int = 3600
    staff_ticket_ttl: int = 600
    dynreg_allowed_origins: frozenset[str] = frozenset()
    dynreg_allow_private: bool = False
    roster_page_size: int = 25
    # Requests
    max_request_bytes: int = MAX_REQUEST_BYTES[0]
    max_event_bytes: int = MAX_EVENT_BYTES[0]
    max_json_depth: int = MAX_JSON_DEPTH[0]
    # Embedded LRS and delivery
    lrs_max_body: int = 10 * 1024 * 1024
    lrs_page_max: int = 100
    lrs_max_json_depth: int = LRS_JSON_DEPTH[0]
    lrs_token_secret: bytes | None = field(default=None, repr=False)
    lrs_upstreams: str | None = None
    """``SMEB_LRS_UPSTREAMS`` as JSON text; :mod:`xapi` parses and checks it where destinations are loaded."""
    report_lrs_password: str | None = field(default=None, repr=False)
    # Player, courses and learners
    xapi_actor_key: str | None = field(default=None, repr=False)
    course_dirs: tuple[Path, ...] = ()
    course_limits: SourceLimits = field(default_factory=SourceLimits)
    cert_status_max_age: int = 30
    cert_number_in_statements: bool = False
    operator_token: str | None = field(default=None, repr=False)
    forum_edit_seconds: int = 15 * 60
    forum_posts_per_window: int = 5
    forum_rate_seconds: int = 5 * 60
    min_group_size: int = 5
    today: dt.date | None = None
    """``SMEB_TODAY`` pins the date (tests, rehearsals of a survey or workshop schedule)."""
    source: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The values it was read from, so :func:`update_settings` can re-validate a change."""

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, Any] | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
        """Read and check every setting: ``overrides`` (``create_app``'s test_config) win over ``environ``."""
        merged: dict[str, Any] = {k: v for k, v in (os.environ if environ is None else environ).items() if k.startswith("SMEB_")}
        merged.update({k: v for k, v in (overrides or {}).items() if k.startswith("SMEB_") and v is not None})
        return _read(Reader(merged))

    def with_development_secrets(self) -> Settings:
        """Fill unset secrets from ``data_dir/secrets/`` (generated once there); production has both already."""
        if self.secret_key is not None and self.key_encryption_key is not None:
            return self
        return dataclasses.replace(
            self,
            secret_key=self.secret_key or stored_secret(self.data_dir, "secret_key", lambda: secrets.token_urlsafe(48)),
            key_encryption_key=self.key_encryption_key
            or stored_secret(self.data_dir, "key_encryption_key", lambda: Fernet.generate_key().decode("ascii")),
        )

    @property
    def configured_key_encryption_key(self) -> str | None:
        """``SMEB_KEY_ENCRYPTION_KEY`` only when the operator set it: the certificate issuer's key is encrypted with
        that one, never with a development key generated for LTI (which would tie the certificates to one data dir)."""
        return self.key_encryption_key if self.key_encryption_key_configured else None

    def fernet_key(self) -> str:
        """``SMEB_KEY_ENCRYPTION_KEY`` (set or generated) for the LTI keys at rest."""
        if self.key_encryption_key is None:
            raise SettingsError("SMEB_KEY_ENCRYPTION_KEY is unset: set it, or start in development where it is generated")
        return self.key_encryption_key


def settings() -> Settings:
    """The settings of the app serving this request (or of the app context)."""
    return get_settings(current_app)


def current_settings() -> Settings:
    """The serving app's settings; outside one (a command working on the database alone), the environment's."""
    if has_app_context() and "smeb.settings" in current_app.extensions:
        return settings()
    return Settings.from_env()


def get_settings(app: Flask) -> Settings:
    found: Settings = app.extensions["smeb.settings"]
    return found


def update_settings(app: Flask, changes: Mapping[str, Any]) -> Settings:
    """Re-read ``app``'s settings with ``changes`` (variable → value) on top, validated like at start.

    For tests and rehearsals that move a running tool to another day or public URL; serving code never calls it.
    """
    current = get_settings(app)
    read = Settings.from_env({}, {**current.source, **changes})
    # The secrets generated for development at start stay: a change of date must not change the keys.
    changed = dataclasses.replace(read, secret_key=read.secret_key or current.secret_key,
                                  key_encryption_key=read.key_encryption_key or current.key_encryption_key)
    app.extensions["smeb.settings"] = changed
    return changed


# -- reading ------------------------------------------------------------------------------------------------



# -- reading ------------------------------------------------------------------------------------------------


def _read(read: Reader) -> Settings:
    mode = (read.text("SMEB_ENV") or "development").lower()
    if mode not in ("production", "development", "test"):
        raise SettingsError(f"SMEB_ENV={mode!r}: expected 'production' or 'development'")
    data_dir = Path(read.text("SMEB_DATA_DIR") or "var").absolute()
    url = read.text("SMEB_DATABASE_URL") or f"sqlite:///{data_dir / 'smeb.db'}"
    if not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
        raise SettingsError(f"SMEB_DATABASE_URL={url!r}: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
    proxies = (read.text("SMEB_TRUSTED_PROXIES") or "0").strip()
    if not proxies.isdigit() or int(proxies) > 5:
        raise SettingsError(f"SMEB_TRUSTED_PROXIES={proxies!r}: expected the number of reverse proxies in front of the tool, 0 to 5")
    secret_key, encryption_key = read.text("SMEB_SECRET_KEY"), read.text("SMEB_KEY_ENCRYPTION_KEY")
    check_secrets(mode, secret_key, encryption_key)
    lrs_secret = read.values.get("SMEB_LRS_TOKEN_SECRET") or None
    return Settings(
        data_dir=data_dir,
        database_url=url,
        env=mode,
        secret_key=secret_key,
        key_encryption_key=encryption_key,
        key_encryption_key_configured=encryption_key is not None,
        redis_url=redis_url_of(read.text("SMEB_REDIS_URL")),
        public_url=public_url_of(read.text("SMEB_PUBLIC_URL"), mode),
        trusted_proxies=int(proxies),
        http_timeout=read.number("SMEB_LTI_HTTP_TIMEOUT", 10),
        jwks_ttl=read.number("SMEB_LTI_JWKS_TTL", 3600, integer=True),
        launch_ttl=read.number("SMEB_LTI_LAUNCH_TTL", 43200, integer=True),
        jwks_refetch_interval=read.number("SMEB_LTI_JWKS_REFETCH_INTERVAL", 10, integer=True),
        login_rate_per_address=read.number("SMEB_LOGIN_RATE_PER_ADDRESS", 60, integer=True, unit="logins per minute"),
        login_rate_per_issuer=read.number("SMEB_LOGIN_RATE_PER_ISSUER", 1200, integer=True, unit="logins per minute"),
        max_id_token_bytes=read.bounded("SMEB_MAX_ID_TOKEN_BYTES", 65536, 1024, 1048576, "bytes"),
        max_token_lifetime=read.number("SMEB_MAX_TOKEN_LIFETIME", 3600, integer=True),
        staff_ticket_ttl=read.number("SMEB_STAFF_TICKET_TTL", 600, integer=True),
        dynreg_allowed_origins=frozenset(
            o.lower().rstrip("/") for o in (read.text("SMEB_DYNREG_ALLOWED_ORIGINS") or "").strip().replace(",", " ").split() if o
        ),
        # Lenient on purpose, as always: only an explicit yes opens registration to private addresses.
        dynreg_allow_private=(read.text("SMEB_DYNREG_ALLOW_PRIVATE") or "").strip().lower() in ("1", "true", "yes"),
        roster_page_size=read.whole("SMEB_ROSTER_PAGE_SIZE", 25, 1, 1000, "members per roster page"),
        max_request_bytes=read.limit("SMEB_MAX_REQUEST_BYTES", MAX_REQUEST_BYTES),
        max_event_bytes=read.limit("SMEB_MAX_EVENT_BYTES", MAX_EVENT_BYTES),
        max_json_depth=read.limit("SMEB_MAX_JSON_DEPTH", MAX_JSON_DEPTH),
        lrs_max_body=read.whole("SMEB_LRS_MAX_BODY", 10 * 1024 * 1024, 1, 2**40, "the largest LRS request body in bytes"),
        lrs_page_max=read.whole("SMEB_LRS_PAGE_MAX", 100, 1, 1_000_000, "the most statements per LRS page"),
        lrs_max_json_depth=lrs_json_depth(read),
        lrs_token_secret=lrs_secret.encode("utf-8") if isinstance(lrs_secret, str) else lrs_secret,
        lrs_upstreams=read.text("SMEB_LRS_UPSTREAMS"),
        report_lrs_password=read.text("SMEB_REPORT_LRS_PASSWORD"),
        xapi_actor_key=read.text("SMEB_XAPI_ACTOR_KEY"),
        course_dirs=paths_of(read.values.get("SMEB_COURSE_DIRS")),
        course_limits=course_limits(read.values),
        cert_status_max_age=read.whole("SMEB_CERT_STATUS_MAX_AGE", 30, 0, 60, "seconds a verifier may cache the status list "
                                       "(a revoked badge must read revoked within a minute)"),
        cert_number_in_statements=read.flag(
            "SMEB_CERT_NUMBER_IN_STATEMENTS", "expected true or false (default false: no certificate number in the LRS)"
        ),
        operator_token=operator_token_of(read.text("SMEB_OPERATOR_TOKEN")),
        forum_edit_seconds=read.whole("SMEB_FORUM_EDIT_SECONDS", 15 * 60, 0, 10**9, "seconds a post stays editable"),
        forum_posts_per_window=read.whole("SMEB_FORUM_POSTS_PER_WINDOW", 5, 1, 10**9, "posts per rate window"),
        forum_rate_seconds=read.whole("SMEB_FORUM_RATE_SECONDS", 5 * 60, 1, 10**9, "seconds of the forum's rate window"),
        min_group_size=read.whole("SMEB_MIN_GROUP_SIZE", 5, 0, 10**6, "the smallest group a report shows (never below 5)"),
        today=date_of(read.text("SMEB_TODAY")),
        source=dict(read.values),
    )


def course_limits(environ: Mapping[str, Any] | None = None) -> SourceLimits:
    """``SMEB_COURSE_MAX_*`` alone: for the commands that read course sources (``smeb validate``, ``smeb build``)
    on an author's machine, which has none of the tool's secrets and needs none."""
    try:
        return limits_from(os.environ if environ is None else environ)
    except SourceLimitError as error:
        raise SettingsError(str(error)) from None
