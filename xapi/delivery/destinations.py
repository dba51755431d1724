"""Upstream destinations of the outbox: LRSs now, LTI AGS line items later.

Configured by the environment variable ``SMEB_LRS_UPSTREAMS``, a JSON list::

    [{"name": "bht-lrs", "endpoint": "https://lrs.example/xapi/",
      "username": "key", "password": "secret", "version": "1.0.3",
      "customers": [{"issuer": "https://lms.bht.example", "deployment_id": "3"}]}]

or by rows of the ``xapi_destinations`` table (created by the outbox migration; ``smeb lrs
upstreams add|remove|list|route`` manages them). When a name appears in both, the environment
wins, so an operator can fix credentials without a database write. Passwords are secrets:
:meth:`Destination.__repr__` hides them.

Routing per customer: ``customers`` binds a destination to the customers whose records it may
receive, as a list of :class:`xapi.customers.CustomerMatch` rules (a statement goes there when
ANY rule matches its :class:`~xapi.customers.CustomerScope`). A destination without
``customers`` (or with ``"customers": "all"``) receives every customer's statements: the
operator's own LRS. :func:`route` is the one place that decides; every producer of statements
calls :func:`lrs_destinations_for` with the statement's customer scope (docs/delivery.md).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from xapi.customers import CustomerMatch, CustomerScope, CustomerScopeError
from xapi.delivery.tables import destinations_table
from xapi.errors import XapiError

ENV_VAR = "SMEB_LRS_UPSTREAMS"
KINDS = ("lrs", "ags")  # "ags" (LTI grade passback) is reserved: rows may name it, delivery does not yet
FIELDS = ("name", "endpoint", "username", "password", "version", "kind", "server_filters", "customers")
ALL_CUSTOMERS = "all"


class DestinationConfigError(XapiError):
    """A destination is misconfigured; the message names the entry and the field."""


@dataclass(frozen=True)
class Destination:
    name: str
    endpoint: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    version: str = "1.0.3"
    kind: str = "lrs"
    # Ralph 5.1.0 ignores ?verb= and ?activity=; the query client then filters on our side.
    server_filters: bool = True
    # The customers whose statements this destination may receive; None: every customer.
    customers: tuple[CustomerMatch, ...] | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> Destination:
        unknown = set(data) - set(FIELDS)
        if unknown:
            raise DestinationConfigError(f"{where}: unknown field(s) {sorted(unknown)}; a destination may name {list(FIELDS)}")
        for required in ("name", "endpoint"):
            if not isinstance(data.get(required), str) or not data[required]:
                raise DestinationConfigError(f"{where}: '{required}' must be a non-empty string")
        if not str(data["endpoint"]).startswith(("http://", "https://")):
            raise DestinationConfigError(f"{where}: 'endpoint' must be an http(s) URL, got {data['endpoint']!r}")
        kind = data.get("kind", "lrs")
        if kind not in KINDS:
            raise DestinationConfigError(f"{where}: 'kind' must be one of {KINDS}, got {kind!r}")
        version = data.get("version", "1.0.3")
        if not isinstance(version, str) or not version.startswith(("1.0.", "2.0.")):
            raise DestinationConfigError(f"{where}: 'version' must be 1.0.x or 2.0.x, got {version!r}")
        return cls(
            name=data["name"],
            endpoint=data["endpoint"],
            username=data.get("username"),
            password=data.get("password"),
            version=version,
            kind=kind,
            server_filters=bool(data.get("server_filters", True)),
            customers=parse_customers(data.get("customers"), f"{where}.customers"),
        )

    def receives(self, scope: CustomerScope | None) -> bool:
        """Whether a statement of customer ``scope`` may go here (unscoped statements: only to unbound LRSs)."""
        if self.customers is None:
            return True
        return any(rule.matches(scope) for rule in self.customers)

    def customers_json(self) -> str | None:
        """The ``customers`` column: JSON list of rules, or NULL for every customer."""
        return None if self.customers is None else json.dumps([rule.to_dict() for rule in self.customers], sort_keys=True)


def parse_customers(value: Any, where: str) -> tuple[CustomerMatch, ...] | None:
    """``None``/``"all"``: every customer; a non-empty list of rule objects (a JSON text is read first)."""
    if isinstance(value, str) and value != ALL_CUSTOMERS:
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise DestinationConfigError(f"{where} is not valid JSON: {error}") from error
    if value is None or value == ALL_CUSTOMERS:
        return None
    if not isinstance(value, list) or not value:
        raise DestinationConfigError(
            f"{where} must be \"all\" or a non-empty list of rules like [{{\"issuer\": \"https://lms.example\", \"deployment_id\": \"3\"}}]")
    try:
        return tuple(CustomerMatch.from_mapping(item, f"{where}[{index}]") for index, item in enumerate(value))
    except CustomerScopeError as error:
        raise DestinationConfigError(str(error)) from error


def route(scope: CustomerScope | None, destinations: Mapping[str, Destination]) -> list[str]:
    """The names of the LRS destinations a statement of customer ``scope`` goes to (pure; the one routing rule).

    An LRS bound to customers receives a statement only when one of its rules matches ``scope``;
    an unbound LRS receives every statement. AGS destinations are never LRSs.
    """
    return sorted(name for name, destination in destinations.items() if destination.kind == "lrs" and destination.receives(scope))


def lrs_destinations_for(conn: Connection, scope: CustomerScope | None, upstreams: str | None = None) -> list[str]:
    """The configured LRS destinations a statement of ``scope`` goes to (what every producer passes to ``enqueue``)."""
    return route(scope, load_destinations(conn, upstreams))


def parse_upstreams(text: str) -> dict[str, Destination]:
    """Destinations from the JSON of ``SMEB_LRS_UPSTREAMS``."""
    return dict(_parsed_upstreams(text))


@functools.lru_cache(maxsize=4)
def _parsed_upstreams(text: str) -> tuple[tuple[str, Destination], ...]:
    """Parsed once per text (not on every learner event); immutable, so sharing it is safe.

    An error is raised again on every call: ``lru_cache`` keeps results, not exceptions.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DestinationConfigError(f"{ENV_VAR} is not valid JSON: {error}") from error
    if not isinstance(data, list):
        raise DestinationConfigError(f"{ENV_VAR} must be a JSON list of objects")
    found: dict[str, Destination] = {}
    for index, item in enumerate(data):
        where = f"{ENV_VAR}[{index}]"
        if not isinstance(item, dict):
            raise DestinationConfigError(f"{where} must be an object")
        destination = Destination.from_mapping(item, where)
        if destination.name in found:
            raise DestinationConfigError(f"{where}: duplicate name {destination.name!r}")
        found[destination.name] = destination
    return tuple(found.items())


