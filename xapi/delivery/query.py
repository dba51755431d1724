"""The query side: ``GET /statements`` with filters, following ``more`` until the LRS is done.

xAPI 1.0.3 Communication 2.1.3: the LRS pages its answer; ``more`` is an IRL relative to the
server root, empty or absent on the last page. What real LRSs do that the spec does not say,
and what we do about it:

* an empty ``more`` ("") on an early page means done (no extra request);
* an empty page that still carries ``more`` (Ralph does this when the total is a multiple of
  ``limit``) is followed, but at most ``max_empty_pages`` in a row, and a ``more`` seen
  before is an error (a loop), never a hang;
* an LRS that stops half-way raises :class:`QueryInterruptedError` with the ``more`` to resume
  from and how far it got; an answer that is not a statement result raises
  ``LrsProtocolError`` naming the page;
* Ralph 5.1.0's file-system backend never matches ``?verb=`` or ``?activity=``; for a
  destination with ``server_filters=False`` those two filters are applied here instead.
* ``more`` must stay on the endpoint's host: we never send our credentials elsewhere.

Voiding (Data 2.3.2): the LRS should leave voided statements out but returns the voiding
statements themselves; reports want neither, nor statements that point at a voided one.
:func:`exclude_voided` removes all three, needing the whole result (a voiding statement
may come after what it voids).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx

from xapi.delivery.client import LrsClient, LrsError, LrsProtocolError, LrsUnavailableError

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


class QueryInterruptedError(LrsError):
    """The LRS stopped answering in the middle of a paged result; ``resume_from`` is the next ``more``."""

    def __init__(self, message: str, resume_from: str, statements_so_far: int) -> None:
        super().__init__(message)
        self.resume_from = resume_from
        self.statements_so_far = statements_so_far


def _iso(value: str | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("since/until need a timezone-aware datetime (naive times are ambiguous)")
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


@dataclass(frozen=True)
class StatementQuery:
    """The filters of Communication 2.1.3 that reports use."""

    agent: Mapping[str, Any] | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    since: str | dt.datetime | None = None
    until: str | dt.datetime | None = None
    ascending: bool = False
    limit: int | None = None  # page size asked of the LRS (0/None: the LRS's choice)
    related_activities: bool = False
    related_agents: bool = False

    def params(self, server_filters: bool = True) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.agent is not None:
            params["agent"] = json.dumps(dict(self.agent), separators=(",", ":"), sort_keys=True)
        if self.verb and server_filters:
            params["verb"] = self.verb
        if self.activity and server_filters:
            params["activity"] = self.activity
        if self.registration:
            params["registration"] = self.registration
        if self.since is not None:
            params["since"] = _iso(self.since)
        if self.until is not None:
            params["until"] = _iso(self.until)
        if self.ascending:
            params["ascending"] = "true"
        if self.limit:
            params["limit"] = str(self.limit)
        if self.related_activities:
            params["related_activities"] = "true"
        if self.related_agents:
            params["related_agents"] = "true"
        return params

    def matches_locally(self, statement: Mapping[str, Any]) -> bool:
        """The verb/activity filters, evaluated here for LRSs that ignore them."""
        if self.verb and (statement.get("verb") or {}).get("id") != self.verb:
            return False
        if self.activity:
            ids = {(statement.get("object") or {}).get("id")}
            if self.related_activities:
                ids |= _context_activity_ids(statement)
                sub = statement.get("object") or {}
                if sub.get("objectType") == "SubStatement":
                    ids.add((sub.get("object") or {}).get("id"))
                    ids |= _context_activity_ids(sub)
            if self.activity not in ids:
                return False
        return True


def _context_activity_ids(statement: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    for group in ((statement.get("context") or {}).get("contextActivities") or {}).values():
        for activity in group if isinstance(group, list) else [group]:
            if isinstance(activity, dict) and activity.get("id"):
                found.add(activity["id"])
    return found


def _same_origin(a: str, b: str) -> bool:
    ua, ub = httpx.URL(a), httpx.URL(b)
    return (ua.scheme, ua.host, ua.port) == (ub.scheme, ub.host, ub.port)


def iter_statements(
    client: LrsClient,
    query: StatementQuery = StatementQuery(),
    *,
    server_filters: bool = True,
    max_empty_pages: int = 3,
    max_pages: int = 100_000,
) -> Iterator[dict[str, Any]]:
    """Every statement matching ``query``, page after page, as the LRS returns them."""
    local = not server_filters and bool(query.verb or query.activity)
    url: str = "statements"
    params: dict[str, str] | None = query.params(server_filters)
    seen: set[str] = set()
    empty_in_row = 0
    yielded = 0
    for page in range(1, max_pages + 1):
        try:
            body = client.get_json(url, params)
        except LrsUnavailableError as error:
            if page == 1:
                raise
            raise QueryInterruptedError(
                f"the LRS stopped answering on page {page} after {yielded} statements: {error}; resume from {url}",
                resume_from=url,
                statements_so_far=yielded,
            ) from error
        statements, more = _parse_page(body, page, url)
        for statement in statements:
            if not local or query.matches_locally(statement):
                yielded += 1
                yield statement
        if not more:
            return
        empty_in_row = empty_in_row + 1 if not statements else 0
        if empty_in_row > max_empty_pages:
            raise LrsProtocolError(f"{empty_in_row} empty pages in a row, each with a 'more' link (last: {more!r}); giving up")
        next_url = client.resolve_more(more)
        if not _same_origin(next_url, client.endpoint):
            raise LrsProtocolError(f"page {page}: 'more' points away from the LRS ({more!r}); not following it")
        if next_url in seen:
            raise LrsProtocolError(f"page {page}: 'more' repeats an earlier page ({more!r}); the LRS is looping")
        seen.add(next_url)
        url, params = next_url, None
    raise LrsProtocolError(f"more than {max_pages} pages; refusing to follow 'more' any further")


def _parse_page(body: Any, page: int, url: str) -> tuple[list[dict[str, Any]], str]:
    where = f"page {page} ({url})"
    if not isinstance(body, dict):
        raise LrsProtocolError(f"{where}: expected a StatementResult object, got {type(body).__name__}")
    statements = body.get("statements")
    if not isinstance(statements, list):
        raise LrsProtocolError(f"{where}: 'statements' is missing or not a list")
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict) or not isinstance(statement.get("id"), str):
            raise LrsProtocolError(f"{where}: statements[{index}] is not a statement with an id")
    more = body.get("more") or ""
    if not isinstance(more, str):
        raise LrsProtocolError(f"{where}: 'more' must be a string, got {type(more).__name__}")
    return statements, more


def exclude_voided(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leave out voiding statements, the statements they void, and statements referring to those."""

    def target(statement: Mapping[str, Any]) -> str | None:
        obj = statement.get("object") or {}
        if obj.get("objectType") == "StatementRef" and isinstance(obj.get("id"), str):
            return obj["id"].lower()
        return None

    voided = {
        t for s in statements if (s.get("verb") or {}).get("id") == VOIDED and (t := target(s)) is not None
    }
    return [
        s
        for s in statements
        if (s.get("verb") or {}).get("id") != VOIDED
        and s["id"].lower() not in voided
        and target(s) not in voided
    ]


def fetch_statements(
    client: LrsClient,
    query: StatementQuery = StatementQuery(),
    *,
    server_filters: bool = True,
    include_voided: bool = False,
    max_empty_pages: int = 3,
) -> list[dict[str, Any]]:
    """All matching statements as a list, voided ones (and voiding ones) left out unless asked for."""
    if not include_voided and (query.verb or query.activity):
        # A voiding statement has verb "voided" and a StatementRef object: a verb/activity filter
        # would hide it, so we fetch unfiltered by those two and filter after removing the voided.
        everything = list(iter_statements(client, replace(query, verb=None, activity=None), max_empty_pages=max_empty_pages))
        return [s for s in exclude_voided(everything) if query.matches_locally(s)]
    found = list(iter_statements(client, query, server_filters=server_filters, max_empty_pages=max_empty_pages))
    return found if include_voided else exclude_voided(found)
