"""lrs: "auth" index links (statements/read/mine for Basic credentials) and a shared secrets table

Revision ID: lrs_0002
Revises: lrs_0001
Create Date: 2026-11-21
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "lrs_0002"
down_revision = "lrs_0001"
branch_labels = None
depends_on = None


def _authority_ifi(authority: object) -> str | None:
    # Same rule as smeb_lti.lrs.statements.agent_ifi, frozen here so the migration never changes meaning.
    if not isinstance(authority, dict):
        return None
    if isinstance(authority.get("mbox"), str):
        return "mbox:" + authority["mbox"].lower()
    if isinstance(authority.get("mbox_sha1sum"), str):
        return "mbox_sha1sum:" + authority["mbox_sha1sum"].lower()
    if isinstance(authority.get("openid"), str):
        return "openid:" + authority["openid"]
    account = authority.get("account")
    if isinstance(account, dict) and isinstance(account.get("homePage"), str) and isinstance(account.get("name"), str):
        return "account:" + account["homePage"] + "|" + account["name"]
    return None


def upgrade() -> None:
    # One secret per name shared by every worker process (launch-token key when none is configured).
    op.create_table(
        "lrs_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
    )
    bind = op.get_bind()
    statements = sa.table("lrs_statements", sa.column("seq"), sa.column("tenant_id"), sa.column("full_json"))
    links = sa.table("lrs_statement_links", sa.column("seq"), sa.column("tenant_id"), sa.column("kind"), sa.column("value"), sa.column("direct"))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(statements.c.seq, statements.c.tenant_id, statements.c.full_json).where(statements.c.seq > last).order_by(statements.c.seq).limit(1000)
        ).all()
        if not rows:
            break
        last = rows[-1].seq
        new = []
        for row in rows:
            ifi = _authority_ifi(json.loads(row.full_json).get("authority"))
            if ifi:
                new.append({"seq": row.seq, "tenant_id": row.tenant_id, "kind": "auth", "value": ifi, "direct": True})
        if new:
            bind.execute(sa.insert(links), new)


def downgrade() -> None:
    op.execute("DELETE FROM lrs_statement_links WHERE kind = 'auth'")
    op.drop_table("lrs_secrets")
