"""ags: what each line item last received for each learner, and a "superseded" outbox status

Revision ID: ags_0001
Revises:
Create Date: 2026-12-07

``ags_line_item_scores`` has one row per (platform registration, LTI user, line item): the grade
last queued for that line item and the timestamp it carried. Scores get strictly increasing
timestamps from it (Moodle refuses a score whose timestamp, in whole seconds, is not later than
the grade on record: 409), a second activity for the same course learns the current grade from
it, and the older of two scores waiting for the same line item and user is settled as
``superseded`` instead of being sent.

The outbox's CHECK on ``status`` gains ``superseded``. SQLite cannot alter a constraint, so the
table is copied there (Alembic batch mode); PostgreSQL replaces the constraint in place.
"""
import sqlalchemy as sa
from alembic import op

revision = "ags_0001"
down_revision = None
branch_labels = ("ags",)
depends_on = ("lti_0001", "outbox_0001")

TS = sa.DateTime(timezone=True)
STATUS = "ck_xapi_outbox_status"


def _outbox_statuses(condition: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("xapi_outbox", recreate="always") as batch:
            batch.drop_constraint(STATUS, type_="check")
            batch.create_check_constraint(STATUS, sa.text(condition))
    else:
        op.drop_constraint(STATUS, "xapi_outbox", type_="check")
        op.create_check_constraint(STATUS, "xapi_outbox", sa.text(condition))


def upgrade() -> None:
    op.create_table(
        "ags_line_item_scores",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "registration_id",
            sa.Integer(),
            sa.ForeignKey("lti_registrations.id", ondelete="CASCADE", name="fk_ags_line_item_scores_registration_id_lti_registrations"),
            nullable=False,
        ),
        # the platform's `sub` (the score's userId)
        sa.Column("subject", sa.String(255), nullable=False),
        # sha256 of the line item URL (URLs may be long; the key must be indexable everywhere)
        sa.Column("lineitem_key", sa.String(64), nullable=False),
        sa.Column("lineitem", sa.Text(), nullable=False),
        # what was last queued for this line item ("given|activity|grading"), so unchanged grades post nothing
        sa.Column("grade_key", sa.String(100), nullable=True),
        # the timestamp of that score: the next one is at least one second later
        sa.Column("last_timestamp", TS, nullable=True),
        # its outbox item id, so a newer score can supersede it while it still waits
        sa.Column("last_item_id", sa.String(64), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("registration_id", "subject", "lineitem_key", name="uq_ags_line_item_scores_registration_id"),
    )
    _outbox_statuses("status IN ('pending', 'delivered', 'parked', 'superseded')")


def downgrade() -> None:
    # A superseded score needs nothing more: it counts as settled, like a delivered one.
    op.execute("UPDATE xapi_outbox SET status = 'delivered' WHERE status = 'superseded'")
    _outbox_statuses("status IN ('pending', 'delivered', 'parked')")
    op.drop_table("ags_line_item_scores")
