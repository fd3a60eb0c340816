"""Control plane: projects, api_keys, audit_log.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cairn_migrations.tenant_ops import enable_tenant_rls, grant_to_app
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "cairn"


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("schema_name", sa.String(63), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.UniqueConstraint("slug", name="uq_projects_slug"),
        sa.UniqueConstraint("schema_name", name="uq_projects_schema_name"),
        schema=SCHEMA,
    )
    grant_to_app("projects", "SELECT")

    op.create_table(
        "api_keys",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("rotated_from", sa.Uuid()),
        sa.CheckConstraint(
            "scope IN ('read', 'write', 'service', 'admin')", name="ck_api_keys_scope"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            [f"{SCHEMA}.projects.id"],
            ondelete="CASCADE",
            name="fk_api_keys_project_id_projects",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_api_keys"),
        sa.UniqueConstraint("project_id", "prefix", name="uq_api_keys_project_id_prefix"),
        schema=SCHEMA,
    )
    enable_tenant_rls("api_keys")
    grant_to_app("api_keys", "SELECT, INSERT, UPDATE, DELETE")

    op.create_table(
        "audit_log",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(200)),
        sa.Column(
            "detail", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            [f"{SCHEMA}.projects.id"],
            ondelete="CASCADE",
            name="fk_audit_log_project_id_projects",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_audit_log"),
        schema=SCHEMA,
    )
    enable_tenant_rls("audit_log")
    grant_to_app("audit_log", "SELECT, INSERT")


def downgrade() -> None:
    op.drop_table("audit_log", schema=SCHEMA)
    op.drop_table("api_keys", schema=SCHEMA)
    op.drop_table("projects", schema=SCHEMA)
