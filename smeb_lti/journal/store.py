"""Journal storage: per learner one keyring (wrapped keys + KDF parameters) and encrypted entries.

A learner is (platform registration, LTI ``sub``): every query filters on both, taken from the
launch, so ids from a URL or body can only ever reach the caller's own rows. Versions make
writes conditional: an update or delete names the version it replaces; a replayed or stale
write finds a newer version and changes nothing (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from smeb_lti.db import Base
from smeb_lti.journal.errors import (
    EntryNotFound,
    JournalFull,
    KeyringMissing,
    WriteConflict,
)
from smeb_lti.journal.schema import EntryInput, EntryUpdate, KeyringInput

MAX_ENTRIES = 2000


class JournalKeyring(Base):
    __tablename__ = "journal_keyrings"
    __table_args__ = (UniqueConstraint("registration_id", "subject", name="uq_journal_keyrings_registration_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    kdf: Mapped[str] = mapped_column(String(32))
    pass_iterations: Mapped[int] = mapped_column(Integer)
    pass_salt: Mapped[str] = mapped_column(String(100))
    pass_wrapped: Mapped[str] = mapped_column(String(100))
    recovery_iterations: Mapped[int] = mapped_column(Integer)
    recovery_salt: Mapped[str] = mapped_column(String(100))
    recovery_wrapped: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JournalEntry(Base):
    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("registration_id", "subject", "entry_id", name="uq_journal_entries_registration_id"),
        # one answer per reflection prompt and course (NULL block ids, the free entries, never collide)
        UniqueConstraint("registration_id", "subject", "course_key", "block_id", name="uq_journal_entries_prompt"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registrations.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    entry_id: Mapped[str] = mapped_column(String(36))
    course_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    block_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    iv: Mapped[str] = mapped_column(String(16))
    ciphertext: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Owner:
    """The learner a request acts for, from the launch (never from the request)."""

    registration_id: int
    subject: str


def _changed(session: Session, statement: Any) -> int:
    """Rows an UPDATE/DELETE changed: 0 means the compare-and-set lost (stale or replayed version)."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def keyring_dict(row: JournalKeyring) -> dict[str, Any]:
    def wrapped(iterations: int, salt: str, key: str) -> dict[str, Any]:
        return {"kdf": {"name": row.kdf, "iterations": iterations, "salt": salt}, "wrappedKey": key}

    return {
        "version": row.version,
        "passphrase": wrapped(row.pass_iterations, row.pass_salt, row.pass_wrapped),
        "recovery": wrapped(row.recovery_iterations, row.recovery_salt, row.recovery_wrapped),
    }


def entry_dict(row: JournalEntry) -> dict[str, Any]:
    return {
        "id": row.entry_id, "kind": row.kind, "blockId": row.block_id, "iv": row.iv, "ciphertext": row.ciphertext,
        "version": row.version, "createdAt": row.created_at.isoformat(), "updatedAt": row.updated_at.isoformat(),
    }


def get_keyring(session: Session, owner: Owner) -> JournalKeyring | None:
    return session.scalars(
        select(JournalKeyring).where(JournalKeyring.registration_id == owner.registration_id, JournalKeyring.subject == owner.subject)
    ).first()


def put_keyring(session: Session, owner: Owner, data: KeyringInput, now: datetime) -> JournalKeyring:
    """Create (version 0 → 1) or replace (version n → n+1) the keyring; any other version is a 409."""
    row = get_keyring(session, owner)
    if row is None:
        if data.version != 0 or data.recovery is None:
            raise WriteConflict("the journal has no keys yet: set it up first (version 0, with a recovery code)")
        row = JournalKeyring(
            registration_id=owner.registration_id, subject=owner.subject, version=1, kdf="PBKDF2-SHA256",
            pass_iterations=data.passphrase.kdf.iterations, pass_salt=data.passphrase.kdf.salt, pass_wrapped=data.passphrase.wrapped_key,
            recovery_iterations=data.recovery.kdf.iterations, recovery_salt=data.recovery.kdf.salt,
            recovery_wrapped=data.recovery.wrapped_key, created_at=now, updated_at=now,
        )
        session.add(row)
        session.flush()
        return row
    values: dict[str, Any] = {
        "version": row.version + 1, "pass_iterations": data.passphrase.kdf.iterations, "pass_salt": data.passphrase.kdf.salt,
        "pass_wrapped": data.passphrase.wrapped_key, "updated_at": now,
    }
    if data.recovery is not None:
        values.update(recovery_iterations=data.recovery.kdf.iterations, recovery_salt=data.recovery.kdf.salt,
                      recovery_wrapped=data.recovery.wrapped_key)
    # Compare-and-set in one statement: two tabs changing the passphrase at once cannot both win.
    done = _changed(session, update(JournalKeyring).where(JournalKeyring.id == row.id, JournalKeyring.version == data.version).values(**values))
    if done != 1:
        raise WriteConflict(f"the keys are at version {row.version}, this change was made for version {data.version}: reload and try again")
    session.refresh(row)
    return row


