"""forum: profiles, threads, posts, reports, notifications and moderators of the cross-company course forum

Revision ID: forum_0001
Revises:
Create Date: 2026-11-21

``depends_on = "lti_0001"``: profiles belong to a platform registration (removed with it).
"""
import sqlalchemy as sa
from alembic import op

revision = "forum_0001"
down_revision = None
branch_labels = ("forum",)
depends_on = "lti_0001"

TS = sa.DateTime(timezone=True)


def _fk(column: str, table: str, target: str, ondelete: str = "CASCADE", nullable: bool = False) -> sa.Column:
    return sa.Column(column, sa.Integer(), sa.ForeignKey(f"{target}.id", ondelete=ondelete, name=f"fk_{table}_{column}_{target}"),
                     nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "forum_profiles",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("registration_id", "forum_profiles", "lti_registrations"),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(60), nullable=False),  # chosen by the learner, not the LMS name unless chosen
        sa.Column("trade", sa.String(40), nullable=False),
        sa.Column("employer", sa.String(100), nullable=True),  # shown only when the learner fills it in
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("registration_id", "subject", name="uq_forum_profiles_registration_id"),
    )
    op.create_table(
        "forum_threads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("course_key", sa.String(200), nullable=False),  # the course slug: shared by every company running it
        sa.Column("module_id", sa.String(100), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        _fk("author_id", "forum_threads", "forum_profiles"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_post_at", TS, nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_forum_threads_course_key", "forum_threads", ["course_key"])
    op.create_table(
        "forum_posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("thread_id", "forum_posts", "forum_threads"),
        _fk("parent_id", "forum_posts", "forum_posts", ondelete="SET NULL", nullable=True),
        _fk("author_id", "forum_posts", "forum_profiles"),
        sa.Column("body", sa.Text(), nullable=False),  # Markdown source
        sa.Column("created_at", TS, nullable=False),
        sa.Column("edited_at", TS, nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("statement_id", sa.String(36), nullable=True),  # the xAPI statement that recorded it (for in-reply-to refs)
    )
    op.create_index("ix_forum_posts_thread_id", "forum_posts", ["thread_id"])
    op.create_index("ix_forum_posts_author_id", "forum_posts", ["author_id"])
    op.create_table(
        "forum_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("post_id", "forum_reports", "forum_posts"),
        _fk("reporter_id", "forum_reports", "forum_profiles"),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("post_id", "reporter_id", name="uq_forum_reports_post_id"),
    )
    op.create_table(
        "forum_notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("profile_id", "forum_notifications", "forum_profiles"),
        _fk("post_id", "forum_notifications", "forum_posts"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS, nullable=True),
    )
    op.create_index("ix_forum_notifications_profile_id", "forum_notifications", ["profile_id"])
    op.create_table(
        "forum_moderators",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.UniqueConstraint("issuer", "subject", name="uq_forum_moderators_issuer"),
    )


def downgrade() -> None:
    for table in ("forum_moderators", "forum_notifications", "forum_reports", "forum_posts", "forum_threads", "forum_profiles"):
        op.drop_table(table)
