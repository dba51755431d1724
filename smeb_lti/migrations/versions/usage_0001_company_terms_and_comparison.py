"""usage: billing terms per company (pilot end, price, discount) and frozen comparison figures

Revision ID: usage_0001
Revises:
Create Date: 2026-12-07

Neither table holds personal data: terms are about companies; comparison snapshots are aggregates
(counts and means of closed quarters) that already passed the minimum-group rules (docs/usage.md).
"""
import sqlalchemy as sa
from alembic import op

revision = "usage_0001"
down_revision = None
branch_labels = ("usage",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "usage_company_terms",
        # sha256(issuer, deployment, context)[:16]: what the operator types in `smeb usage company set`
        sa.Column("company_id", sa.String(16), primary_key=True),
        sa.Column("platform_issuer", sa.String(512), nullable=False),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("context_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("pilot_end", sa.Date(), nullable=True),
        sa.Column("price_ore", sa.Integer(), nullable=False),
        sa.Column("discount_percent", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "usage_comparison_snapshots",
        # one closed calendar quarter, computed once and never again: later data cannot be differenced out of it
        sa.Column("quarter", sa.String(7), primary_key=True),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("computed_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("usage_comparison_snapshots")
    op.drop_table("usage_company_terms")