def list_entries(session: Session, owner: Owner, course_key: str) -> list[JournalEntry]:
    return list(session.scalars(
        select(JournalEntry).where(JournalEntry.registration_id == owner.registration_id, JournalEntry.subject == owner.subject,
                                   JournalEntry.course_key == course_key).order_by(JournalEntry.created_at, JournalEntry.id)
    ))


def _entry(session: Session, owner: Owner, entry_id: str) -> JournalEntry:
    row = session.scalars(
        select(JournalEntry).where(JournalEntry.registration_id == owner.registration_id, JournalEntry.subject == owner.subject,
                                   JournalEntry.entry_id == entry_id)
    ).first()
    if row is None:
        raise EntryNotFound(f"no journal entry {entry_id!r}")
    return row


def create_entry(session: Session, owner: Owner, course_key: str, data: EntryInput, now: datetime) -> JournalEntry:
    """A new entry at version 1; a replayed create (same id) or a second answer to one prompt is a 409."""
    if get_keyring(session, owner) is None:
        raise KeyringMissing("set up the journal (passphrase and recovery code) before writing")
    query = select(JournalEntry.id).where(JournalEntry.registration_id == owner.registration_id, JournalEntry.subject == owner.subject)
    if session.scalars(query.where(JournalEntry.entry_id == data.id)).first() is not None:
        raise WriteConflict(f"entry {data.id} exists already (a replayed write): nothing was changed")
    if data.block_id is not None and session.scalars(
        query.where(JournalEntry.course_key == course_key, JournalEntry.block_id == data.block_id)
    ).first() is not None:
        raise WriteConflict(f"prompt {data.block_id!r} is answered already: edit that answer instead")
    count = session.scalar(select(func.count()).select_from(JournalEntry).where(
        JournalEntry.registration_id == owner.registration_id, JournalEntry.subject == owner.subject))
    if (count or 0) >= MAX_ENTRIES:
        raise JournalFull(f"the journal holds at most {MAX_ENTRIES} entries: export and delete old ones")
    row = JournalEntry(
        registration_id=owner.registration_id, subject=owner.subject, entry_id=data.id, course_key=course_key, kind=data.kind,
        block_id=data.block_id, iv=data.iv, ciphertext=data.ciphertext, version=1, created_at=now, updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def update_entry(session: Session, owner: Owner, entry_id: str, data: EntryUpdate, now: datetime) -> JournalEntry:
    row = _entry(session, owner, entry_id)
    done = _changed(session, update(JournalEntry).where(JournalEntry.id == row.id, JournalEntry.version == data.version)
                    .values(iv=data.iv, ciphertext=data.ciphertext, version=JournalEntry.version + 1, updated_at=now))
    if done != 1:
        raise WriteConflict(f"entry {entry_id} is at version {row.version}, this write replaces version {data.version} "
                            "(replayed, or changed in another tab): nothing was overwritten")
    session.refresh(row)
    return row


def delete_entry(session: Session, owner: Owner, entry_id: str, version: int) -> None:
    row = _entry(session, owner, entry_id)
    done = _changed(session, delete(JournalEntry).where(JournalEntry.id == row.id, JournalEntry.version == version))
    if done != 1:
        raise WriteConflict(f"entry {entry_id} is at version {row.version}, not {version}: reload before deleting")
