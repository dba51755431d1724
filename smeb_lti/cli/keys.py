"""``smeb keys list|rotate`` (the tool's LTI keys) and ``smeb cert keys list|rotate`` (the certificate issuer's keys).

One ``keys`` group, built by :func:`keys_group` for each kind of key the tool signs with; ``cert`` mounts the
certificate kind under its own name because the docs and operators' scripts say ``smeb cert keys rotate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click
from cryptography.fernet import Fernet

from smeb_lti.certificates import signing
from smeb_lti.db import configured_session
from smeb_lti.lti import keys as lti_keys
from smeb_lti.settings import Settings, SettingsError


@dataclass(frozen=True)
class KeyKind:
    """One kind of signing key: what the group and its two commands say, and what they do."""

    help: str
    list_help: str
    rotate_help: str
    list_keys: Callable[[], None]
    rotate: Callable[[], None]


def keys_group(kind: KeyKind) -> click.Group:
    """The ``keys`` group for one kind of key: ``list`` and ``rotate``."""
    group = click.Group("keys", help=kind.help)
    group.add_command(click.Command("list", callback=kind.list_keys, help=kind.list_help))
    group.add_command(click.Command("rotate", callback=kind.rotate, help=kind.rotate_help))
    return group


def tool_fernet() -> Fernet:
    """The Fernet that encrypts the tool's private keys at rest (``SMEB_KEY_ENCRYPTION_KEY``)."""
    try:
        settings = Settings.from_env().with_development_secrets()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    return Fernet(settings.fernet_key().encode("ascii"))


def certificate_encryption_key() -> str | None:
    """The key that encrypts the certificate issuer's private keys, or None when they are stored in the clear."""
    try:
        return Settings.from_env().configured_key_encryption_key
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _tool_keys_rotate() -> None:
    fernet = tool_fernet()
    with configured_session() as session:
        kid = lti_keys.rotate(session, fernet)
    click.echo(f"active key  {kid}")


def _tool_keys_list() -> None:
    with configured_session() as session:
        rows = lti_keys.list_keys(session)
    if not rows:
        click.echo("No keys yet: one is made on first use, or run `smeb keys rotate`.")
        return
    for info in rows:
        state = "active" if info.retired_at is None else f"retired, in JWKS until {info.in_jwks_until:%Y-%m-%d %H:%M:%S}Z"
        click.echo(f"{info.kid}  created {info.created_at:%Y-%m-%d %H:%M:%S}Z  {state}")


def _certificate_keys_list() -> None:
    with configured_session() as session:
        for info in signing.public_keys(session):
            click.echo(f"{info.kid}  {'active ' if info.active else 'retired'}  {info.created_at:%Y-%m-%d}  {signing.did_key(info.public_key)}")


def _certificate_keys_rotate() -> None:
    with configured_session() as session:
        key = signing.rotate(session, certificate_encryption_key())
    click.echo(f"new active key {key.kid}")


TOOL_KEYS = KeyKind(
    help="The tool's RSA signing keys (published at /.well-known/jwks.json).",
    list_help="List keys: the active one and retired ones still published.",
    rotate_help="Make a new signing key; the old one stays in the JWKS until tokens it signed have expired.",
    list_keys=_tool_keys_list,
    rotate=_tool_keys_rotate,
)
CERTIFICATE_KEYS = KeyKind(
    help="The issuer's Ed25519 signing keys.",
    list_help="Every key (active and retired) with its did:key.",
    rotate_help="Retire the active key and create a new one (old certificates keep verifying).",
    list_keys=_certificate_keys_list,
    rotate=_certificate_keys_rotate,
)


def register(main: click.Group) -> None:
    main.add_command(keys_group(TOOL_KEYS))
