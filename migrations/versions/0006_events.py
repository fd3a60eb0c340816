"""The outbox of record events.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cairn_migrations.tenant_ops import enable_tenant_rls, grant_to_app
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "cairn"


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("collection", sa.String(63), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("record_version", sa.BigInteger(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("dispatched_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(
            ["project_id"],
            [f"{SCHEMA}.projects.id"],
            ondelete="CASCADE",
            name="fk_events_project_id_projects",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_events"),
        schema=SCHEMA,
    )
    # The sweeper looks for events not yet handed off; the partial index stays small.
    op.create_index(
        "ix_events_project_id_occurred_at_pending",
        "events",
        ["project_id", "occurred_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("dispatched_at IS NULL"),
    )
    enable_tenant_rls("events")
    grant_to_app("events", "SELECT, INSERT, UPDATE, DELETE")


def downgrade() -> None:
    op.drop_table("events", schema=SCHEMA)
