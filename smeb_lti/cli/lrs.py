"""``smeb lrs tenant add|list``, ``smeb lrs credentials add|list|revoke`` for the embedded LRS, and
``smeb lrs upstreams list|add|remove|route``: the customers' LRSs and which customers each one receives."""

from __future__ import annotations

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.db import configured_session
from smeb_lti.lrs import auth, store
from smeb_lti.lti.registrations import PlatformDeployment, PlatformRegistration
from smeb_lti.settings import Settings
from xapi.customers import CustomerScope, CustomerScopeError
from xapi.delivery.destinations import (
    ALL_CUSTOMERS,
    ENV_VAR,
    Destination,
    DestinationConfigError,
    load_destinations,
    lrs_destinations_for,
    parse_upstreams,
    remove_destination,
    route,
    save_destination,
)


def _tenant(session: Session, slug: str) -> store.Tenant:

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
    with configured_session() as session:
        try:
            created = store.add_tenant(session, slug, name)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"tenant {created.slug} created; xAPI endpoint: /lrs/{created.slug}/xapi/")


@tenant.command("list")
def tenant_list() -> None:
    """List tenants."""
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
    with configured_session() as session:
        for item in auth.list_credentials(session, _tenant(session, tenant_slug)):
            state = "revoked" if item["revoked"] else "active"
            click.echo(f"{item['key']}\t{state}\t{' '.join(item['scopes'])}\t{item['label']}")


@credentials.command("revoke")
@click.argument("key")
def credentials_revoke(key: str) -> None:
    """Revoke credential KEY at once."""
    with configured_session() as session:
        if not auth.revoke_credential(session, key):
            raise click.ClickException(f"no active credential {key!r}")
    click.echo(f"credential {key} revoked")


@lrs.group("upstreams")
def upstreams() -> None:
    """Upstream (customer) LRSs and the customers whose statements each receives (docs/delivery.md)."""


def _customer_rule(text: str) -> dict[str, str]:
    """``issuer=https://lms.example,deployment_id=3`` as a rule mapping (validated by the destination)."""
    rule: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise click.BadParameter(f"{part!r}: write FIELD=VALUE, e.g. issuer=https://lms.example,context_id=42", param_hint="--customer")
        rule[key.strip()] = value.strip()
    return rule


def _describe(destination: Destination) -> str:
    if destination.customers is None:
        return "every customer"
    return "; ".join(rule.describe() for rule in destination.customers)


@upstreams.command("list")
def upstreams_list() -> None:
    """Every upstream LRS, where it is configured and which customers' statements it receives."""
    upstreams = Settings.from_env().lrs_upstreams
    try:
        from_env = parse_upstreams(upstreams) if upstreams else {}
        with configured_session() as session:
            found = load_destinations(session.connection(), upstreams)
    except DestinationConfigError as error:
        raise click.ClickException(str(error)) from None
    lrs_ = {n: d for n, d in found.items() if d.kind == "lrs"}
    if not lrs_:
        click.echo(f"no upstream LRS: add one with `smeb lrs upstreams add` or set {ENV_VAR}")
        return
    for name, destination in sorted(lrs_.items()):
        source = ENV_VAR if name in from_env else "database"
        click.echo(f"{name}\t{destination.endpoint}\t{source}\t{_describe(destination)}")
    unbound = [n for n, d in lrs_.items() if d.customers is None]
    if len(lrs_) > 1 and unbound:
        click.echo(f"note: {', '.join(sorted(unbound))} receive(s) EVERY customer's statements; bind a customer's LRS with "
                   "--customer (docs/delivery.md)", err=True)


@upstreams.command("add")
@click.argument("name")
@click.option("--endpoint", required=True, help="The LRS's xAPI base URL (https://.../xapi/).")
@click.option("--username", default=None, help="HTTP Basic user (key).")
@click.option("--password", default=None, help="HTTP Basic password (secret); stored in the database.")
@click.option("--version", default="1.0.3", show_default=True, help="xAPI version the LRS speaks.")
@click.option("--customer", "customers", multiple=True,
              help="A customer whose statements go here, repeatable: issuer=ISS[,client_id=ID][,deployment_id=ID][,context_id=ID].")