def load_destinations(conn: Connection | None = None, upstreams: str | None = None) -> dict[str, Destination]:
    """Every configured destination: the database's rows, overridden by ``upstreams`` (the JSON text of
    ``SMEB_LRS_UPSTREAMS``, which the tool reads with its settings and passes in)."""
    found: dict[str, Destination] = {}
    if conn is not None:
        for row in conn.execute(select(destinations_table)).mappings():
            found[row["name"]] = Destination.from_mapping(
                {k: row[k] for k in FIELDS if k in row and not (k == "customers" and row[k] is None)},
                f"xapi_destinations row {row['name']!r}",
            )
    if upstreams:
        found.update(parse_upstreams(upstreams))
    return found


def save_destination(conn: Connection, destination: Destination) -> None:
    """Insert or replace a destination row (in the caller's transaction)."""
    conn.execute(destinations_table.delete().where(destinations_table.c.name == destination.name))
    conn.execute(
        destinations_table.insert().values(
            name=destination.name,
            kind=destination.kind,
            endpoint=destination.endpoint,
            username=destination.username,
            password=destination.password,
            version=destination.version,
            server_filters=destination.server_filters,
            customers=destination.customers_json(),
        )
    )


def remove_destination(conn: Connection, name: str) -> bool:
    """Delete a destination row; whether there was one. Statements already queued for it stay queued."""
    return bool(conn.execute(destinations_table.delete().where(destinations_table.c.name == name)).rowcount)
