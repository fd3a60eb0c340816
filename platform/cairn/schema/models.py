"""The registry of collection definitions: what each project's tables are meant to be."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Table,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSON

from cairn.db.metadata import metadata

VERSIONS = Sequence("collection_versions", schema="cairn", metadata=metadata)

collections = Table(
    "collections",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(63), nullable=False),
    # json, not jsonb: the definition keeps its field order as declared.
    Column("definition", JSON, nullable=False),
    # From one sequence, on every applied change: caches of validators and tables key on it,
    # so a version is never reused, not even after a drop and a new declaration.
    Column("version", BigInteger, VERSIONS, nullable=False, server_default=VERSIONS.next_value()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("project_id", "name"),
)
