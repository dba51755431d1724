"""cert: each certificate's position in the published Bitstring Status List (revocation)

Revision ID: cert_0002
Revises: cert_0001
Create Date: 2026-12-07

Certificates issued before this revision have no position: their Open Badge credentials carry no
``credentialStatus`` and nothing can add one without re-signing (docs/certificates.md says so).
"""
import sqlalchemy as sa
from alembic import op

revision = "cert_0002"
down_revision = "cert_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cert_certificates", sa.Column("status_list_index", sa.Integer(), nullable=True))
    # Unique: two certificates sharing a bit would be revoked together.
    op.create_index("ux_cert_certificates_status_list_index", "cert_certificates", ["status_list_index"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_cert_certificates_status_list_index", table_name="cert_certificates")
    with op.batch_alter_table("cert_certificates") as batch:
        batch.drop_column("status_list_index")
