"""The RQ queues and the hand-off of committed events to them."""

from __future__ import annotations

import logging
import math
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from cairn.db.engine import PendingJob

log = logging.getLogger(__name__)

QUEUES = ("default", "webhooks", "email")


PROJECT_INDEX_SIZE = 10_000


def project_index(project_id: UUID) -> str:
    """A sorted set of the project's recent job ids: what /jobs lists, so a project never
    scans (or sees) other projects' jobs."""
    return f"cairn:jobs:{project_id}"


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
            # One MULTI for everything: RQ's enqueue would otherwise open it itself, and
            # refuses to once other commands (the project index) are queued.
            pipe.multi()
            for job in jobs:
                q = queue(redis, job.queue)
                options: dict[str, Any] = {
                    "job_id": job.job_id,
                    "pipeline": pipe,
                    "result_ttl": 3600,
                }
                if job.project_id is not None:
                    options["meta"] = {"project_id": str(job.project_id)}
                    index = project_index(job.project_id)
                    pipe.zadd(index, {job.job_id: time.time()})
                    pipe.zremrangebyrank(index, 0, -PROJECT_INDEX_SIZE - 1)
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
