"""Append to the audit log of the project the transaction is scoped to."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Connection, insert

from cairn.audit.models import audit_log
from cairn.db.ids import new_id


def record(
    conn: Connection,
    project_id: UUID,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(audit_log).values(
            project_id=project_id,
            id=new_id(),
            actor=actor,
            action=action,
            target=target,
            detail=detail or {},
        )
    )
