"""Validated launches, stored server-side so any worker can serve the follow-up requests.

The player host gets ``/play/<launch_id>`` and calls :func:`get_launch`; the launch id is a
random 256-bit value and is the only thing the browser holds (no cookie needed, so it also
works in an iframe with third-party cookies blocked).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, Text, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from smeb_lti.db import Base
from smeb_lti.lti import claims as c
from smeb_lti.lti.context import LaunchContext, context_from_claims
from smeb_lti.lti.errors import LaunchNotFound


class Launch(Base):
    __tablename__ = "lti_launches"

    launch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(255))
    message_type: Mapped[str] = mapped_column(String(64))
    claims: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def new_launch_id() -> str:
    return secrets.token_urlsafe(32)


def save_launch(
    session: Session, launch_id: str, registration_id: int, client_id: str, claims: Mapping[str, Any], ttl: int
) -> LaunchContext:
    """Store a validated id_token body and return its context (the caller's transaction commits it)."""
    now = datetime.now(UTC)
    context = context_from_claims(launch_id, registration_id, client_id, claims)
    session.add(
        Launch(
            launch_id=launch_id,
            registration_id=registration_id,
            client_id=client_id,
            message_type=str(claims[c.MESSAGE_TYPE]),
            claims=json.dumps(claims, sort_keys=True),
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    session.flush()
    return context


def _row(session: Session, launch_id: str) -> Launch:
    row = session.get(Launch, launch_id) if launch_id else None
    if row is None:
        raise LaunchNotFound()
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires <= datetime.now(UTC):
        raise LaunchNotFound()
    return row


def get_launch(session: Session, launch_id: str) -> LaunchContext:
    """The context of a stored, unexpired launch; :class:`LaunchNotFound` (404) otherwise."""
    row = _row(session, launch_id)
    return context_from_claims(row.launch_id, row.registration_id, row.client_id, json.loads(row.claims))


def get_claims(session: Session, launch_id: str) -> dict[str, Any]:
    """The raw id_token body of a stored launch (for pylti1p3's ``MessageLaunch.from_cache``)."""
    return json.loads(_row(session, launch_id).claims)


def end_launch(session: Session, launch_id: str) -> None:
    """Forget a launch (e.g. after its deep-linking response was sent)."""
    session.execute(delete(Launch).where(Launch.launch_id == launch_id))


def purge_expired(session: Session) -> int:
    return session.execute(delete(Launch).where(Launch.expires_at <= datetime.now(UTC))).rowcount or 0  # type: ignore[attr-defined]  # a DELETE gives a CursorResult, typed as Result
