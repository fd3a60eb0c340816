"""The outbox: one row per record change, written in the same statement as the change."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from cairn.db.metadata import metadata

events = Table(
    "events",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("id", Uuid, nullable=False),
    Column("type", String(40), nullable=False),
    Column("collection", String(63), nullable=False),
    Column("record_id", Uuid, nullable=False),
    Column("record_version", BigInteger, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Set once the event has been handed to the delivery pipeline.
    Column("dispatched_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("project_id", "id"),
    Index(
        "ix_events_project_id_occurred_at_pending",
        "project_id",
        "occurred_at",
        postgresql_where=text("dispatched_at IS NULL"),
    ),
)
