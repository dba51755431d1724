"""journal: the learner's wrapped keys and encrypted entries (zero knowledge: no plaintext column exists)

Revision ID: journal_0001
Revises:
Create Date: 2026-11-21

``depends_on = "lti_0001"``: rows belong to a platform registration (removed with it).
"""
import sqlalchemy as sa
from alembic import op

revision = "journal_0001"
down_revision = None
branch_labels = ("journal",)
depends_on = "lti_0001"

TS = sa.DateTime(timezone=True)


def _registration(table: str) -> sa.Column:
    return sa.Column(
        "registration_id", sa.Integer(),
        sa.ForeignKey("lti_registrations.id", ondelete="CASCADE", name=f"fk_{table}_registration_id_lti_registrations"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "journal_keyrings",
        sa.Column("id", sa.Integer(), primary_key=True),
        _registration("journal_keyrings"),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kdf", sa.String(32), nullable=False),
        # the data key wrapped (AES-KW) by PBKDF2-SHA256(passphrase, salt, iterations), base64url
        sa.Column("pass_iterations", sa.Integer(), nullable=False),
        sa.Column("pass_salt", sa.String(100), nullable=False),
        sa.Column("pass_wrapped", sa.String(100), nullable=False),
        # the same data key wrapped by PBKDF2-SHA256(recovery code, salt, iterations)
        sa.Column("recovery_iterations", sa.Integer(), nullable=False),
        sa.Column("recovery_salt", sa.String(100), nullable=False),
        sa.Column("recovery_wrapped", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("registration_id", "subject", name="uq_journal_keyrings_registration_id"),
    )
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        _registration("journal_entries"),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("entry_id", sa.String(36), nullable=False),  # UUID made by the browser (bound into the AES-GCM AAD)
        sa.Column("course_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # entry | reflection
        sa.Column("block_id", sa.String(100), nullable=True),  # the course's reflection block id (not its answer)
        sa.Column("iv", sa.String(16), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("registration_id", "subject", "entry_id", name="uq_journal_entries_registration_id"),
        sa.UniqueConstraint("registration_id", "subject", "course_key", "block_id", name="uq_journal_entries_prompt"),
    )


def downgrade() -> None:
    op.drop_table("journal_entries")
    op.drop_table("journal_keyrings")
