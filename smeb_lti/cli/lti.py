"""``smeb platform add|list|remove|register-url`` and ``smeb launches purge``: LTI platform registrations and stored launches.

The tool's keys (``smeb keys``) are in cli/keys.py."""

from __future__ import annotations

import sys

import click

from smeb_lti.cli.tool import configured_tool
from smeb_lti.db import configured_session, make_engine, migrate, session_factory, session_scope
from smeb_lti.lti import launches, registrations
from smeb_lti.lti.dynamic_registration import issue_registration_token
from smeb_lti.lti.errors import RegistrationError
from smeb_lti.lti.services import lti_services
from smeb_lti.lti.storage import DbStore
from smeb_lti.settings import Settings


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
    with configured_session() as session:
        removed = registrations.remove(session, issuer, client_id)
    if not removed:
        click.echo(f"error: no registration for {issuer} client {client_id}", err=True)
        sys.exit(1)
    click.echo(f"removed  {issuer} client {client_id}")


@click.group("launches")
def launches_group() -> None:
    """Stored LTI launches (they hold the platform's claims: name, e-mail, roles)."""


@launches_group.command("purge")
def launches_purge() -> None:
    """Delete expired launches and expired short-lived LTI entries (states, nonces, caches); run it daily."""

    settings = Settings.from_env()
    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        with session_scope(sessions) as session:
            removed = launches.purge_expired(session)
        entries = DbStore(sessions).purge_expired()
    finally:
        engine.dispose()
    click.echo(f"purged {removed} expired launch(es) and {entries} expired short-lived LTI entr{'y' if entries == 1 else 'ies'}")


@platform_group.command("register-url")
@click.option("--base-url", default=None, help="The tool's public URL (default: SMEB_PUBLIC_URL).")
@click.option("--hours", type=click.IntRange(1, 24 * 7), default=24, show_default=True, help="How long the URL works.")
@click.option("--allow-private", is_flag=True,
              help="Let this one registration come from an LMS on a loopback or private address (10.x, 192.168.x, 127.x, "
                   "intranet names); without it such an LMS is refused unless SMEB_DYNREG_ALLOW_PRIVATE=1.")
def platform_register_url(base_url: str | None, hours: int, allow_private: bool) -> None:
    """Print a one-time dynamic registration URL to give an LMS administrator.

    \b
    The administrator pastes it into the LMS's tool URL field; in Moodle:
    Site administration > Plugins > Activity modules > External tool > Manage tools,
    "Tool URL", "Add LTI Advantage", then "Activate"; to offer the tool in the activity
    chooser, edit it and set "Tool configuration usage" (docs/moodle.md).
    """
    with configured_tool() as app:
        base = (base_url or lti_services(app).settings.public_url or "").rstrip("/")
        if not base:
            raise click.UsageError("give --base-url https://kurs.example.no (or set SMEB_PUBLIC_URL)")
        with app.app_context():
            token = issue_registration_token(hours * 3600, allow_private=allow_private)
    click.echo(f"{base}/lti/register?smeb_token={token}")
    where = " from an LMS on a private address" if allow_private else ""
    click.echo(
        f"valid once{where}, for {hours} h: in Moodle paste it into Site administration > Plugins > Activity modules > "
        "External tool > Manage tools > Tool URL, press 'Add LTI Advantage', then 'Activate' (docs/moodle.md)",
        err=True,
    )


def register(main: click.Group) -> None:
    main.add_command(platform_group)
    main.add_command(launches_group)
