"""Who a learner is in xAPI: the pseudonymous actor of a launch (the player, journal, forum and workshops use it).

The key is derived per customer (issuer, client, deployment, context): the same person in two companies gets
two unrelated ids (:func:`xapi.actors.customer_key`, docs/privacy.md).
"""

from __future__ import annotations

from typing import Any

from smeb_lti.lti.context import LaunchContext
from smeb_lti.routing import scope_of
from smeb_lti.settings import settings
from smeb_lti.web.keys import derive_key
from xapi.actors import customer_key, pseudonymous_actor


def actor_key() -> bytes:
    """The key of the pseudonymous xAPI actors: every statement about a learner uses the same opaque name."""
    configured = settings().xapi_actor_key
    if configured:
        return configured.encode("utf-8")
    return derive_key("smeb-xapi-actor-key")


def actor_for(context: LaunchContext) -> dict[str, Any]:
    """The learner of a launch as a pseudonymous xAPI actor, keyed per customer."""
    return pseudonymous_actor(context.issuer, context.subject, key=customer_key(actor_key(), scope_of(context)))
