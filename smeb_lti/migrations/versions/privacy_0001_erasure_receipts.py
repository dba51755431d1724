"""privacy: receipts of learner erasures (what, how many, when, by whom; no personal data)

Revision ID: privacy_0001
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = "privacy_0001"
down_revision = None
branch_labels = ("privacy",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_erasures",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        # the operator or ticket reference, never the learner
        sa.Column("erased_by", sa.String(200), nullable=False),
        # the company's LMS (LTI issuer): which customer asked, so it can be told it is done
        sa.Column("platform_issuer", sa.String(512), nullable=False),
        # JSON {"store": rows changed}
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("voids_queued", sa.Integer(), nullable=False),
        sa.Column("certificates_kept", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_erasures"),
    )
    op.create_index("ix_privacy_erasures_erased_at", "privacy_erasures", ["erased_at"])


def downgrade() -> None:
    op.drop_index("ix_privacy_erasures_erased_at", table_name="privacy_erasures")
    op.drop_table("privacy_erasures")
