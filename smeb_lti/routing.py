"""Where a learner's statements go: the customer of a launch, and the LRSs bound to it.

Every producer of statements (player, journal, forum, workshops, certificates, cmi5) queues
through :func:`queue_statements` (or :func:`queue_statement`) with the customer scope of the launch it serves, so the one routing
rule, :func:`xapi.delivery.destinations.route`, decides for all of them (docs/delivery.md, "Routing per
customer"). Erasure voids follow the outbox row of the statement they void, so they go exactly
where that statement went. The upstream LRSs of ``SMEB_LRS_UPSTREAMS`` come from the app's settings,
read once at start (:mod:`smeb_lti.settings`); their JSON is parsed once per process
(:func:`xapi.delivery.destinations.parse_upstreams`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.lti.context import LaunchContext
from smeb_lti.lti.registrations import PlatformDeployment as Deployment
from smeb_lti.lti.registrations import PlatformRegistration as Registration
from smeb_lti.settings import current_settings
from xapi.customers import CustomerScope
from xapi.delivery.destinations import Destination, load_destinations, lrs_destinations_for
from xapi.delivery.outbox import enqueue

__all__ = ["configured_lrs", "destinations_for", "queue_statement", "queue_statements", "scope_of", "scope_of_company"]


def scope_of(context: LaunchContext) -> CustomerScope:
    """The customer of a launch: platform issuer, client id, deployment and LMS course context."""
    return CustomerScope(context.issuer, context.client_id or None, context.deployment_id or None, context.context_id or None)


def scope_of_company(session: Session, issuer: str, deployment_id: str | None, context_id: str | None,
                     registration_id: int | None = None) -> CustomerScope:
    """The customer of a stored company (certificate tenant, workshop company) that kept no client id.

    The client id comes from the platform registration: the given one, or the only registration of
    ``issuer`` that has this deployment. When that is ambiguous the scope has no client id, and a
    routing rule that names a client id does not match it (nothing leaks; docs/delivery.md).
    """
    query = sa.select(Registration.client_id).where(Registration.issuer == issuer)
    if registration_id is not None:
        query = query.where(Registration.id == registration_id)
    elif deployment_id is not None:
        query = query.join(Deployment, Deployment.registration_id == Registration.id).where(Deployment.deployment_id == deployment_id)
    clients = sorted(set(session.scalars(query)))
    return CustomerScope(issuer, clients[0] if len(clients) == 1 else None, deployment_id or None, context_id or None)


def configured_lrs(session: Session) -> list[Destination]:
    """Every configured LRS, whoever it is bound to (the database's rows and ``SMEB_LRS_UPSTREAMS``)."""
    destinations = load_destinations(session.connection(), current_settings().lrs_upstreams)
    return [destination for destination in destinations.values() if destination.kind == "lrs"]


def destinations_for(session: Session, scope: CustomerScope | None) -> list[str]:
    """The LRSs a statement of customer ``scope`` goes to; [] when none (a producer may then skip building it)."""
    return lrs_destinations_for(session.connection(), scope, current_settings().lrs_upstreams)


def queue_statements(session: Session, statements: Iterable[Mapping[str, Any]], scope: CustomerScope | None, *,
                     now: dt.datetime | None = None) -> list[str]:
    """Queue ``statements`` for the LRSs bound to ``scope`` (same transaction); the destination names, [] for none.

    The one way the tool queues statements for the LRSs: destinations are looked up once for all of them.
    """
    names = destinations_for(session, scope)
    if names:
        for statement in statements:
            enqueue(session, statement, names, now=now)
    return names


def queue_statement(session: Session, statement: Mapping[str, Any], scope: CustomerScope | None, *,
                    now: dt.datetime | None = None) -> list[str]:
    """:func:`queue_statements` for one statement."""
    return queue_statements(session, [statement], scope, now=now)
