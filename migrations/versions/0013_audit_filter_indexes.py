"""Indexes behind the audit log's other filters.

The action filter has had its index since 0011. The target ("what happened to this key")
and the actor ("what did this admin do") are read like it: equal, newest first, so each gets
(project_id, column, id) and a page is read backwards off it and stops after the page. A
time window gets (project_id, occurred_at), so a window long past is a range of that index
rather than a walk back from the newest entry.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "cairn"
INDEXES = {
    "ix_audit_log_project_id_target_id": ["project_id", "target", "id"],
    "ix_audit_log_project_id_actor_id": ["project_id", "actor", "id"],
    "ix_audit_log_project_id_occurred_at": ["project_id", "occurred_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "audit_log", columns, schema=SCHEMA)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, "audit_log", schema=SCHEMA)
