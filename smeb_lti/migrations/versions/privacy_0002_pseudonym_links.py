"""privacy: links from the one-per-LMS pseudonyms to the per-customer ones (``smeb learner migrate-pseudonyms``)

Revision ID: privacy_0002
Revises: privacy_0001
Create Date: 2026-12-07

Statements made before pseudonyms were keyed per customer carry the legacy account name (one per
learner and LMS). The command fills this table with legacy name -> per-customer name for every
learner the tool knows, so reports can join old and new records of one customer, and an erasure
removes the rows with the learner (docs/privacy.md). No LMS user id or name is stored here.
"""
import sqlalchemy as sa
from alembic import op

revision = "privacy_0002"
down_revision = "privacy_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_pseudonym_links",
        sa.Column("legacy_name", sa.String(64), nullable=False),
        sa.Column("actor_name", sa.String(64), nullable=False),
        # the customer the new name belongs to (LTI platform, client, deployment, LMS course context)
        sa.Column("platform_issuer", sa.String(512), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=True),
        sa.Column("deployment_id", sa.String(255), nullable=True),
        sa.Column("context_id", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("legacy_name", "actor_name", name="pk_privacy_pseudonym_links"),
    )
    op.create_index("ix_privacy_pseudonym_links_actor_name", "privacy_pseudonym_links", ["actor_name"])


def downgrade() -> None:
    op.drop_index("ix_privacy_pseudonym_links_actor_name", table_name="privacy_pseudonym_links")
    op.drop_table("privacy_pseudonym_links")
