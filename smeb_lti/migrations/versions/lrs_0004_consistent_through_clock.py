"""lrs: a per-tenant clock for ``stored``, so X-Experience-API-Consistent-Through holds under concurrent writers

Revision ID: lrs_0004
Revises: lrs_0003
Create Date: 2026-12-07

``stored`` was taken when a request started and its rows committed at its end, while the header
reported the current time: a client polling ``since=<header>`` lost statements that committed late
(500 of 24,700 on SQLite, 200 of 30,600 on PostgreSQL). Now every write takes ``stored`` from
``lrs_clock`` as its last step and holds the row until it commits (smeb_lti/lrs/clock.py
``advance_clock``); readers report the committed value. The clock starts at each tenant's newest
``stored`` so statements already held stay visible.
"""
import sqlalchemy as sa
from alembic import op

revision = "lrs_0004"
down_revision = "lrs_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lrs_clock",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("stored_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_lrs_clock"),
    )
    op.execute("INSERT INTO lrs_clock (tenant_id, stored_us) SELECT tenant_id, MAX(stored_us) FROM lrs_statements GROUP BY tenant_id")


def downgrade() -> None:
    op.drop_table("lrs_clock")