@click.option("--all-customers", is_flag=True, help="Receive every customer's statements (the operator's own LRS).")
def upstreams_add(name: str, endpoint: str, username: str | None, password: str | None, version: str,
                  customers: tuple[str, ...], all_customers: bool) -> None:
    """Add or replace upstream LRS NAME in the database (the environment's entry of the same name wins)."""
    if bool(customers) == all_customers:
        raise click.UsageError("say whose statements go there: --customer issuer=... (repeatable) or --all-customers")
    data = {"name": name, "endpoint": endpoint, "username": username, "password": password, "version": version,
            "customers": ALL_CUSTOMERS if all_customers else [_customer_rule(c) for c in customers]}
    try:
        destination = Destination.from_mapping({k: v for k, v in data.items() if v is not None}, f"upstream {name!r}")
    except DestinationConfigError as error:
        raise click.ClickException(str(error)) from None
    with configured_session() as session:
        save_destination(session.connection(), destination)
    click.echo(f"upstream {name} -> {endpoint}: {_describe(destination)}")


@upstreams.command("remove")
@click.argument("name")
def upstreams_remove(name: str) -> None:
    """Remove upstream LRS NAME from the database (statements already queued for it stay queued)."""
    with configured_session() as session:
        if not remove_destination(session.connection(), name):
            raise click.ClickException(f"no upstream {name!r} in the database (entries of SMEB_LRS_UPSTREAMS are changed there)")
    click.echo(f"upstream {name} removed")


@upstreams.command("customers")
def upstreams_customers() -> None:
    """Every customer the tool knows (platform, deployment, and each LMS course context seen) and its upstream LRSs."""


    try:
        with configured_session() as session:
            destinations = load_destinations(session.connection(), Settings.from_env().lrs_upstreams)
            deployments = session.execute(sa.select(PlatformRegistration.id, PlatformRegistration.issuer, PlatformRegistration.client_id,
                                                    PlatformDeployment.deployment_id)
                                          .join(PlatformDeployment, PlatformDeployment.registration_id == PlatformRegistration.id)).all()
            contexts = session.execute(sa.text("SELECT DISTINCT registration_id, deployment_id, context_id FROM dashboard_members")).all()
    except DestinationConfigError as error:
        raise click.ClickException(str(error)) from None
    seen = {(r, d): [c for (r2, d2, c) in contexts if (r2, d2) == (r, d)] for (r, _i, _c, d) in deployments}
    if not deployments:
        click.echo("no platform registered: `smeb platform add`")
    for registration_id, issuer, client_id, deployment_id in sorted(deployments, key=lambda row: (row[1], row[2], row[3])):
        for context_id in [None, *sorted(seen[(registration_id, deployment_id)])]:
            scope = CustomerScope(issuer, client_id, deployment_id, context_id)
            names = route(scope, destinations)
            click.echo(f"{scope.describe()}\t{', '.join(names) if names else '(no upstream LRS)'}")


@upstreams.command("route")
@click.option("--issuer", required=True, help="The LMS platform issuer.")
@click.option("--client-id", default=None)
@click.option("--deployment-id", default=None)
@click.option("--context-id", default=None, help="The LMS course context (the company).")
def upstreams_route(issuer: str, client_id: str | None, deployment_id: str | None, context_id: str | None) -> None:
    """Which upstream LRSs a statement of this customer goes to (nothing is sent)."""
    try:
        scope = CustomerScope(issuer, client_id, deployment_id, context_id)
        with configured_session() as session:
            names = lrs_destinations_for(session.connection(), scope, Settings.from_env().lrs_upstreams)
    except (CustomerScopeError, DestinationConfigError) as error:
        raise click.ClickException(str(error)) from None
    click.echo("\n".join(names) if names else "(no upstream LRS receives these statements)")


def register(main: click.Group) -> None:
    main.add_command(lrs)
