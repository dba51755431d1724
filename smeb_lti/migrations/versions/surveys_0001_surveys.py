"""surveys: scheduled pulse surveys and course evaluations, and their anonymous answers

Revision ID: surveys_0001
Revises:
Create Date: 2026-11-21

``depends_on = "lti_0001"``: a survey belongs to a company (platform registration, deployment, context).
Answers carry no learner id and no timestamp; ``token`` (a keyed HMAC of learner, survey and period)
exists only while the period is open and is set to NULL when it closes.
"""
import sqlalchemy as sa
from alembic import op

revision = "surveys_0001"
down_revision = None
branch_labels = ("surveys",)
depends_on = "lti_0001"


def upgrade() -> None:
    op.create_table(
        "survey_surveys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("registration_id", sa.Integer(),
                  sa.ForeignKey("lti_registrations.id", ondelete="CASCADE", name="fk_survey_surveys_registration_id_lti_registrations"),
                  nullable=False),
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("context_id", sa.String(255), nullable=False),
        # a survey of a workshop series (smeb_lti.workshops); no foreign key so the branches stay independent
        sa.Column("series_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("frequency", sa.String(16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_survey_surveys_tenant", "survey_surveys", ["registration_id", "deployment_id", "context_id"])
    op.create_index("ix_survey_surveys_series_id", "survey_surveys", ["series_id"])
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("survey_id", sa.String(32),
                  sa.ForeignKey("survey_surveys.id", ondelete="CASCADE", name="fk_survey_answers_survey_id_survey_surveys"), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(64), nullable=False),
        sa.Column("token", sa.String(64), nullable=True),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.UniqueConstraint("token", name="uq_survey_answers_token"),
    )
    op.create_index("ix_survey_answers_survey_id", "survey_answers", ["survey_id"])


def downgrade() -> None:
    op.drop_table("survey_answers")
    op.drop_table("survey_surveys")
