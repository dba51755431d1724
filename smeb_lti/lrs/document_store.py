"""Storage of the document resources (state, activity profile, agent profile): one row per document."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smeb_lti.lrs.clock import now_us
from smeb_lti.lrs.store import rowcount
from smeb_lti.lrs.tables import documents, sha256_hex


@dataclass(frozen=True)
class Document:
    doc_id: str
    content: bytes
    content_type: str
    etag: str
    updated_us: int


def _scope_hash(kind: str, activity_id: str | None, agent_ifi: str | None, registration: str | None) -> str:
    return sha256_hex(json.dumps([kind, activity_id or "", agent_ifi or "", (registration or "").lower()]))


@dataclass(frozen=True)
class DocumentScope:
    """Where a document lives: state (activity+agent[+registration]), activity or agent profile."""

    kind: str
    activity_id: str | None = None
    agent_ifi: str | None = None
    registration: str | None = None

    @property
    def hash(self) -> str:
        return _scope_hash(self.kind, self.activity_id, self.agent_ifi, self.registration)


def get_document(session: Session, tenant_id: int, scope: DocumentScope, doc_id: str) -> Document | None:
    row = session.execute(
        sa.select(documents).where(
            documents.c.tenant_id == tenant_id,
            documents.c.kind == scope.kind,
            documents.c.scope_hash == scope.hash,
            documents.c.doc_hash == sha256_hex(doc_id),
        )
    ).first()
    return Document(row.doc_id, bytes(row.content), row.content_type, row.etag, row.updated_us) if row else None


class StaleDocument(Exception):
    """The document changed between the precondition check and the write (a concurrent writer won)."""


def put_document(
    session: Session, tenant_id: int, scope: DocumentScope, doc_id: str, content: bytes, content_type: str, expected_etag: str | None = None
) -> Document:
    """Create or replace a document; with ``expected_etag`` only if it still has that ETag (compare-and-set).

    Raises:
        StaleDocument: another request replaced or deleted it since ``expected_etag`` was read.
    """
    etag = hashlib.sha1(content).hexdigest()
    updated = now_us()
    where = [
        documents.c.tenant_id == tenant_id,
        documents.c.kind == scope.kind,
        documents.c.scope_hash == scope.hash,
        documents.c.doc_hash == sha256_hex(doc_id),
    ]
    if expected_etag is not None:
        # One UPDATE with the ETag in its WHERE: of two writers holding the same ETag only one matches a row.
        result = rowcount(session.execute(
            sa.update(documents).where(*where, documents.c.etag == expected_etag)
            .values(content=content, content_type=content_type, etag=etag, updated_us=updated)
        ))
        if result != 1:
            raise StaleDocument(doc_id)
    elif session.execute(sa.select(documents.c.id).where(*where)).first():
        session.execute(sa.update(documents).where(*where).values(content=content, content_type=content_type, etag=etag, updated_us=updated))
    else:
        session.execute(
            sa.insert(documents).values(
                tenant_id=tenant_id,
                kind=scope.kind,
                scope_hash=scope.hash,
                doc_hash=sha256_hex(doc_id),
                doc_id=doc_id,
                content=content,
                content_type=content_type,
                etag=etag,
                updated_us=updated,
            )
        )
    return Document(doc_id, content, content_type, etag, updated)


def list_documents(session: Session, tenant_id: int, scope: DocumentScope, since_us: int | None) -> list[tuple[str, int]]:
    where = [documents.c.tenant_id == tenant_id, documents.c.kind == scope.kind, documents.c.scope_hash == scope.hash]
    if since_us is not None:
        where.append(documents.c.updated_us > since_us)
    return [(r.doc_id, r.updated_us) for r in session.execute(sa.select(documents.c.doc_id, documents.c.updated_us).where(*where).order_by(documents.c.doc_id))]


def delete_documents(session: Session, tenant_id: int, scope: DocumentScope, doc_id: str | None, expected_etag: str | None = None) -> None:
    where = [documents.c.tenant_id == tenant_id, documents.c.kind == scope.kind, documents.c.scope_hash == scope.hash]
    if doc_id is not None:
        where.append(documents.c.doc_hash == sha256_hex(doc_id))
    if expected_etag is not None:
        where.append(documents.c.etag == expected_etag)
    deleted = rowcount(session.execute(sa.delete(documents).where(*where)))
    if expected_etag is not None and deleted != 1:
        raise StaleDocument(doc_id or "")
