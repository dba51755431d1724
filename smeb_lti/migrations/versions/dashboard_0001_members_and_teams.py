"""dashboard: who of a company took which course (seen at launch), and the team an admin assigned

Revision ID: dashboard_0001
Revises:
Create Date: 2026-11-21

``depends_on = "lti_0001"``: members belong to a platform registration (removed with it).
"""
import sqlalchemy as sa
from alembic import op

revision = "dashboard_0001"
down_revision = None
branch_labels = ("dashboard",)
depends_on = "lti_0001"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dashboard_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "registration_id",
            sa.Integer(),
            sa.ForeignKey("lti_registrations.id", ondelete="CASCADE", name="fk_dashboard_members_registration_id_lti_registrations"),
            nullable=False,
        ),
        # the company: deployment + LMS course context of that registration
        sa.Column("deployment_id", sa.String(255), nullable=False),
        sa.Column("context_id", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        # the course slug, or slug/module (the player host's course_key)
        sa.Column("course_key", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        # group/section the LMS sent with the launch (custom team=..., or the LIS course section)
        sa.Column("lms_team", sa.String(100), nullable=True),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.UniqueConstraint("registration_id", "deployment_id", "context_id", "subject", "course_key", name="uq_dashboard_members_registration_id"),
    )
    op.create_index("ix_dashboard_members_tenant", "dashboard_members", ["registration_id", "deployment_id", "context_id"])
    op.create_table(
        "dashboard_teams",
        sa.Column(
            "registration_id",
            sa.Integer(),
            sa.ForeignKey("lti_registrations.id", ondelete="CASCADE", name="fk_dashboard_teams_registration_id_lti_registrations"),
            primary_key=True,
        ),
        sa.Column("deployment_id", sa.String(255), primary_key=True),
        sa.Column("context_id", sa.String(255), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        # assigned by an administrator in the dashboard; wins over the LMS's team
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("assigned_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dashboard_teams")
    op.drop_index("ix_dashboard_members_tenant", table_name="dashboard_members")
    op.drop_table("dashboard_members")
