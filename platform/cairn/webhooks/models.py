"""Webhooks, their deliveries (one per event and webhook) and every delivery attempt."""

from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)

from cairn.db.metadata import metadata

webhooks = Table(
    "webhooks",
    metadata,
    Column("project_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("name", String(63), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", ARRAY(String(40)), nullable=False),
    # Empty: every collection.
    Column("collections", ARRAY(String(63)), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="true"),
    # The signing secret must be used, so it is encrypted (Fernet), not hashed.
    Column("secret_encrypted", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("project_id", "name"),
    ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("project_id", Uuid, nullable=False),
    # Also the `webhook-id` header: the same across retries, so receivers can dedupe.
    Column("id", Uuid, nullable=False),
    Column("webhook_id", Uuid, nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    # Raised by a redelivery, so it gets a full series of attempts of its own.
    Column("attempt_limit", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("project_id", "webhook_id", "event_id"),
    ForeignKeyConstraint(
        ["project_id", "webhook_id"], ["webhooks.project_id", "webhooks.id"], ondelete="CASCADE"
    ),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("project_id", Uuid, nullable=False),
    Column("delivery_id", Uuid, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("response_excerpt", Text),
    PrimaryKeyConstraint("project_id", "delivery_id", "attempt"),
    ForeignKeyConstraint(
        ["project_id", "delivery_id"],
        ["deliveries.project_id", "deliveries.id"],
        ondelete="CASCADE",
    ),
)
