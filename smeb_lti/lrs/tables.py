"""The LRS tables (created only by the ``lrs`` Alembic branch).

Statements are stored as the exact JSON the LRS returns for ``format=exact`` plus derived
index columns; ``lrs_statement_links`` holds one row per (agent IFI | activity id) a
statement mentions, so agent/activity filters (direct or related) are index lookups.
Ordering and paging use ``seq`` (insert order), which follows ``stored``.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from smeb_lti.db import Base

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IRI = sa.String(2048)
# Longest identifier (IRI, IFI) stored in an indexed column, in UTF-8 bytes: VARCHAR(2048) counts
# characters, but a PostgreSQL btree entry holds at most ~2,700 bytes, so bytes are what must be bounded.
MAX_INDEXED_BYTES = 2048
MAX_CONTENT_TYPE = 255  # lrs_documents.content_type, lrs_attachments.content_type
metadata = Base.metadata

tenants = sa.Table(
    "lrs_tenants",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
)
credentials = sa.Table(
    "lrs_credentials",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("lrs_tenants.id"), nullable=False),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(128), nullable=False),
    sa.Column("salt", sa.String(64), nullable=False),
    sa.Column("scopes", sa.String(300), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("revoked_us", sa.BigInteger(), nullable=True),
)
statements = sa.Table(
    "lrs_statements",
    metadata,
    sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.Integer(), nullable=False),
    sa.Column("statement_id", sa.String(36), nullable=False),
    sa.Column("stored_us", sa.BigInteger(), nullable=False),
    sa.Column("verb_id", IRI, nullable=False),
    sa.Column("activity_id", IRI, nullable=True),
    sa.Column("actor_ifi", IRI, nullable=True),
    sa.Column("registration", sa.String(36), nullable=True),
    sa.Column("ref_id", sa.String(36), nullable=True),
    sa.Column("voiding", sa.Boolean(), nullable=False),
    sa.Column("voided", sa.Boolean(), nullable=False),
    sa.Column("has_attachments", sa.Boolean(), nullable=False),
    sa.Column("full_json", sa.Text(), nullable=False),
    sa.UniqueConstraint("tenant_id", "statement_id"),
)
statement_links = sa.Table(
    "lrs_statement_links",
    metadata,
    sa.Column("seq", SEQ, sa.ForeignKey("lrs_statements.seq", ondelete="CASCADE"), primary_key=True),
    sa.Column("tenant_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("value", IRI, primary_key=True),
    sa.Column("direct", sa.Boolean(), nullable=False),
)
attachments = sa.Table(
    "lrs_attachments",
    metadata,
    sa.Column("tenant_id", sa.Integer(), primary_key=True),
    sa.Column("sha2", sa.String(128), primary_key=True),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
)
activities = sa.Table(
    "lrs_activities",
    metadata,
    sa.Column("tenant_id", sa.Integer(), primary_key=True),
    sa.Column("activity_hash", sa.String(64), primary_key=True),
    sa.Column("activity_id", IRI, nullable=False),
    sa.Column("definition_json", sa.Text(), nullable=False),
)
documents = sa.Table(
    "lrs_documents",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("tenant_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("scope_hash", sa.String(64), nullable=False),
    sa.Column("doc_hash", sa.String(64), nullable=False),
    sa.Column("doc_id", sa.Text(), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("etag", sa.String(40), nullable=False),
    sa.Column("updated_us", sa.BigInteger(), nullable=False),
    sa.UniqueConstraint("tenant_id", "kind", "scope_hash", "doc_hash"),
)
secrets_table = sa.Table(
    "lrs_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(128), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
)
cmi5_sessions = sa.Table(
    "lrs_cmi5_sessions",
    metadata,
    sa.Column("session_id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.Integer(), nullable=False),
    sa.Column("registration", sa.String(36), nullable=False),
    sa.Column("actor_json", sa.Text(), nullable=False),
    sa.Column("activity_id", IRI, nullable=False),
    sa.Column("publisher_id", IRI, nullable=False),
    sa.Column("course_id", IRI, nullable=False),
    sa.Column("launch_mode", sa.String(16), nullable=False),
    sa.Column("mastery_score", sa.Float(), nullable=True),
    sa.Column("move_on", sa.String(32), nullable=False),
    sa.Column("fetch_hash", sa.String(64), nullable=False),
    sa.Column("fetched", sa.Boolean(), nullable=False),
    sa.Column("initialized", sa.Boolean(), nullable=False),
    sa.Column("terminated", sa.Boolean(), nullable=False),
    sa.Column("created_us", sa.BigInteger(), nullable=False),
    sa.Column("customer_json", sa.Text(), nullable=True),  # the launch's customer (routing of forwarded statements)
    sa.Column("course_publisher_id", IRI, nullable=True),  # the course's id in cmi5.xml (NULL: launched before lrs_0003)
)
# One row per (registration, node): an AU (its generated activity id; the once-only flags of cmi5 9.3
# and satisfied = its moveOn is met) or a block/course object (satisfied = "satisfied" was recorded).
cmi5_registrations = sa.Table(
    "lrs_cmi5_registrations",
    metadata,
    sa.Column("tenant_id", sa.Integer(), primary_key=True),
    sa.Column("registration", sa.String(36), primary_key=True),
    sa.Column("activity_id", IRI, primary_key=True),
    sa.Column("completed", sa.Boolean(), nullable=False),
    sa.Column("passed", sa.Boolean(), nullable=False),
    sa.Column("failed", sa.Boolean(), nullable=False),
    sa.Column("waived", sa.Boolean(), nullable=False),
    sa.Column("satisfied", sa.Boolean(), nullable=False),
)
cmi5_courses = sa.Table(
    "lrs_cmi5_courses",
    metadata,
    sa.Column("tenant_id", sa.Integer(), primary_key=True),
    sa.Column("activity_id", IRI, primary_key=True),  # the generated course object id (cmi5 9.4)
    sa.Column("publisher_id", IRI, nullable=False),
    sa.Column("structure_json", sa.Text(), nullable=False),
    sa.Column("imported_us", sa.BigInteger(), nullable=False),
)

# One row per tenant: the ``stored`` of its latest statement write (lrs_0004). Writers advance it as
# the last step before inserting, and hold its row lock until they commit, so ``stored`` values are
# handed out in commit order; readers take it as X-Experience-API-Consistent-Through. See
# :func:`advance_clock` and :func:`consistent_through`.
clock = sa.Table(
    "lrs_clock",
    metadata,
    sa.Column("tenant_id", sa.Integer(), primary_key=True),
    sa.Column("stored_us", sa.BigInteger(), nullable=False),
)


def sha256_hex(text: str) -> str:
    """The key of a long identifier in an indexed hash column (activity_hash, doc_hash, scope_hash)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
