"""The RQ queues and the hand-off of committed events to them."""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from cairn.db.engine import PendingJob

log = logging.getLogger(__name__)

QUEUES = ("default", "webhooks", "email")


def queue(redis: Redis[bytes], name: str = "default") -> Queue:
    return Queue(name, connection=redis)


def enqueue_jobs(redis: Redis[bytes], jobs: list[PendingJob]) -> bool:
    """Enqueue committed work in one round trip. Never raises: what it was asked to enqueue
    is already committed, and the sweeper re-enqueues whatever does not get through. Job
    payloads carry ids only (never secrets or record data)."""
    if not jobs:
        return True
    try:
        with redis.pipeline() as pipe:
            for job in jobs:
                q = queue(redis, job.queue)
                options: dict[str, Any] = {
                    "job_id": job.job_id,
                    "pipeline": pipe,
                    "result_ttl": 3600,
                }
                if job.delay_seconds > 0:
                    # RQ keeps whole seconds, rounded down: pad so a job never runs early
                    # (a receiver's Retry-After is a minimum).
                    delay = timedelta(seconds=math.ceil(job.delay_seconds) + 1)
                    q.enqueue_in(delay, job.function, *job.args, **options)
                else:
                    q.enqueue(job.function, *job.args, **options)
            pipe.execute()
    except RedisError as exc:
        log.warning(
            "hand-off to the queue failed; the sweeper will retry",
            extra={"jobs": len(jobs), "error": type(exc).__name__},
        )
        return False
    return True
