"""Tasks the workers run. Arguments are ids and plain values only; each task opens its own
tenant transaction, so the tenant wall holds for background work as for requests."""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from sqlalchemy import func, select, update

from cairn.idempotency import service as idempotency
from cairn.jobs import context
from cairn.jobs.models import events
from cairn.jobs.queues import hand_off_events
from cairn.tenancy.service import list_projects

log = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(seconds=10)
SWEEP_BATCH = 1000


def dispatch_event(project_id: str, event_id: str) -> bool:
    """Hand one event to the delivery pipeline (webhooks subscribe here). Idempotent: an
    event already dispatched, or never committed, is left alone."""
    rt = context.runtime()
    project = UUID(project_id)
    with rt.db.tenant(project) as conn:
        row = conn.execute(
            update(events)
            .where(
                events.c.project_id == project,
                events.c.id == UUID(event_id),
                events.c.dispatched_at.is_(None),
            )
            .values(dispatched_at=func.now())
            .returning(events.c.id)
        ).first()
    return row is not None


def sweep_outbox() -> int:
    """Re-enqueue events that were committed but not dispatched (Redis was down at the
    hand-off, or a job was lost). Runs from the scheduler; duplicates are harmless."""
    rt = context.runtime()
    with rt.db.unscoped() as conn:
        projects = list_projects(conn)
    handed = 0
    for project in projects:
        with rt.db.tenant(project.id) as conn:
            ids = (
                conn.execute(
                    select(events.c.id)
                    .where(
                        events.c.project_id == project.id,
                        events.c.dispatched_at.is_(None),
                        events.c.occurred_at < func.now() - SWEEP_AFTER,
                    )
                    .order_by(events.c.occurred_at)
                    .limit(SWEEP_BATCH)
                )
                .scalars()
                .all()
            )
        if ids and hand_off_events(rt.redis, [(project.id, i) for i in ids]):
            handed += len(ids)
    if handed:
        log.info("outbox sweep re-enqueued events", extra={"events": handed})
    return handed


def housekeeping() -> int:
    """Expire idempotency keys in every project; returns how many were deleted."""
    rt = context.runtime()
    with rt.db.unscoped() as conn:
        projects = list_projects(conn)
    purged = 0
    for project in projects:
        with rt.db.tenant(project.id) as conn:
            purged += idempotency.purge_expired(conn, project.id)
    return purged
