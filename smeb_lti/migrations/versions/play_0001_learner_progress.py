"""play: learner progress per (platform registration, LTI user, course) and the events already applied

Revision ID: play_0001
Revises:
Create Date: 2026-11-21

``depends_on = "lti_0001"``: progress rows belong to a platform registration (removed with it).
"""
import sqlalchemy as sa
from alembic import op

revision = "play_0001"
down_revision = None
branch_labels = ("play",)
depends_on = "lti_0001"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "play_progress",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "registration_id",
            sa.Integer(),
            sa.ForeignKey("lti_registrations.id", ondelete="CASCADE", name="fk_play_progress_registration_id_lti_registrations"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(255), nullable=False),
        # the course slug, or slug/module for a module-only link
        sa.Column("course_key", sa.String(200), nullable=False),
        sa.Column("course_version", sa.String(32), nullable=False),
        # the xAPI registration (one attempt) of this learner in this course
        sa.Column("attempt", sa.String(36), nullable=False),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        # quiz answers as checked by the server: {"block id": ["choice id", ...]}
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("max_points", sa.Float(), nullable=False),
        # what was last queued for the platform's gradebook (so unchanged progress posts nothing)
        sa.Column("grade_key", sa.String(100), nullable=True),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.UniqueConstraint("registration_id", "subject", "course_key", name="uq_play_progress_registration_id"),
    )
    op.create_table(
        "play_events",
        sa.Column(
            "progress_id",
            sa.Integer(),
            sa.ForeignKey("play_progress.id", ondelete="CASCADE", name="fk_play_events_progress_id_play_progress"),
            primary_key=True,
        ),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("received_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("play_events")
    op.drop_table("play_progress")
