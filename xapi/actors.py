"""Pseudonymous xAPI actors: an opaque account per learner, never an e-mail address.

The account name is ``HMAC-SHA256(key, issuer + NUL + learner_key)``, truncated to 128 bits
and hex-encoded. Keyed, so someone who knows a learner's platform id cannot recompute it
without the key; scoped by issuer, so the same ``sub`` at two LTI platforms gives two actors;
stable, so all statements about one learner line up (xAPI Data 2.4.2.4 recommends an opaque
account name when personal data is a concern).

Per customer: the key passed in is not the installation key itself but :func:`customer_key` of it
for the customer (platform issuer, client id, deployment, LMS context) of the launch. So the same
``sub`` in two companies on one LMS gives two ids that nobody without the installation key can
link; only the operator holding that key can (docs/privacy.md). The ids of the earlier scheme (the
installation key used directly) are :func:`legacy_account_name`; ``smeb privacy migrate-pseudonyms``
maps them to the new ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from xapi.customers import CustomerScope
from xapi.errors import ActorError
from xapi.validation import is_valid_iri

__all__ = ["customer_key", "legacy_account_name", "opaque_account_name", "pseudonymous_actor"]

_CUSTOMER_LABEL = b"smeb-xapi-actor-key/customer/1\x00"

_NAME_BYTES = 16  # 128 bits: collision-free for any realistic learner count, short in reports


def opaque_account_name(key: bytes, issuer: str, learner_key: str) -> str:
    """Derive the stable opaque account name for ``learner_key`` at ``issuer``.

    Args:
        key: secret HMAC key (at least 16 bytes) from configuration; rotating it re-keys every actor.
        issuer: the account's homePage, e.g. the LTI platform issuer IRI.
        learner_key: the platform's stable learner id (LTI ``sub``), never an e-mail address.
    """
    if len(key) < 16:
        raise ActorError("the pseudonymisation key must be at least 16 bytes")
    if not learner_key:
        raise ActorError("learner_key must not be empty")
    if "@" in learner_key:
        # An e-mail address is neither stable nor meant for this; refuse rather than hash PII.
        raise ActorError("learner_key looks like an e-mail address; pass the platform's stable user id")
    message = issuer.encode("utf-8") + b"\x00" + learner_key.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[: _NAME_BYTES * 2]


def pseudonymous_actor(
    issuer: str,
    learner_key: str,
    name: str | None = None,
    include_name: bool = False,
    *,
    key: bytes,
) -> dict[str, Any]:
    """Build ``{"objectType": "Agent", "account": {"homePage": issuer, "name": <opaque id>}}``.

    Args:
        issuer: IRI of the system the account is on (xAPI ``account.homePage``).
        learner_key: the platform's stable learner id; hashed, never sent.
        name: the learner's display name; only sent when ``include_name`` is true (opt-in).
        include_name: the learner (or tenant policy) opted in to named statements.
        key: the HMAC key (keyword-only so it is never passed positionally by mistake).
    """
    if not is_valid_iri(issuer):
        raise ActorError(f"issuer {issuer!r} is not an IRI; xAPI account.homePage must be one (Data 2.4.2.4)")
    actor: dict[str, Any] = {"objectType": "Agent"}
    if include_name:
        if not name:
            raise ActorError("include_name=True needs a non-empty name")
        actor["name"] = name
    actor["account"] = {"homePage": issuer, "name": opaque_account_name(key, issuer, learner_key)}
    return actor


def customer_key(key: bytes, scope: CustomerScope) -> bytes:
    """The pseudonym key of one customer, derived from the installation key (HMAC-SHA256, 32 bytes).

    Every field of the scope takes part (an absent one as JSON ``null``), so two companies that differ
    only in their LMS course context get unrelated keys, and so unrelated actor ids.
    """
    if len(key) < 16:
        raise ActorError("the pseudonymisation key must be at least 16 bytes")
    fields = json.dumps([scope.issuer, scope.client_id, scope.deployment_id, scope.context_id], separators=(",", ":"))
    return hmac.new(key, _CUSTOMER_LABEL + fields.encode("utf-8"), hashlib.sha256).digest()


def legacy_account_name(key: bytes, issuer: str, learner_key: str) -> str:
    """The account name of the scheme before per-customer keys (one id per LMS for the whole installation)."""
    return opaque_account_name(key, issuer, learner_key)
