"""``smeb platform add|list|remove`` and ``smeb keys rotate|list``: LTI platform registrations and tool keys."""

from __future__ import annotations

import sys

import click

from smeb_lti.db import configured_session


def _fernet():  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet

    from smeb_lti.config import Settings
    from smeb_lti.lti.errors import LtiConfigError
    from smeb_lti.lti.settings import load

    try:
        settings = load({}, data_dir=Settings.from_env().data_dir)
    except LtiConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return Fernet(settings.key_encryption_key.encode("ascii"))


@click.group("platform")
def platform_group() -> None:
    """LTI 1.3 platforms (LMSs) registered with this tool."""


@platform_group.command("add")
@click.option("--issuer", required=True, help="The platform's issuer ('iss'), e.g. https://moodle.example.no")
@click.option("--client-id", required=True, help="The client id the platform generated for this tool.")
@click.option("--deployment", "deployments", multiple=True, help="A deployment id (repeat for several).")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authentication request URL.")
@click.option("--token-url", required=True, help="The platform's OAuth 2 access token URL (AGS/NRPS).")
@click.option("--jwks-url", required=True, help="The platform's public keyset URL.")
@click.option("--audience", default=None, help="Audience for client assertions, if not the token URL.")
@click.option("--name", default="", help="A name for people (default: the issuer's host).")
def platform_add(
    issuer: str, client_id: str, deployments: tuple[str, ...], auth_login_url: str, token_url: str, jwks_url: str, audience: str | None, name: str
) -> None:
    """Register a platform, or add deployment ids and update endpoints of an existing (issuer, client id)."""
    from smeb_lti.lti import registrations
    from smeb_lti.lti.errors import RegistrationError

    data = registrations.RegistrationInput(
        issuer=issuer,
        client_id=client_id,
        auth_login_url=auth_login_url,
        auth_token_url=token_url,
        key_set_url=jwks_url,
        deployment_ids=deployments,
        name=name,
        auth_audience=audience,
    )
    try:
        with configured_session() as session:
            row = registrations.add(session, data)
            summary = f"{row.issuer} client {row.client_id}: deployments {', '.join(row.deployment_ids) or '(none yet)'}"
    except RegistrationError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"registered  {summary}")
    if not deployments:
        click.echo("note: launches are refused until a deployment id is added (--deployment ID)", err=True)


@platform_group.command("list")
def platform_list() -> None:
    """List registered platforms with their deployment ids."""
    from smeb_lti.lti import registrations

    with configured_session() as session:
        rows = registrations.all_registrations(session)
        if not rows:
            click.echo("No platforms registered. Add one with: smeb platform add --issuer ... (see docs/lti.md)")
            return
        for row in rows:
            click.echo(f"{row.id:4}  {row.issuer}  client={row.client_id}  deployments={','.join(row.deployment_ids) or '-'}  ({row.name})")
            click.echo(f"      login={row.auth_login_url}  token={row.auth_token_url}  jwks={row.key_set_url}")


@platform_group.command("remove")
@click.option("--issuer", required=True)
@click.option("--client-id", required=True)
def platform_remove(issuer: str, client_id: str) -> None:
    """Remove a registration (its deployments and stored launches go with it)."""
    from smeb_lti.lti import registrations

    with configured_session() as session:
        removed = registrations.remove(session, issuer, client_id)
    if not removed:
        click.echo(f"error: no registration for {issuer} client {client_id}", err=True)
        sys.exit(1)
    click.echo(f"removed  {issuer} client {client_id}")


@click.group("keys")
def keys_group() -> None:
    """The tool's RSA signing keys (published at /.well-known/jwks.json)."""


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Make a new signing key; the old one stays in the JWKS until tokens it signed have expired."""
    from smeb_lti.lti import keys

    fernet = _fernet()
    with configured_session() as session:
        kid = keys.rotate(session, fernet)
    click.echo(f"active key  {kid}")


@keys_group.command("list")
def keys_list() -> None:
    """List keys: the active one and retired ones still published."""
    from smeb_lti.lti import keys

    with configured_session() as session:
        rows = keys.list_keys(session)
    if not rows:
        click.echo("No keys yet: one is made on first use, or run `smeb keys rotate`.")
        return
    for info in rows:
        state = "active" if info.retired_at is None else f"retired, in JWKS until {info.in_jwks_until:%Y-%m-%d %H:%M:%S}Z"
        click.echo(f"{info.kid}  created {info.created_at:%Y-%m-%d %H:%M:%S}Z  {state}")


def register(main: click.Group) -> None:
    main.add_command(platform_group)
    main.add_command(keys_group)
