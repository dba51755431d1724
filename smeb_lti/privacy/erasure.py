"""The two entry points: one learner's export document, and their erasure with its receipt."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.db import Base
from smeb_lti.privacy import lrs, outbox, pseudonyms, registry
from smeb_lti.privacy.errors import ErasureFailed, PrivacyError
from smeb_lti.privacy.outbox import planned_voids
from smeb_lti.privacy.subject import SubjectRef

FORMAT = "smeb-learner-export/1"

# The receipts table (Alembic branch "privacy").
receipts = sa.Table(
    "privacy_erasures",
    Base.metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("erased_by", sa.String(200), nullable=False),
    sa.Column("platform_issuer", sa.String(512), nullable=False),
    sa.Column("counts", sa.Text(), nullable=False),
    sa.Column("voids_queued", sa.Integer(), nullable=False),
    sa.Column("certificates_kept", sa.Boolean(), nullable=False),
    sa.Index("ix_privacy_erasures_erased_at", "erased_at"),
)


def stores() -> tuple[registry.Store, ...]:
    """Every store in erasure order: the parts' (added by their ``init_app``) and this package's own three
    (the embedded LRS's is kept here because the LRS imports no part of the tool)."""
    return registry.stores((lrs.STORE, outbox.STORE, pseudonyms.STORE))


def export_learner(session: Session, ref: SubjectRef, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the tool holds about the learner, as one JSON-ready document (read only)."""
    return {
        "format": FORMAT,
        "exported_at": (now or dt.datetime.now(dt.UTC)).isoformat(),
        "learner": {"platform_issuer": ref.issuer, "subject": ref.subject, "xapi_actors": ref.actors},
        "stores": {store.name: store.export(session, ref) for store in stores()},
    }


@dataclass(frozen=True)
class ErasureReceipt:
    """What an erasure did; holds no personal data (no subject, name, or pseudonym)."""

    id: str
    erased_at: dt.datetime
    erased_by: str
    platform_issuer: str
    counts: Mapping[str, int]
    voids_queued: int
    certificates_kept: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "erased_at": self.erased_at.isoformat(), "erased_by": self.erased_by,
                "platform_issuer": self.platform_issuer, "counts": dict(self.counts), "voids_queued": self.voids_queued,
                "certificates_kept": self.certificates_kept}


def erase_learner(
    session: Session, ref: SubjectRef, *, erased_by: str, keep_certificates: bool = False, now: dt.datetime | None = None,
) -> ErasureReceipt:
    """Erase the learner from every store in ``session``'s transaction and record the receipt; the caller commits.

    Args:
        erased_by: who ran it (an operator name or ticket reference; never the learner's data).
        keep_certificates: the learner asked that their certificates stay verifiable: those rows stay as they are.

    Raises:
        ErasureFailed: a store failed; roll the transaction back (``session_scope`` does) and nothing is erased.
    """
    if not erased_by.strip():
        raise PrivacyError("say who erases (--by NAME or a ticket reference): the receipt records it")
    moment = now or dt.datetime.now(dt.UTC)
    counts: dict[str, int] = {}
    voids = len(planned_voids(session, ref))
    for store in stores():
        if keep_certificates and store.name == "certificates":
            continue
        try:
            counts[store.name] = store.erase(session, ref)
        except Exception as error:
            raise ErasureFailed(store.name, error) from error
    receipt = ErasureReceipt(str(uuid.uuid4()), moment, erased_by.strip()[:200], ref.issuer, counts, voids, keep_certificates)
    session.execute(sa.insert(receipts).values(
        id=receipt.id, erased_at=moment, erased_by=receipt.erased_by, platform_issuer=ref.issuer,
        counts=json.dumps(counts, sort_keys=True), voids_queued=receipt.voids_queued, certificates_kept=keep_certificates))
    session.flush()
    return receipt


def list_receipts(session: Session) -> list[ErasureReceipt]:
    """Every erasure done, newest first."""
    rows = session.execute(sa.select(receipts).order_by(receipts.c.erased_at.desc()))
    return [ErasureReceipt(r.id, r.erased_at if r.erased_at.tzinfo else r.erased_at.replace(tzinfo=dt.UTC), r.erased_by, r.platform_issuer,
                           json.loads(r.counts), r.voids_queued, r.certificates_kept) for r in rows]
