"""Forwarding hook: the tool hands the embedded LRS's cmi5 statements on to upstream LRSs.

The LRS imports nothing of the tool, so it does not know where statements go: the composition
root registers a sender with :func:`on_statement_stored` (``smeb_lti.app`` registers
``smeb_lti.routing.queue_statement``). The cmi5 launcher and AU rules call :func:`forward` for
every statement they record, in the same transaction.

The senders are kept per process, not per Flask app: cmi5 code runs with a bare Session (the CLI,
``create_launch_for_app``, tests) where no app context exists. Registering a sender again is a no-op.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from smeb_lti.lrs import store
from xapi.customers import CustomerScope
from xapi.errors import XapiError

# The logger of the cmi5 launcher, which these messages came from before the hook existed.
log = logging.getLogger("smeb_lti.lrs.cmi5")

StatementSender = Callable[[Session, Mapping[str, Any], CustomerScope | None], object]
"""Queue one statement (as forwarded) for the customer's upstream LRSs; may raise XapiError."""

_senders: list[StatementSender] = []


def on_statement_stored(sender: StatementSender) -> None:
    """Register ``sender`` for every cmi5 statement the LRS records (once per process)."""
    if sender not in _senders:
        _senders.append(sender)


def forward(session: Session, session_row: Any, new: list[store.Prepared]) -> None:
    """Queue the statements for the upstream LRSs of the launch's customer, like every statement SMEB records.

    As stored minus ``stored`` and ``authority`` (the upstream LRS sets its own). A statement with an
    attachment sent as a multipart part cannot travel through the outbox (it holds JSON only): it is
    logged and stays in the embedded LRS.
    """
    text = session_row["customer_json"]
    scope = CustomerScope(**json.loads(text)) if text else None
    for p in new:
        statement = {k: v for k, v in p.statement.items() if k not in ("stored", "authority")}
        if any(not a.get("fileUrl") for a in statement.get("attachments") or [] if isinstance(a, dict)):
            log.warning("cmi5 statement %s has an attachment without fileUrl: kept in the embedded LRS, not forwarded", p.id)
            continue
        for sender in _senders:
            try:
                sender(session, statement, scope)
            except XapiError as error:
                # The embedded LRS accepted it; an upstream's stricter check must not refuse the AU its record.
                log.error("cmi5 statement %s not forwarded upstream: %s", p.id, error)
