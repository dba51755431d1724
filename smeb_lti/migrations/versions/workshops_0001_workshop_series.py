"""workshops: workshop series across companies, their sessions, participants, attendance and hand-ins

Revision ID: workshops_0001
Revises:
Create Date: 2026-11-21

``depends_on = "lti_0001"``: series and companies belong to platform registrations.
"""
import sqlalchemy as sa
from alembic import op

revision = "workshops_0001"
down_revision = None
branch_labels = ("workshops",)
depends_on = "lti_0001"

TS = sa.DateTime(timezone=True)


def _registration(table: str) -> sa.Column:
    return sa.Column("registration_id", sa.Integer(),
                     sa.ForeignKey("lti_registrations.id", ondelete="CASCADE", name=f"fk_{table}_registration_id_lti_registrations"),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "workshop_series",
        sa.Column("id", sa.Integer(), primary_key=True),
        _registration("workshop_series"),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("context_id", sa.String(255), nullable=False),
        sa.Column("course_slug", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("join_code", sa.String(16), nullable=False),
        # facilitator-curated shared experiences (Markdown, rendered with content.markdown)
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("join_code", name="uq_workshop_series_join_code"),
    )
    op.create_table(
        "workshop_companies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("series_id", sa.Integer(),
                  sa.ForeignKey("workshop_series.id", ondelete="CASCADE", name="fk_workshop_companies_series_id_workshop_series"), nullable=False),
        _registration("workshop_companies"),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("context_id", sa.String(255), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("joined_at", TS, nullable=False),
        sa.UniqueConstraint("series_id", "registration_id", "deployment_id", "context_id", name="uq_workshop_companies_series_id"),
    )
    op.create_index("ix_workshop_companies_series_id", "workshop_companies", ["series_id"])
    op.create_table(
        "workshop_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("series_id", sa.Integer(),
                  sa.ForeignKey("workshop_series.id", ondelete="CASCADE", name="fk_workshop_sessions_series_id_workshop_series"), nullable=False),
        sa.Column("block_id", sa.String(100), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("assignment_block_id", sa.String(100), nullable=True),
        sa.Column("survey_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_workshop_sessions_series_id", "workshop_sessions", ["series_id"])
    op.create_table(
        "workshop_participants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("series_id", sa.Integer(),
                  sa.ForeignKey("workshop_series.id", ondelete="CASCADE", name="fk_workshop_participants_series_id_workshop_series"), nullable=False),
        sa.Column("company_id", sa.Integer(),
                  sa.ForeignKey("workshop_companies.id", ondelete="CASCADE", name="fk_workshop_participants_company_id_workshop_companies"),
                  nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("course_key", sa.String(200), nullable=False),
        sa.UniqueConstraint("company_id", "subject", name="uq_workshop_participants_company_id"),
    )
    op.create_index("ix_workshop_participants_series_id", "workshop_participants", ["series_id"])
    for table, column in (("workshop_attendance", "recorded_at"), ("workshop_submissions", "submitted_at")):
        op.create_table(
            table,
            sa.Column("session_id", sa.Integer(),
                      sa.ForeignKey("workshop_sessions.id", ondelete="CASCADE", name=f"fk_{table}_session_id_workshop_sessions"), primary_key=True),
            sa.Column("participant_id", sa.Integer(),
                      sa.ForeignKey("workshop_participants.id", ondelete="CASCADE", name=f"fk_{table}_participant_id_workshop_participants"),
                      primary_key=True),
            sa.Column(column, TS, nullable=False),
        )


def downgrade() -> None:
    for table in ("workshop_submissions", "workshop_attendance", "workshop_participants", "workshop_sessions", "workshop_companies",
                  "workshop_series"):
        op.drop_table(table)
