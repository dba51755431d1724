"""cert: issuer signing keys (Ed25519, rotation keeps old public keys) and issued certificates

Revision ID: cert_0001
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = "cert_0001"
down_revision = None
branch_labels = ("cert",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cert_signing_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_cert_signing_keys"),
    )
    op.create_table(
        "cert_certificates",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("platform_issuer", sa.String(500), nullable=False),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("context_id", sa.String(255), nullable=False),
        sa.Column("learner_subject", sa.String(255), nullable=False),
        sa.Column("learner_name", sa.String(300), nullable=False),
        sa.Column("course_id", sa.String(2048), nullable=False),
        sa.Column("course_title", sa.String(500), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issuer_name", sa.String(200), nullable=False),
        sa.Column("organization_name", sa.String(300), nullable=True),
        sa.Column("competences", sa.Text(), nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("credential_jwt", sa.Text(), nullable=False),
        sa.Column("earned_statement_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.String(500), nullable=True),
        sa.Column("revoked_statement_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cert_certificates"),
        sa.ForeignKeyConstraint(["kid"], ["cert_signing_keys.kid"], name="fk_cert_certificates_kid_cert_signing_keys"),
    )
    op.create_index(
        "ix_cert_certificates_tenant", "cert_certificates", ["platform_issuer", "deployment_id", "context_id", "issued_on"]
    )
    op.create_index("ix_cert_certificates_learner", "cert_certificates", ["platform_issuer", "learner_subject"])


def downgrade() -> None:
    op.drop_index("ix_cert_certificates_learner", table_name="cert_certificates")
    op.drop_index("ix_cert_certificates_tenant", table_name="cert_certificates")
    op.drop_table("cert_certificates")
    op.drop_table("cert_signing_keys")
