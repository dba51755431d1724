"""lrs: cmi5 state per registration *and AU*, imported course structures, a launch's customer and course

Revision ID: lrs_0003
Revises: lrs_0002
Create Date: 2026-12-07

cmi5 9.3 puts the once-only rules ("completed", "passed", "waived") per registration per AU, and
9.3.9 makes "satisfied" an LMS statement about blocks and the course. ``lrs_cmi5_registrations``
had one row per registration; it now has one row per (registration, node): an AU (by its generated
activity id: completed, passed, failed, waived, satisfied = moveOn met) or a block/course object
(satisfied = the LMS recorded "satisfied" for it). Old rows become the row of their AU; a
registration that was satisfied also gets the row of its course (the course id of its sessions).
"""
import sqlalchemy as sa
from alembic import op

revision = "lrs_0003"
down_revision = "lrs_0002"
branch_labels = None
depends_on = None

IRI = sa.String(2048)
FLAGS = ("completed", "passed", "failed", "satisfied")


def upgrade() -> None:
    op.create_table(
        "lrs_cmi5_courses",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", IRI, nullable=False),  # the LMS-generated course object id (9.4)
        sa.Column("publisher_id", IRI, nullable=False),
        sa.Column("structure_json", sa.Text(), nullable=False),
        sa.Column("imported_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "activity_id", name="pk_lrs_cmi5_courses"),
    )
    op.add_column("lrs_cmi5_sessions", sa.Column("customer_json", sa.Text(), nullable=True))
    op.add_column("lrs_cmi5_sessions", sa.Column("course_publisher_id", IRI, nullable=True))
    conn = op.get_bind()
    old = conn.execute(sa.text("SELECT tenant_id, registration, activity_id, completed, passed, failed, satisfied FROM lrs_cmi5_registrations")).mappings().all()
    courses = {
        (row["tenant_id"], row["registration"]): row["course_id"]
        for row in conn.execute(sa.text("SELECT tenant_id, registration, course_id FROM lrs_cmi5_sessions")).mappings()
    }
    op.drop_table("lrs_cmi5_registrations")
    table = op.create_table(
        "lrs_cmi5_registrations",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("registration", sa.String(36), nullable=False),
        sa.Column("activity_id", IRI, nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("waived", sa.Boolean(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "registration", "activity_id", name="pk_lrs_cmi5_registrations"),
    )
    rows = []
    for row in old:
        rows.append({**{k: row[k] for k in ("tenant_id", "registration", "activity_id")}, **{f: bool(row[f]) for f in FLAGS}, "waived": False})
        course = courses.get((row["tenant_id"], row["registration"]))
        if row["satisfied"] and course and course != row["activity_id"]:
            rows.append({"tenant_id": row["tenant_id"], "registration": row["registration"], "activity_id": course,
                         "completed": False, "passed": False, "failed": False, "waived": False, "satisfied": True})
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    conn = op.get_bind()
    aus = {
        (row["tenant_id"], row["registration"], row["activity_id"])
        for row in conn.execute(sa.text("SELECT tenant_id, registration, activity_id FROM lrs_cmi5_sessions")).mappings()
    }
    rows = conn.execute(sa.text("SELECT * FROM lrs_cmi5_registrations")).mappings().all()
    kept: dict[tuple[int, str], dict] = {}
    for row in rows:  # one row per registration again: its (first) AU's, satisfied when anything in it was
        key = (row["tenant_id"], row["registration"])
        if (*key, row["activity_id"]) in aus and key not in kept:
            kept[key] = {"tenant_id": key[0], "registration": key[1], "activity_id": row["activity_id"],
                         **{f: bool(row[f]) for f in FLAGS}}
    for row in rows:
        key = (row["tenant_id"], row["registration"])
        if key in kept and row["satisfied"]:
            kept[key]["satisfied"] = True
    op.drop_table("lrs_cmi5_registrations")
    table = op.create_table(
        "lrs_cmi5_registrations",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("registration", sa.String(36), nullable=False),
        sa.Column("activity_id", IRI, nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "registration", name="pk_lrs_cmi5_registrations"),
    )
    if kept:
        op.bulk_insert(table, list(kept.values()))
    with op.batch_alter_table("lrs_cmi5_sessions") as batch:
        batch.drop_column("customer_json")
        batch.drop_column("course_publisher_id")
    op.drop_table("lrs_cmi5_courses")
