"""outbox: durable delivery queue of xAPI statements (and, later, LTI AGS scores)

Revision ID: outbox_0001
Revises:
Create Date: 2026-11-21

The DDL is written out here on purpose instead of importing ``xapi.delivery.outbox``: a migration
must keep producing the same schema after the application's table definitions move on.
"""
import sqlalchemy as sa
from alembic import op

revision = "outbox_0001"
down_revision = None
branch_labels = ("outbox",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "xapi_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        # what the payload is: "lrs" = one xAPI statement; "ags" = an LTI AGS score (reserved)
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(100), nullable=False),
        # idempotency key: the statement id (AGS: line item + user + timestamp)
        sa.Column("item_id", sa.String(64), nullable=False),
        # the exact JSON text sent on every try
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_token", sa.String(36), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_xapi_outbox"),
        sa.UniqueConstraint("destination", "item_id", name="uq_xapi_outbox_destination_item"),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'parked')", name="ck_xapi_outbox_status"),
        sa.CheckConstraint("kind IN ('lrs', 'ags')", name="ck_xapi_outbox_kind"),
    )
    op.create_index("ix_xapi_outbox_due", "xapi_outbox", ["destination", "status", "next_attempt_at"])
    op.create_table(
        "xapi_destinations",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("endpoint", sa.String(1000), nullable=False),
        sa.Column("username", sa.String(300), nullable=True),
        sa.Column("password", sa.String(300), nullable=True),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("server_filters", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.PrimaryKeyConstraint("name", name="pk_xapi_destinations"),
    )


def downgrade() -> None:
    op.drop_table("xapi_destinations")
    op.drop_index("ix_xapi_outbox_due", table_name="xapi_outbox")
    op.drop_table("xapi_outbox")
