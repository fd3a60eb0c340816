"""The audit log of the project the transaction is scoped to: append, and list newest first.

Ids are UUIDv7, so "newest first" is `id DESC` and a page ends at an id: the next page is
everything older than it, whatever was appended meanwhile (no skip, no repeat).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, FromClause, Select, func, insert, select, true

from cairn.audit.models import audit_log
from cairn.db.ids import new_id
from cairn.errors import BadRequest


@dataclass(frozen=True)
class AuditEntry:
    id: UUID
    occurred_at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any]
    # Where the action came from: the client's address, "cli", or None (e.g. a worker).
    source: str | None


def record(
    conn: Connection,
    project_id: UUID,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append an entry. Its time and source come from the transaction (now(), and the
    `cairn.source` setting the request or CLI entered with)."""
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


_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_time(text: str, name: str) -> datetime:
    """An RFC 3339 date-time with its offset (`2024-05-01T12:00:00Z`), as UTC."""
    if not _RFC3339.match(text):
        raise BadRequest(
            f"{name} must be an RFC 3339 date-time with an offset, e.g. 2024-05-01T12:00:00Z "
            "(in a URL, write + as %2B)"
        )
    try:
        return datetime.fromisoformat(text.upper()).astimezone(UTC)
    except ValueError:
        raise BadRequest(f"{name} is not a real date-time") from None
    except OverflowError:
        raise BadRequest(f"{name} is outside the years 1 to 9999 (in UTC)") from None


_TEXT_LIMITS = {"action": 100, "actor": 200, "target": 200}  # the columns' lengths


def _check_text(name: str, value: str | None) -> None:
    if value is None:
        return
    if not value:
        raise BadRequest(f"{name} must not be empty")
    if len(value) > _TEXT_LIMITS[name]:
        raise BadRequest(f"{name} must be at most {_TEXT_LIMITS[name]} characters")
    if "\x00" in value:
        raise BadRequest(f"{name} contains a NUL character (\\u0000)")


_FIELDS = list(AuditEntry.__dataclass_fields__)
# The filters other than the action, on one alias of the table.
_Conditions = Callable[[FromClause], list[ColumnElement[bool]]]


def list_entries(
    conn: Connection,
    project_id: UUID,
    *,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
    before: UUID | None = None,
) -> tuple[list[AuditEntry], bool]:
    """A page of entries, newest first, older than `before` (an entry id) when given; True
    if more follow. `action` is exact, or a prefix when it ends in '.' (`api_key.`); `actor`
    and `target` are exact; `since` is inclusive, `until` exclusive. One statement."""
    if limit < 1:
        raise BadRequest("limit must be at least 1")
    for name, value in (("action", action), ("actor", actor), ("target", target)):
        _check_text(name, value)
    if since is not None and until is not None and since >= until:
        raise BadRequest("since must be earlier than until")

    def where(table: FromClause) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [table.c.project_id == project_id]
        if actor is not None:
            conditions.append(table.c.actor == actor)
        if target is not None:
            conditions.append(table.c.target == target)
        if since is not None:
            conditions.append(table.c.occurred_at >= since)
        if until is not None:
            conditions.append(table.c.occurred_at < until)
        if before is not None:
            conditions.append(table.c.id < before)
        return conditions

    query: Select[Any]
    if action is not None and action.endswith("."):
        query = _by_action_prefix(project_id, action, where, limit + 1)
    else:
        # Read backwards off the primary key (project_id, id), or off (project_id, action |
        # target | actor, id) for an exact one, stopping after limit + 1; a window long past
        # is a range of (project_id, occurred_at). The planner picks by the filters given.
        query = select(*(audit_log.c[f] for f in _FIELDS)).where(*where(audit_log))
        if action is not None:
            query = query.where(audit_log.c.action == action)
        query = query.order_by(audit_log.c.id.desc()).limit(limit + 1)
    found = [AuditEntry(**{f: row[f] for f in _FIELDS}) for row in conn.execute(query).mappings()]
    return found[:limit], len(found) > limit


def _by_action_prefix(project_id: UUID, prefix: str, where: _Conditions, limit: int) -> Select[Any]:
    """Entries whose action starts with `prefix`, newest first, through the
    (project_id, action, id) index without depending on the database's collation (under
    which a prefix need not be one range of the index):

    1. the project's distinct actions, one index probe each (a loose index scan);
    2. those starting with the prefix (byte-wise);
    3. per such action, its newest `limit` entries, read backwards from the index;
    4. the newest `limit` of those.

    The work is bounded by the number of distinct actions times the page size, however
    many entries the project has.
    """
    # ORDER BY … LIMIT 1 rather than min(): one index probe, whatever the planner estimates.
    probe = audit_log.alias("probe")
    actions = (
        select(probe.c.action)
        .where(probe.c.project_id == project_id)
        .order_by(probe.c.action)
        .limit(1)
        .cte("actions", recursive=True)
    )
    step = audit_log.alias("step")
    following = (
        select(step.c.action)
        .where(step.c.project_id == project_id, step.c.action > actions.c.action)
        .order_by(step.c.action)
        .limit(1)
        .scalar_subquery()
    )
    actions = actions.union_all(select(following).where(actions.c.action.is_not(None)))
    entry = audit_log.alias("entry")
    newest = (
        select(*(entry.c[f] for f in _FIELDS))
        .where(*where(entry), entry.c.action == actions.c.action)
        .order_by(entry.c.id.desc())
        .limit(limit)
        .lateral("newest")
    )
    return (
        select(*(newest.c[f] for f in _FIELDS))
        .select_from(actions.join(newest, true()))
        .where(func.starts_with(actions.c.action, prefix))
        .order_by(newest.c.id.desc())
        .limit(limit)
    )
