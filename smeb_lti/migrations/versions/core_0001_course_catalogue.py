"""core: the catalogue of installed courses

Revision ID: core_0001
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("slug", sa.String(64), primary_key=True),
        sa.Column("iri", sa.String(512), nullable=False, unique=True),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("title_nb", sa.String(300), nullable=False),
        sa.Column("title_en", sa.String(300), nullable=False),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("model_json", sa.Text(), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("courses")
