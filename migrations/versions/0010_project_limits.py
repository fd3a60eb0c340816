"""Per-project rate limits on the project directory row.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # On the directory row, so the cached project lookup every request makes carries them.
    op.add_column(
        "projects",
        sa.Column(
            "limits", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        schema="cairn",
    )


def downgrade() -> None:
    op.drop_column("projects", "limits", schema="cairn")
