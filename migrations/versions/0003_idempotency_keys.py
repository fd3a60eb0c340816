"""Idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cairn_migrations.tenant_ops import enable_tenant_rls, grant_to_app
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "cairn"


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("principal", sa.String(100), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(32), nullable=False),
        sa.Column("status", sa.Integer()),
        sa.Column("headers", postgresql.JSONB()),
        sa.Column("body", sa.Text()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            [f"{SCHEMA}.projects.id"],
            ondelete="CASCADE",
            name="fk_idempotency_keys_project_id_projects",
        ),
        sa.PrimaryKeyConstraint("project_id", "principal", "key", name="pk_idempotency_keys"),
        schema=SCHEMA,
    )
    # The cleanup deletes by expiry.
    op.create_index(
        "ix_idempotency_keys_project_id_expires_at",
        "idempotency_keys",
        ["project_id", "expires_at"],
        schema=SCHEMA,
    )
    enable_tenant_rls("idempotency_keys")
    grant_to_app("idempotency_keys", "SELECT, INSERT, UPDATE, DELETE")


def downgrade() -> None:
    op.drop_table("idempotency_keys", schema=SCHEMA)
