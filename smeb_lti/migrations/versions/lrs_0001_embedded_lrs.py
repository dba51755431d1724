"""lrs: tenants, credentials, statements (+ index links), attachments, activities, documents, cmi5 sessions

Revision ID: lrs_0001
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = "lrs_0001"
down_revision = None
branch_labels = ("lrs",)
depends_on = None

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
IRI = sa.String(2048)


def upgrade() -> None:
    op.create_table(
        "lrs_tenants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("slug", name="uq_lrs_tenants_slug"),
    )
    op.create_table(
        "lrs_credentials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("lrs_tenants.id", name="fk_lrs_credentials_tenant_id_lrs_tenants"), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(300), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("revoked_us", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("key", name="uq_lrs_credentials_key"),
    )
    op.create_table(
        "lrs_statements",
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
        sa.UniqueConstraint("tenant_id", "statement_id", name="uq_lrs_statements_tenant_id"),
    )
    op.create_index("ix_lrs_statements_tenant_seq", "lrs_statements", ["tenant_id", "seq"])
    op.create_index("ix_lrs_statements_tenant_stored", "lrs_statements", ["tenant_id", "stored_us"])
    op.create_index("ix_lrs_statements_tenant_verb", "lrs_statements", ["tenant_id", "verb_id", "seq"])
    op.create_index("ix_lrs_statements_tenant_activity", "lrs_statements", ["tenant_id", "activity_id", "seq"])
    op.create_index("ix_lrs_statements_tenant_actor", "lrs_statements", ["tenant_id", "actor_ifi", "seq"])
    op.create_index("ix_lrs_statements_tenant_registration", "lrs_statements", ["tenant_id", "registration", "seq"])
    op.create_index("ix_lrs_statements_tenant_ref", "lrs_statements", ["tenant_id", "ref_id"])
    op.create_table(
        "lrs_statement_links",
        sa.Column("seq", SEQ, sa.ForeignKey("lrs_statements.seq", name="fk_lrs_statement_links_seq_lrs_statements", ondelete="CASCADE"), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", IRI, nullable=False),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("seq", "kind", "value", name="pk_lrs_statement_links"),
    )
    op.create_index("ix_lrs_statement_links_lookup", "lrs_statement_links", ["tenant_id", "kind", "value", "seq"])
    op.create_table(
        "lrs_attachments",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("sha2", sa.String(128), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "sha2", name="pk_lrs_attachments"),
    )
    op.create_table(
        "lrs_activities",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("activity_hash", sa.String(64), nullable=False),
        sa.Column("activity_id", IRI, nullable=False),
        sa.Column("definition_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "activity_hash", name="pk_lrs_activities"),
    )
    op.create_table(
        "lrs_documents",
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
        sa.UniqueConstraint("tenant_id", "kind", "scope_hash", "doc_hash", name="uq_lrs_documents_tenant_id"),
    )
    op.create_table(
        "lrs_cmi5_sessions",
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
    )
    op.create_index("ix_lrs_cmi5_sessions_registration", "lrs_cmi5_sessions", ["tenant_id", "registration"])
    op.create_table(
        "lrs_cmi5_registrations",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("registration", sa.String(36), nullable=False),
        sa.Column("activity_id", IRI, nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "registration", name="pk_lrs_cmi5_registrations"),
    )


def downgrade() -> None:
    for table in (
        "lrs_cmi5_registrations",
        "lrs_cmi5_sessions",
        "lrs_documents",
        "lrs_activities",
        "lrs_attachments",
        "lrs_statement_links",
        "lrs_statements",
        "lrs_credentials",
        "lrs_tenants",
    ):
        op.drop_table(table)
