"""The registry of collection definitions: what each project's tables are meant to be."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSON

from cairn.db.metadata import metadata

collections = Table(
    "collections",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(63), nullable=False),
    # json, not jsonb: the definition keeps its field order as declared.
    Column("definition", JSON, nullable=False),
    # Bumped on every applied change: caches of validators and tables key on it.
    Column("version", BigInteger, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("project_id", "name"),
)
