"""Writing record events in the same statement as the record change, and remembering which
ones the transaction must hand to the queue once it commits.

A write becomes one statement with a data-modifying CTE:

    WITH written AS (INSERT/UPDATE/DELETE … RETURNING *),
         event AS (INSERT INTO cairn.events … SELECT … FROM written)
    SELECT * FROM written

so the event exists exactly when the change does. After COMMIT, `Database.request()` hands
the noted events to the `on_commit` callback (Runtime enqueues them); a failed hand-off is
repaired by the sweeper, so no acknowledged write loses its event.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Connection,
    Row,
    Select,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.sql.dml import UpdateBase

from cairn.db.engine import PendingJob, after_commit
from cairn.db.ids import new_id
from cairn.jobs.models import events

DISPATCH = "cairn.jobs.tasks.dispatch_event"


def dispatch_job(project_id: UUID, event_id: UUID) -> PendingJob:
    return PendingJob(
        "default",
        DISPATCH,
        (str(project_id), str(event_id)),
        f"event-{event_id}",
        project_id=project_id,
    )


EVENT_TYPES = {"create": "record.created", "update": "record.updated", "delete": "record.deleted"}


def with_event(
    conn: Connection,
    write: UpdateBase,
    *,
    project_id: UUID,
    collection: str,
    action: str,
) -> Select[Any]:
    """`write` (already RETURNING every column) plus the event row, as one statement."""
    event_id = new_id()
    written = write.cte("written")
    event = insert(events).from_select(
        ["project_id", "id", "type", "collection", "record_id", "record_version", "payload"],
        select(
            literal(project_id, events.c.project_id.type),
            literal(event_id, events.c.id.type),
            literal(EVENT_TYPES[action]),
            literal(collection),
            written.c.id,
            written.c.version,
            func.to_jsonb(literal_column("written")),
        ).select_from(written),
    )
    # Handed to the queue after COMMIT. If no row was written (a rule filtered it out), the
    # dispatch job finds no event and does nothing.
    after_commit(conn, dispatch_job(project_id, event_id))
    return select(written).add_cte(event.cte("event"))


def mark_dispatched(conn: Connection, project_id: UUID, event_id: UUID) -> Row[Any] | None:
    """Take an event for dispatch (id, type, collection); None if it was dispatched already
    or never committed."""
    return conn.execute(
        update(events)
        .where(
            events.c.project_id == project_id,
            events.c.id == event_id,
            events.c.dispatched_at.is_(None),
        )
        .values(dispatched_at=func.now())
        .returning(events.c.id, events.c.type, events.c.collection)
    ).first()


def undispatched(
    conn: Connection, project_id: UUID, older_than: timedelta, limit: int
) -> list[UUID]:
    """Events committed more than `older_than` ago and still not dispatched: their hand-off
    to the queue was lost (the partial index on pending events serves this)."""
    return list(
        conn.execute(
            select(events.c.id)
            .where(
                events.c.project_id == project_id,
                events.c.dispatched_at.is_(None),
                events.c.occurred_at < func.now() - older_than,
            )
            .order_by(events.c.occurred_at)
            .limit(limit)
        ).scalars()
    )
