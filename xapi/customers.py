"""Who a statement is about, as a customer: the LMS platform, deployment and course context it came from.

Two small value types, pure (no database, no Flask):

* :class:`CustomerScope` — the customer of ONE statement: LTI platform issuer, client id,
  deployment id and LMS course context of the launch it came from (``smeb_lti.routing.scope_of``
  builds it from a launch). It decides where the statement may go (:func:`xapi.delivery.destinations.route`)
  and which pseudonym the learner has (:func:`xapi.actors.customer_key`).
* :class:`CustomerMatch` — one rule of an upstream LRS's ``customers`` list: the fields it names
  must all equal the statement's (an issuer alone = every customer on that LMS; issuer + deployment
  + context = one company). Unknown fields are refused with the allowed ones named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xapi.errors import XapiError

__all__ = ["CUSTOMER_FIELDS", "CustomerMatch", "CustomerScope", "CustomerScopeError"]

# The fields a customer is told apart by, from the widest to the narrowest.
CUSTOMER_FIELDS = ("issuer", "client_id", "deployment_id", "context_id")


class CustomerScopeError(XapiError):
    """A customer rule or scope is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class CustomerScope:
    """The customer of one statement (the company of the launch it came from).

    ``issuer`` is required; the others are ``None`` when the statement has no such part (a launch
    without a course context, a certificate issued from the command line without a client id).
    """

    issuer: str
    client_id: str | None = None
    deployment_id: str | None = None
    context_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer:
            raise CustomerScopeError("a customer scope needs the LTI platform issuer (a non-empty string)")
        for name in CUSTOMER_FIELDS[1:]:
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise CustomerScopeError(f"customer scope field {name!r} must be a non-empty string or absent, got {value!r}")

    def describe(self) -> str:
        return " ".join(f"{name}={getattr(self, name)}" for name in CUSTOMER_FIELDS if getattr(self, name) is not None)


@dataclass(frozen=True)
class CustomerMatch:
    """One rule: every field given must equal the statement's; ``issuer`` is required."""

    issuer: str
    client_id: str | None = None
    deployment_id: str | None = None
    context_id: str | None = None

    @classmethod
    def from_mapping(cls, data: Any, where: str) -> CustomerMatch:
        if not isinstance(data, Mapping):
            raise CustomerScopeError(f"{where} must be an object like {{\"issuer\": \"https://lms.example\", \"context_id\": \"42\"}}")
        unknown = set(data) - set(CUSTOMER_FIELDS)
        if unknown:
            raise CustomerScopeError(f"{where}: unknown field(s) {sorted(unknown)}; a customer rule may name {list(CUSTOMER_FIELDS)}")
        if not isinstance(data.get("issuer"), str) or not data["issuer"]:
            raise CustomerScopeError(f"{where}: 'issuer' (the LTI platform issuer, see `smeb platform list`) is required")
        for name in CUSTOMER_FIELDS[1:]:
            if name in data and (not isinstance(data[name], str) or not data[name]):
                raise CustomerScopeError(f"{where}: {name!r} must be a non-empty string (leave it out to match any)")
        return cls(data["issuer"], data.get("client_id"), data.get("deployment_id"), data.get("context_id"))

    def matches(self, scope: CustomerScope | None) -> bool:
        """Whether ``scope`` is inside this rule; a statement without a scope matches no rule."""
        if scope is None:
            return False
        return all(getattr(self, name) is None or getattr(self, name) == getattr(scope, name) for name in CUSTOMER_FIELDS)

    def to_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in CUSTOMER_FIELDS if getattr(self, name) is not None}

    def describe(self) -> str:
        return " ".join(f"{name}={value}" for name, value in self.to_dict().items())
