"""Stored first responses of idempotent writes, per project and credential, for 24 hours."""

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from cairn.db.metadata import metadata

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    # Who sent it: a key of one credential never replays another credential's response.
    Column("principal", String(100), nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", LargeBinary(32), nullable=False),
    Column("status", Integer),
    Column("headers", JSONB),
    Column("body", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("project_id", "principal", "key"),
)
