"""Schedules and their runs. A run row per (schedule, tick) is what makes a tick fire once,
however many schedulers are running: the one whose INSERT lands enqueues it."""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from cairn.db.metadata import metadata

schedules = Table(
    "schedules",
    metadata,
    Column("project_id", Uuid, nullable=False),
    Column("id", Uuid, nullable=False),
    Column("name", String(63), nullable=False),
    Column("cron", String(120), nullable=False),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("action", JSONB, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="true"),
    Column("next_run_at", DateTime(timezone=True)),
    Column("last_run_at", DateTime(timezone=True)),
    Column("last_status", String(16)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("project_id", "name"),
    ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
)

schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("project_id", Uuid, nullable=False),
    Column("schedule_id", Uuid, nullable=False),
    Column("tick", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, server_default="queued"),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("result", JSONB),
    Column("error", Text),
    PrimaryKeyConstraint("project_id", "schedule_id", "tick"),
    ForeignKeyConstraint(
        ["project_id", "schedule_id"],
        ["schedules.project_id", "schedules.id"],
        ondelete="CASCADE",
    ),
)
