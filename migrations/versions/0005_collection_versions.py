"""Collection versions from one sequence: a version is never reused, not even by a
collection that is dropped and declared again (caches key on it).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE cairn.collection_versions")
    # Start past every version already handed out, across all projects (the owner reads
    # them with forced RLS lifted inside this transaction only).
    op.execute("ALTER TABLE cairn.collections NO FORCE ROW LEVEL SECURITY")
    op.execute(
        "SELECT setval('cairn.collection_versions', "
        "(SELECT coalesce(max(version), 0) + 1 FROM cairn.collections), false)"
    )
    op.execute("ALTER TABLE cairn.collections FORCE ROW LEVEL SECURITY")
    op.execute(
        "ALTER TABLE cairn.collections "
        "ALTER COLUMN version SET DEFAULT nextval('cairn.collection_versions')"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE cairn.collections ALTER COLUMN version SET DEFAULT 1")
    op.execute("DROP SEQUENCE cairn.collection_versions")
