"""A learner's journal (zero knowledge: we hold ciphertext and wrapped keys only)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.privacy.registry import Store
from smeb_lti.privacy.rows import as_dicts, learner_rows, rowcount
from smeb_lti.privacy.subject import SubjectRef


def export_journal(session: Session, ref: SubjectRef) -> dict[str, Any]:
    keyrings, mine_keys = learner_rows(session, ref, "journal_keyrings")
    entries, mine_entries = learner_rows(session, ref, "journal_entries")
    return {
        "note": "entries are encrypted in the learner's browser; only the learner's passphrase or recovery code opens them",
        "keyrings": as_dicts(session.execute(sa.select(keyrings).where(mine_keys))),
        "entries": as_dicts(session.execute(sa.select(entries).where(mine_entries).order_by(entries.c.id))),
    }


def erase_journal(session: Session, ref: SubjectRef) -> int:
    keyrings, mine_keys = learner_rows(session, ref, "journal_keyrings")
    entries, mine_entries = learner_rows(session, ref, "journal_entries")
    return rowcount(session.execute(sa.delete(entries).where(mine_entries))) + rowcount(session.execute(sa.delete(keyrings).where(mine_keys)))


STORES = (Store("journal", export_journal, erase_journal),)
