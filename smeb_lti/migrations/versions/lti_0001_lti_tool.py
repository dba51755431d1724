"""lti: platform registrations, deployments, tool keys, key-value store (state, nonces, caches), launches

Revision ID: lti_0001
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = "lti_0001"
down_revision = None
branch_labels = ("lti",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lti_registrations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("auth_login_url", sa.String(2048), nullable=False),
        sa.Column("auth_token_url", sa.String(2048), nullable=False),
        sa.Column("auth_audience", sa.String(2048), nullable=True),
        sa.Column("key_set_url", sa.String(2048), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("issuer", "client_id", name="uq_lti_registrations_issuer"),
    )
    op.create_table(
        "lti_deployments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "registration_id",
            sa.Integer(),
            sa.ForeignKey("lti_registrations.id", ondelete="CASCADE", name="fk_lti_deployments_registration_id_lti_registrations"),
            nullable=False,
        ),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.UniqueConstraint("registration_id", "deployment_id", name="uq_lti_deployments_registration_id"),
    )
    op.create_table(
        "lti_tool_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("private_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
    )
    op.create_table(
        "lti_kv",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_lti_kv_expires_at", "lti_kv", ["expires_at"])
    op.create_table(
        "lti_launches",
        sa.Column("launch_id", sa.String(64), primary_key=True),
        sa.Column(
            "registration_id",
            sa.Integer(),
            sa.ForeignKey("lti_registrations.id", ondelete="CASCADE", name="fk_lti_launches_registration_id_lti_registrations"),
            nullable=False,
        ),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("message_type", sa.String(64), nullable=False),
        sa.Column("claims", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_lti_launches_expires_at", "lti_launches", ["expires_at"])


def downgrade() -> None:
    op.drop_table("lti_launches")
    op.drop_table("lti_kv")
    op.drop_table("lti_tool_keys")
    op.drop_table("lti_deployments")
    op.drop_table("lti_registrations")
