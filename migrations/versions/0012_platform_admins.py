"""Platform admins (the admin UI's accounts) and their server-side sessions.

Platform tables, not tenant tables: no project_id, no tenant policy. Only the owner role (the
admin UI's path, `Database.owner()`) uses them; the app role is granted nothing. Row-level
security is enabled without any policy as a second wall: were the app role ever granted the
tables, it would still see no row (the owner, not forced, is unaffected).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "cairn"


def upgrade() -> None:
    op.create_table(
        "admins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret", sa.LargeBinary()),
        sa.Column("totp_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("totp_last_counter", sa.BigInteger()),
        sa.Column("failed_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("failed_attempts >= 0", name="ck_admins_failed_attempts"),
        sa.PrimaryKeyConstraint("id", name="pk_admins"),
        schema=SCHEMA,
    )
    op.execute(f"CREATE UNIQUE INDEX uq_admins_lower_email ON {SCHEMA}.admins (lower(email))")

    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("admin_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idle_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("ip", sa.String(100)),
        sa.Column("user_agent", sa.String(300)),
        sa.ForeignKeyConstraint(
            ["admin_id"],
            [f"{SCHEMA}.admins.id"],
            ondelete="CASCADE",
            name="fk_admin_sessions_admin_id_admins",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_admin_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_admin_sessions_token_hash"),
        schema=SCHEMA,
    )
    op.create_index("ix_admin_sessions_admin_id", "admin_sessions", ["admin_id"], schema=SCHEMA)

    for table in ("admins", "admin_sessions"):
        op.execute(f"ALTER TABLE {SCHEMA}.{table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_table("admin_sessions", schema=SCHEMA)
    op.drop_table("admins", schema=SCHEMA)
