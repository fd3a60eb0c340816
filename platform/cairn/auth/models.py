"""Credentials stored per project. Secrets are never stored: only keyed hashes."""

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    func,
)

from cairn.db.metadata import metadata

API_KEY_SCOPES = ("read", "write", "service", "admin")

api_keys = Table(
    "api_keys",
    metadata,
    Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("id", Uuid, nullable=False),
    Column("name", String(100), nullable=False),
    # The public part of the token: how a key is looked up and shown after creation.
    Column("prefix", String(32), nullable=False),
    Column("key_hash", LargeBinary(32), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("rotated_from", Uuid),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("project_id", "prefix"),
    CheckConstraint(f"scope IN {API_KEY_SCOPES!r}", name="scope"),
)
