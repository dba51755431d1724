"""Where report statements come from: the embedded LRS tables, or any LRS over HTTP.

Both return *all* matching statements or raise: a report is never built from half an answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.lrs import store, tables
from smeb_lti.reports.aggregate import ReportParameters
from xapi.delivery.client import LrsClient, LrsError
from xapi.delivery.query import StatementQuery, fetch_statements


class ReportSourceError(Exception):
    """The statements for a report could not be read completely; the message says where and why."""


def store_statements(session: Session, tenant_slug: str, params: ReportParameters | None = None) -> Iterator[dict[str, Any]]:
    """Statements of one embedded-LRS tenant, voided/voiding ones (and those pointing at voided ones) left out.

    Streams rows (``yield_per``) so a million statements do not sit in memory as JSON text.
    Course filters use the LRS's own index of related activities (``lrs_statement_links``).
    """
    params = params or ReportParameters()
    tenant = store.tenant_by_slug(session, tenant_slug)
    if tenant is None:
        raise ReportSourceError(f"no LRS tenant {tenant_slug!r} (see `smeb lrs tenant list`)")
    s = tables.statements
    voided_ids = sa.select(s.c.statement_id).where(s.c.tenant_id == tenant.id, s.c.voided.is_(True))
    query = sa.select(s.c.full_json).where(
        s.c.tenant_id == tenant.id,
        s.c.voided.is_(False),
        s.c.voiding.is_(False),
        sa.or_(s.c.ref_id.is_(None), s.c.ref_id.not_in(voided_ids)),
    )
    if params.courses:
        links = tables.statement_links
        query = query.where(
            sa.exists(
                sa.select(links.c.seq).where(
                    links.c.seq == s.c.seq,
                    links.c.tenant_id == tenant.id,
                    links.c.kind == "activity",
                    links.c.value.in_(params.courses),
                )
            )
        )
    if params.since is not None:
        # stored >= timestamp for statements we send; timestamp is filtered exactly later.
        query = query.where(s.c.stored_us >= int(params.since.timestamp() * 1_000_000) - 86_400_000_000)
    result = session.execute(query.order_by(s.c.seq).execution_options(yield_per=5000))
    for (text,) in result:
        yield json.loads(text)


def lrs_statements(
    endpoint: str,
    username: str | None,
    password: str | None,
    params: ReportParameters | None = None,
    *,
    server_filters: bool = True,
    page_size: int | None = 500,
    timeout: float = 30.0,
) -> list[dict[str, Any]]:
    """Every matching statement from a conformant LRS (``xapi.delivery.query``: follows ``more``, drops voided).

    Raises :class:`ReportSourceError` naming the LRS and the failure: unreachable, bad
    credentials, garbage instead of a StatementResult, or stopped half-way.
    """
    params = params or ReportParameters()
    if not endpoint.startswith(("http://", "https://")):
        raise ReportSourceError(f"--lrs must be the LRS's xAPI endpoint URL (http(s)://.../xapi/), got {endpoint!r}")
    endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
    # No activity filter on the wire: excluding voided statements needs the voiding statements
    # too (xapi.delivery.query fetches unfiltered anyway), and the aggregation picks the courses.
    query = StatementQuery(since=params.since, limit=page_size)
    try:
        with LrsClient(endpoint, username=username, password=password, timeout=timeout) as client:
            return fetch_statements(client, query, server_filters=server_filters)
    except LrsError as error:
        raise ReportSourceError(f"reading statements from {endpoint} failed, no report made: {error}") from error
