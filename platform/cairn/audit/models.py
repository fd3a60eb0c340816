"""Who did what to a project. Append-only for the app role."""

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from cairn.db.metadata import metadata

audit_log = Table(
    "audit_log",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("id", Uuid, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target", String(200)),
    Column("detail", JSONB, nullable=False, server_default="{}"),
    # Where the action came from (an IP, "cli"): the request entry sets cairn.source.
    Column("source", String(100)),
    PrimaryKeyConstraint("project_id", "id"),
)
