"""The RQ queues and the hand-off of committed events to them."""

from __future__ import annotations

import logging
from uuid import UUID

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

log = logging.getLogger(__name__)

QUEUES = ("default", "webhooks", "email")
DISPATCH = "cairn.jobs.tasks.dispatch_event"


def queue(redis: Redis[bytes], name: str = "default") -> Queue:
    return Queue(name, connection=redis)


def hand_off_events(redis: Redis[bytes], committed: list[tuple[UUID, UUID]]) -> bool:
    """Enqueue one dispatch job per committed event, in one round trip. Never raises: the
    write is already committed, and the sweeper re-enqueues whatever did not get through.
    Job payloads carry ids only (never secrets or record data)."""
    if not committed:
        return True
    try:
        q = queue(redis)
        with redis.pipeline() as pipe:
            for project_id, event_id in committed:
                q.enqueue(
                    DISPATCH,
                    str(project_id),
                    str(event_id),
                    job_id=f"event-{event_id}",
                    pipeline=pipe,
                    result_ttl=3600,
                )
            pipe.execute()
    except RedisError as exc:
        log.warning(
            "event hand-off failed; the sweeper will retry",
            extra={"events": len(committed), "error": type(exc).__name__},
        )
        return False
    return True
