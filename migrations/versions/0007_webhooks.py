"""Webhooks, deliveries and delivery attempts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cairn_migrations.tenant_ops import enable_tenant_rls, grant_to_app

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "cairn"


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", sa.ARRAY(sa.String(40)), nullable=False),
        sa.Column("collections", sa.ARRAY(sa.String(63)), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
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
            name="fk_webhooks_project_id_projects",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_webhooks"),
        sa.UniqueConstraint("project_id", "name", name="uq_webhooks_project_id_name"),
        schema=SCHEMA,
    )
    op.create_table(
        "deliveries",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        # Raised by a redelivery, so it gets a full series of attempts of its own.
        sa.Column("attempt_limit", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_status_code", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["project_id", "webhook_id"],
            [f"{SCHEMA}.webhooks.project_id", f"{SCHEMA}.webhooks.id"],
            ondelete="CASCADE",
            name="fk_deliveries_project_id_webhooks",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_deliveries"),
        sa.UniqueConstraint(
            "project_id",
            "webhook_id",
            "event_id",
            name="uq_deliveries_project_id_webhook_id_event_id",
        ),
        schema=SCHEMA,
    )
    # The sweeper finds pending deliveries that are due (a worker died mid-delivery).
    op.create_index(
        "ix_deliveries_project_id_next_attempt_at_pending",
        "deliveries",
        ["project_id", "next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("response_excerpt", sa.Text()),
        sa.ForeignKeyConstraint(
            ["project_id", "delivery_id"],
            [f"{SCHEMA}.deliveries.project_id", f"{SCHEMA}.deliveries.id"],
            ondelete="CASCADE",
            name="fk_delivery_attempts_project_id_deliveries",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "delivery_id", "attempt", name="pk_delivery_attempts"
        ),
        schema=SCHEMA,
    )
    for table in ("webhooks", "deliveries", "delivery_attempts"):
        enable_tenant_rls(table)
        grant_to_app(table, "SELECT, INSERT, UPDATE, DELETE")


def downgrade() -> None:
    for table in ("delivery_attempts", "deliveries", "webhooks"):
        op.drop_table(table, schema=SCHEMA)
