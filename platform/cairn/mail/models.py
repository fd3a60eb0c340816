"""Mails: the outbox of outgoing mail and, with no SMTP configured, the local mailbox."""

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)

from cairn.db.metadata import metadata

# queued: waiting for (or between) delivery attempts; sent: accepted by the SMTP server;
# failed: refused for good, or out of retries; stored: kept in the local mailbox (no SMTP).
MAIL_STATUSES = ("queued", "sent", "failed", "stored")

mails = Table(
    "mails",
    metadata,
    Column("project_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("to_address", String(320), nullable=False),
    Column("subject", Text, nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text),
    Column("template", String(63)),
    Column("status", String(16), nullable=False, server_default="queued"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("project_id", "id"),
    ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
    CheckConstraint(f"status IN {MAIL_STATUSES!r}", name="status"),
    # The sweeper looks for queued mails whose job was lost; the partial index stays small.
    Index(
        "ix_mails_project_id_created_at_queued",
        "project_id",
        "created_at",
        postgresql_where=text("status = 'queued'"),
    ),
)
