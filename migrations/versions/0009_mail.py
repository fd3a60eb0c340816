"""Mails: the outbox of outgoing mail and the local mailbox.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cairn_migrations.tenant_ops import enable_tenant_rls, grant_to_app

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "cairn"


def upgrade() -> None:
    op.create_table(
        "mails",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text()),
        sa.Column("template", sa.String(63)),
        sa.Column("status", sa.String(16), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'failed', 'stored')", name="ck_mails_status"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            [f"{SCHEMA}.projects.id"],
            ondelete="CASCADE",
            name="fk_mails_project_id_projects",
        ),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_mails"),
        schema=SCHEMA,
    )
    # The sweeper looks for queued mails whose job was lost; the partial index stays small.
    op.create_index(
        "ix_mails_project_id_created_at_queued",
        "mails",
        ["project_id", "created_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'queued'"),
    )
    enable_tenant_rls("mails")
    grant_to_app("mails", "SELECT, INSERT, UPDATE, DELETE")


def downgrade() -> None:
    op.drop_table("mails", schema=SCHEMA)
