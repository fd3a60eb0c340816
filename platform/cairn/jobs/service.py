"""A project's background jobs, as RQ knows them: list, inspect, retry, purge failed ones.

Jobs are found through the project's own index (jobs/queues.project_index) and checked
against their `project_id` meta, so a project only ever sees its own. Error summaries keep
the exception's last line only (no traceback, no arguments).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from cairn.errors import Invalid, NotFound
from cairn.jobs.queues import project_index

STATUSES = (
    "queued",
    "scheduled",
    "started",
    "deferred",
    "finished",
    "failed",
    "canceled",
    "stopped",
)


@dataclass(frozen=True)
class JobView:
    id: str
    queue: str
    function: str
    status: str
    enqueued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    retries_left: int | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _view(job: Job) -> JobView:
    status = job.get_status(refresh=False)
    error = None
    if status == JobStatus.FAILED:
        result = job.latest_result()
        text = (result.exc_string if result is not None else None) or ""
        lines = [line for line in text.strip().splitlines() if line.strip()]
        error = lines[-1][:300] if lines else "failed"
    return JobView(
        id=job.id,
        queue=job.origin,
        function=(job.func_name or "").rsplit(".", 1)[-1],
        status=str(status.value if hasattr(status, "value") else status),
        enqueued_at=job.enqueued_at,
        started_at=job.started_at,
        ended_at=job.ended_at,
        retries_left=job.retries_left,
        error=error,
    )


def _fetch(redis: Redis[bytes], project_id: UUID, job_ids: list[str]) -> list[Job]:
    jobs = Job.fetch_many(job_ids, connection=redis)
    return [j for j in jobs if j is not None and j.meta.get("project_id") == str(project_id)]


def list_jobs(
    redis: Redis[bytes], project_id: UUID, *, status: str | None = None, limit: int = 50
) -> list[JobView]:
    if status is not None and status not in STATUSES:
        raise Invalid(errors={"status": [f"one of {', '.join(STATUSES)}"]})
    ids = [i.decode() for i in redis.zrevrange(project_index(project_id), 0, 999)]
    views = [_view(j) for j in _fetch(redis, project_id, ids)]
    if status is not None:
        views = [v for v in views if v.status == status]
    return views[:limit]


def get_job(redis: Redis[bytes], project_id: UUID, job_id: str) -> JobView:
    return _view(_one(redis, project_id, job_id))


def _one(redis: Redis[bytes], project_id: UUID, job_id: str) -> Job:
    try:
        job = Job.fetch(job_id, connection=redis)
    except (NoSuchJobError, ValueError):  # ValueError: not an id RQ would ever make
        raise NotFound(f"no job {job_id} in this project") from None
    if job.meta.get("project_id") != str(project_id):
        raise NotFound(f"no job {job_id} in this project")
    return job


def retry_job(redis: Redis[bytes], project_id: UUID, job_id: str) -> JobView:
    """Put a failed job back on its queue."""
    job = _one(redis, project_id, job_id)
    if job.get_status() != JobStatus.FAILED:
        raise Invalid(errors={"status": ["only failed jobs can be retried"]})
    job.requeue()
    return _view(job)


def purge_failed(redis: Redis[bytes], project_id: UUID) -> int:
    """Delete the project's failed jobs (never another project's)."""
    failed = [j for j in list_jobs(redis, project_id, status="failed", limit=10_000)]
    for view in failed:
        _one(redis, project_id, view.id).delete()
        redis.zrem(project_index(project_id), view.id)
    return len(failed)
