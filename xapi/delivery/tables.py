"""The outbox's two tables, on this package's own ``MetaData`` (``xapi`` imports nothing of ``smeb_lti``).

Apart from :mod:`xapi.delivery.outbox` so that :mod:`xapi.delivery.destinations` can read and write
``xapi_destinations`` without importing the outbox (which imports destinations): no import cycle.
The DDL itself is written out in the Alembic revisions ``outbox_0001`` and ``outbox_0002``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

__all__ = ["destinations_table", "metadata", "outbox_table"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements only INTEGER PRIMARY KEY

outbox_table = Table(
    "xapi_outbox",
    metadata,
    Column("id", _Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("destination", String(100), nullable=False),
    Column("item_id", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("lease_token", String(36)),
    Column("lease_until", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("destination", "item_id", name="uq_xapi_outbox_destination_item"),
    Index("ix_xapi_outbox_due", "destination", "status", "next_attempt_at"),
)

destinations_table = Table(
    "xapi_destinations",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("endpoint", String(1000), nullable=False),
    Column("username", String(300)),
    Column("password", String(300)),
    Column("version", String(16), nullable=False),
    Column("server_filters", Boolean, nullable=False),
    Column("customers", Text),  # JSON list of xapi.customers.CustomerMatch rules; NULL: every customer (outbox_0002)
)
