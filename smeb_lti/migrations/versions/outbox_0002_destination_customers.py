"""outbox: bind each upstream LRS to the customers whose statements it may receive

Revision ID: outbox_0002
Revises: outbox_0001
Create Date: 2026-12-07

``customers`` holds a JSON list of rules (``xapi.customers.CustomerMatch``: issuer, client_id,
deployment_id, context_id); NULL keeps today's meaning, every customer. Existing rows stay NULL:
the operator binds them with ``smeb lrs upstreams add NAME ... --customer ...`` (docs/delivery.md).
"""
import sqlalchemy as sa
from alembic import op

revision = "outbox_0002"
down_revision = "outbox_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("xapi_destinations", sa.Column("customers", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("xapi_destinations") as batch:
        batch.drop_column("customers")
