"""Per-project schedules and their runs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cairn_migrations.tenant_ops import enable_tenant_rls, grant_to_app
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "cairn"


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("cron", sa.String(120), nullable=False),
        sa.Column("timezone", sa.String(64), server_default="UTC", nullable=False),
        sa.Column("action", postgresql.JSONB(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True)),
        sa.Column("last_run_at", sa.DateTime(timezone=True)),
        sa.Column("last_status", sa.String(16)),
        sa.Column("last_error", sa.Text()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            [f"{SCHEMA}.projects.id"],
            ondelete="CASCADE",
            name="fk_schedules_project_id_projects",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_schedules"),
        sa.UniqueConstraint("project_id", "name", name="uq_schedules_project_id_name"),
        schema=SCHEMA,
    )
    # The scheduler asks each project for enabled schedules that are due.
    op.create_index(
        "ix_schedules_project_id_next_run_at",
        "schedules",
        ["project_id", "next_run_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("enabled"),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("schedule_id", sa.Uuid(), nullable=False),
        sa.Column("tick", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), server_default="queued", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("result", postgresql.JSONB()),
        sa.Column("error", sa.Text()),
        sa.ForeignKeyConstraint(
            ["project_id", "schedule_id"],
            [f"{SCHEMA}.schedules.project_id", f"{SCHEMA}.schedules.id"],
            ondelete="CASCADE",
            name="fk_schedule_runs_project_id_schedules",
        ),
        sa.PrimaryKeyConstraint("project_id", "schedule_id", "tick", name="pk_schedule_runs"),
        schema=SCHEMA,
    )
    for table in ("schedules", "schedule_runs"):
        enable_tenant_rls(table)
        grant_to_app(table, "SELECT, INSERT, UPDATE, DELETE")


def downgrade() -> None:
    op.drop_table("schedule_runs", schema=SCHEMA)
    op.drop_table("schedules", schema=SCHEMA)
