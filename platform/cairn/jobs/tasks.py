"""Tasks the workers run. Arguments are ids and plain values only; each task opens its own
tenant transaction, so the tenant wall holds for background work as for requests."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, delete, func, select

from cairn.durations import parse_duration
from cairn.idempotency import service as idempotency
from cairn.jobs import context, outbox
from cairn.jobs.models import events
from cairn.jobs.queues import enqueue_jobs
from cairn.mail.models import mails
from cairn.schedules.models import schedule_runs
from cairn.webhooks import delivery
from cairn.webhooks.models import deliveries

log = logging.getLogger(__name__)

SWEEP_AFTER = timedelta(seconds=10)
# A pending delivery this far past its lease or retry time lost its job.
LOST_AFTER = timedelta(seconds=30)
SWEEP_BATCH = 1000


def dispatch_event(project_id: str, event_id: str) -> bool:
    """Hand one event to its webhooks: one delivery per subscribed webhook, enqueued after
    commit. Idempotent: an event already dispatched, or never committed, is left alone."""
    rt = context.runtime()
    project = UUID(project_id)
    with rt.db.tenant(project) as conn:
        row = outbox.mark_dispatched(conn, project, UUID(event_id))
        if row is not None:
            delivery.fan_out(conn, project, row.id, row.type, row.collection)
    return row is not None


def deliver_webhook(project_id: str, delivery_id: str) -> str:
    """One attempt of one delivery (see webhooks/delivery.py)."""
    rt = context.runtime()
    project, delivery_uuid = UUID(project_id), UUID(delivery_id)
    with rt.db.tenant(project) as conn:
        claimed = delivery.claim(conn, project, delivery_uuid)
    if claimed is None:
        return "nothing to do"
    outcome = delivery.post(
        claimed, delivery_uuid, rt.webhook_box, allow_private=rt.settings.webhook_allow_private
    )
    with rt.db.tenant(project) as conn:
        status: str = delivery.record(conn, project, delivery_uuid, claimed, outcome)
    return status


def sweep_outbox() -> int:
    """Re-enqueue events that were committed but not dispatched, and deliveries whose job
    was lost (Redis was down at the hand-off, a worker was killed mid-delivery). Runs from
    the scheduler; duplicates are harmless."""
    rt = context.runtime()
    jobs = []
    for project, conn in context.each_project():
        jobs += delivery.due_deliveries(conn, project.id, LOST_AFTER, SWEEP_BATCH)
        ids = outbox.undispatched(conn, project.id, SWEEP_AFTER, SWEEP_BATCH)
        jobs += [outbox.dispatch_job(project.id, i) for i in ids]
    # Handed to Redis once every project's transaction has ended, in one go.
    handed = len(jobs) if jobs and enqueue_jobs(rt.redis, jobs) else 0
    if handed:
        log.info("outbox sweep re-enqueued events", extra={"events": handed})
    return handed


def housekeeping() -> dict[str, int]:
    """In every project: expire idempotency keys, and drop what outlived CAIRN_RETENTION
    (dispatched events no pending delivery needs, finished deliveries with their attempts,
    schedule runs, sent or kept mails). Returns how many rows of each kind went."""
    rt = context.runtime()
    cutoff = func.now() - parse_duration(rt.settings.retention)
    purged = dict.fromkeys(
        ("idempotency_keys", "events", "deliveries", "schedule_runs", "mails"), 0
    )
    for project, conn in context.each_project():
        purged["idempotency_keys"] += idempotency.purge_expired(conn, project.id)
        for kind, count in _expire(conn, project.id, cutoff).items():
            purged[kind] += count
    return purged


def _expire(conn: Connection, project_id: UUID, cutoff: Any) -> dict[str, int]:
    pending = select(deliveries.c.event_id).where(
        deliveries.c.project_id == project_id, deliveries.c.status == "pending"
    )
    statements = {
        "deliveries": delete(deliveries).where(
            deliveries.c.project_id == project_id,
            deliveries.c.status != "pending",
            deliveries.c.updated_at < cutoff,
        ),
        "events": delete(events).where(
            events.c.project_id == project_id,
            events.c.dispatched_at < cutoff,
            events.c.id.not_in(pending),
        ),
        "schedule_runs": delete(schedule_runs).where(
            schedule_runs.c.project_id == project_id, schedule_runs.c.tick < cutoff
        ),
        "mails": delete(mails).where(
            mails.c.project_id == project_id,
            mails.c.status != "queued",
            mails.c.created_at < cutoff,
        ),
    }
    return {kind: int(conn.execute(statement).rowcount) for kind, statement in statements.items()}
