"""``smeb lrs tenant add|list`` and ``smeb lrs credentials add|list|revoke`` for the embedded LRS."""

from __future__ import annotations

import click
from sqlalchemy.orm import Session

from smeb_lti.db import configured_session


def _tenant(session: Session, slug: str):  # type: ignore[no-untyped-def]
    from smeb_lti.lrs import store

    tenant = store.tenant_by_slug(session, slug)
    if tenant is None:
        raise click.ClickException(f"no LRS tenant {slug!r}; create it with `smeb lrs tenant add {slug}`")
    return tenant


@click.group("lrs")
def lrs() -> None:
    """The embedded xAPI LRS: tenants and their credentials."""


@lrs.group("tenant")
def tenant() -> None:
    """LRS tenants (one per customer; URL /lrs/<slug>/xapi/)."""


@tenant.command("add")
@click.argument("slug")
@click.option("--name", default=None, help="Display name (default: the slug).")
def tenant_add(slug: str, name: str | None) -> None:
    """Create tenant SLUG."""
    from smeb_lti.lrs import store

    with configured_session() as session:
        try:
            created = store.add_tenant(session, slug, name)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"tenant {created.slug} created; xAPI endpoint: /lrs/{created.slug}/xapi/")


@tenant.command("list")
def tenant_list() -> None:
    """List tenants."""
    from smeb_lti.lrs import store

    with configured_session() as session:
        for item in store.list_tenants(session):
            click.echo(f"{item.slug}\t{item.name}")


@lrs.group("credentials")
def credentials() -> None:
    """HTTP Basic credentials of a tenant (secrets are shown once, stored hashed)."""


@credentials.command("add")
@click.argument("tenant_slug")
@click.option("--scope", "scopes", multiple=True, required=True, help="xAPI scope, repeatable: statements/write, statements/read, state, define, profile, all/read, all.")
@click.option("--label", default="", help="Who uses it (shown as the statements' authority name).")
def credentials_add(tenant_slug: str, scopes: tuple[str, ...], label: str) -> None:
    """Issue a key/secret for TENANT_SLUG and print it once."""
    from smeb_lti.lrs import auth

    with configured_session() as session:
        try:
            issued = auth.add_credential(session, _tenant(session, tenant_slug), list(scopes), label)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"key:    {issued.key}")
    click.echo(f"secret: {issued.secret}")
    click.echo(f"scopes: {' '.join(issued.scopes)}")
    click.echo("The secret is not stored in clear and cannot be shown again.")


@credentials.command("list")
@click.argument("tenant_slug")
def credentials_list(tenant_slug: str) -> None:
    """List the credentials of TENANT_SLUG (never the secrets)."""
    from smeb_lti.lrs import auth

    with configured_session() as session:
        for item in auth.list_credentials(session, _tenant(session, tenant_slug)):
            state = "revoked" if item["revoked"] else "active"
            click.echo(f"{item['key']}\t{state}\t{' '.join(item['scopes'])}\t{item['label']}")


@credentials.command("revoke")
@click.argument("key")
def credentials_revoke(key: str) -> None:
    """Revoke credential KEY at once."""
    from smeb_lti.lrs import auth

    with configured_session() as session:
        if not auth.revoke_credential(session, key):
            raise click.ClickException(f"no active credential {key!r}")
    click.echo(f"credential {key} revoked")


def register(main: click.Group) -> None:
    main.add_command(lrs)
