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

from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Select, func, insert, literal, literal_column, select
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
