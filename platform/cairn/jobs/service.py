"""A project's background jobs, as RQ knows them: list, inspect, retry, purge failed ones.

Jobs are found through the project's own index (jobs/queues.project_index) and checked
against their `project_id` meta, so a project only ever sees its own. Error summaries keep
the exception's last line only (no traceback, no arguments).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from cairn.errors import Invalid, NotFound
from cairn.jobs.queues import PROJECT_INDEX_SIZE, QUEUES, project_index, queue

SCAN_CHUNK = 200
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


def _status(job: Job) -> str:
    status = job.get_status(refresh=False)
    return str(status.value if hasattr(status, "value") else status)


def _view(job: Job) -> JobView:
    status = _status(job)
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
        status=status,
        enqueued_at=job.enqueued_at,
        started_at=job.started_at,
        ended_at=job.ended_at,
        retries_left=job.retries_left,
        error=error,
    )


def _project_jobs(redis: Redis[bytes], project_id: UUID) -> Iterator[Job]:
    """The project's indexed jobs, newest first, fetched a chunk at a time (one round trip
    each) so a short listing never loads the whole index."""
    index, seen = project_index(project_id), set()
    for start in range(0, PROJECT_INDEX_SIZE, SCAN_CHUNK):
        ids = [i.decode() for i in redis.zrevrange(index, start, start + SCAN_CHUNK - 1)]
        fresh = [i for i in ids if i not in seen]  # the index may shift while we read it
        seen.update(fresh)
        for job in Job.fetch_many(fresh, connection=redis):
            if job is not None and job.meta.get("project_id") == str(project_id):
                yield job
        if len(ids) < SCAN_CHUNK:
            return


def queue_depths(redis: Redis[bytes]) -> dict[str, int]:
    """Jobs waiting per queue (the queues are shared by every project), in one round trip."""
    with redis.pipeline(transaction=False) as pipe:
        for name in QUEUES:
            pipe.llen(queue(redis, name).key)
        counts = pipe.execute()
    return dict(zip(QUEUES, (int(c) for c in counts), strict=True))


def list_jobs(
    redis: Redis[bytes], project_id: UUID, *, status: str | None = None, limit: int = 50
) -> list[JobView]:
    if status is not None and status not in STATUSES:
        raise Invalid(errors={"status": [f"one of {', '.join(STATUSES)}"]})
    views: list[JobView] = []
    for job in _project_jobs(redis, project_id):
        if status is None or _status(job) == status:
            views.append(_view(job))
            if len(views) == limit:
                break
    return views


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
    """Delete the project's failed jobs (never another project's), in one round trip."""
    failed = [j for j in _project_jobs(redis, project_id) if _status(j) == JobStatus.FAILED]
    with redis.pipeline() as pipe:
        for job in failed:
            job.delete(pipeline=pipe)
            pipe.zrem(project_index(project_id), job.id)
        pipe.execute()
    return len(failed)
