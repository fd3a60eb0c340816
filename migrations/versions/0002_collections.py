"""Collections registry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cairn_migrations.tenant_ops import enable_tenant_rls, grant_to_app
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "cairn"


def upgrade() -> None:
    op.create_table(
        "collections",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        # json, not jsonb: the definition keeps its field order as declared.
        sa.Column("definition", postgresql.JSON(), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
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
            name="fk_collections_project_id_projects",
        ),
        sa.PrimaryKeyConstraint("project_id", "name", name="pk_collections"),
        schema=SCHEMA,
    )
    enable_tenant_rls("collections")
    # Definitions change only through the owner path (DDL); requests read them.
    grant_to_app("collections", "SELECT")


def downgrade() -> None:
    op.drop_table("collections", schema=SCHEMA)
