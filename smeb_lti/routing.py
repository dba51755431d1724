"""Where a learner's statements go: the customer of a launch, and the LRSs bound to it.

Every producer of statements (player host, journal, forum, workshops, certificates, cmi5) queues
through :func:`queue_statement` with the customer scope of the launch it serves, so the one routing
rule, :func:`xapi.destinations.route`, decides for all of them (docs/delivery.md, "Routing per
customer"). Erasure voids follow the outbox row of the statement they void, so they go exactly
where that statement went.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.lti.context import LaunchContext
from xapi.customers import CustomerScope
from xapi.destinations import lrs_destinations_for
from xapi.outbox import enqueue

__all__ = ["queue_statement", "scope_of", "scope_of_company"]


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
    from smeb_lti.lti.registrations import PlatformDeployment as Deployment
    from smeb_lti.lti.registrations import PlatformRegistration as Registration

    query = sa.select(Registration.client_id).where(Registration.issuer == issuer)
    if registration_id is not None:
        query = query.where(Registration.id == registration_id)
    elif deployment_id is not None:
        query = query.join(Deployment, Deployment.registration_id == Registration.id).where(Deployment.deployment_id == deployment_id)
    clients = sorted(set(session.scalars(query)))
    return CustomerScope(issuer, clients[0] if len(clients) == 1 else None, deployment_id or None, context_id or None)


def queue_statement(session: Session, statement: Mapping[str, Any], scope: CustomerScope | None, *,
                    now: dt.datetime | None = None) -> list[str]:
    """Queue ``statement`` for the LRSs bound to ``scope`` (same transaction); the destination names, [] for none."""
    names = lrs_destinations_for(session.connection(), scope)
    if names:
        enqueue(session, statement, names, now=now)
    return names
