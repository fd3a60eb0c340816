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
from sqlalchemy import Connection

from cairn.audit import service as audit
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
        function=_function(job),
        status=status,
        enqueued_at=job.enqueued_at,
        started_at=job.started_at,
        ended_at=job.ended_at,
        retries_left=job.retries_left,
        error=error,
    )


# Where a page of jobs ends: the last job's score in the project index (when it was
# enqueued) and its id, which orders jobs enqueued at the same instant.
Position = tuple[float, str]


def _indexed(
    redis: Redis[bytes], project_id: UUID, before: Position | None = None
) -> Iterator[tuple[Job, Position]]:
    """The project's indexed jobs, newest first (after `before`, when given), each with its
    position; fetched a chunk at a time (one round trip each) so a short listing never
    loads the whole index. Jobs enqueued later do not shift a position, so paging by it
    never repeats or skips a job."""
    index, seen = project_index(project_id), set[str]()
    top = "+inf" if before is None else repr(before[0])
    for start in range(0, PROJECT_INDEX_SIZE, SCAN_CHUNK):
        entries = redis.zrevrangebyscore(
            index, top, "-inf", start=start, num=SCAN_CHUNK, withscores=True
        )
        ids: dict[str, float] = {}
        for member, score in entries:
            job_id = member.decode()
            # Ties come in descending id order, like the positions they are compared with.
            if before is not None and score == before[0] and job_id >= before[1]:
                continue
            if job_id not in seen:  # the index may shift while we read it
                ids[job_id] = score
        seen.update(ids)
        for job in Job.fetch_many(list(ids), connection=redis):
            if job is not None and job.meta.get("project_id") == str(project_id):
                yield job, (ids[job.id], job.id)
        if len(entries) < SCAN_CHUNK:
            return


def _project_jobs(redis: Redis[bytes], project_id: UUID) -> Iterator[Job]:
    """The project's indexed jobs, newest first."""
    return (job for job, _ in _indexed(redis, project_id))


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
    return page_jobs(redis, project_id, status=status, limit=limit)[0]


def page_jobs(
    redis: Redis[bytes],
    project_id: UUID,
    *,
    status: str | None = None,
    limit: int = 50,
    before: Position | None = None,
) -> tuple[list[JobView], Position | None]:
    """A page of the project's jobs (in `status`, if given), newest first, and the position
    to pass as `before` for the next page (None when no job follows)."""
    if status is not None and status not in STATUSES:
        raise Invalid(errors={"status": [f"one of {', '.join(STATUSES)}"]})
    views: list[JobView] = []
    last: Position | None = None
    for job, position in _indexed(redis, project_id, before):
        if status is None or _status(job) == status:
            if len(views) == limit:
                return views, last  # one more follows
            views.append(_view(job))
            last = position
    return views, None


def count_jobs(redis: Redis[bytes], project_id: UUID, status: str, *, cap: int) -> int:
    """How many of the project's jobs are in `status`, counting up to `cap`: no job's result
    is read, only its status."""
    found = 0
    for job, _ in _indexed(redis, project_id):
        if _status(job) == status:
            found += 1
            if found == cap:
                break
    return found


def get_job(redis: Redis[bytes], project_id: UUID, job_id: str) -> JobView:
    return _view(_one(redis, project_id, job_id))


def _function(job: Job) -> str:
    return (job.func_name or "").rsplit(".", 1)[-1]


def _one(redis: Redis[bytes], project_id: UUID, job_id: str) -> Job:
    try:
        job = Job.fetch(job_id, connection=redis)
    except (NoSuchJobError, ValueError):  # ValueError: not an id RQ would ever make
        raise NotFound(f"no job {job_id} in this project") from None
    if job.meta.get("project_id") != str(project_id):
        raise NotFound(f"no job {job_id} in this project")
    return job


def retry_job(
    conn: Connection, redis: Redis[bytes], project_id: UUID, job_id: str, *, actor: str
) -> JobView:
    """Put a failed job back on its queue (a job that mails or posts does so again), audited
    in `conn`'s transaction: the entry is written first, so a refused requeue leaves none
    and the caller's commit follows the requeue at once."""
    job = _one(redis, project_id, job_id)
    if job.get_status() != JobStatus.FAILED:
        raise Invalid(errors={"status": ["only failed jobs can be retried"]})
    audit.record(conn, project_id, actor, "job.retried", job.id,
                 {"function": _function(job), "queue": job.origin})  # fmt: skip
    job.requeue()
    return _view(job)


def purge_failed(conn: Connection, redis: Redis[bytes], project_id: UUID, *, actor: str) -> int:
    """Delete the project's failed jobs (never another project's), in one round trip;
    audited in `conn`'s transaction when there were any."""
    failed = [j for j in _project_jobs(redis, project_id) if _status(j) == JobStatus.FAILED]
    if not failed:
        return 0
    audit.record(conn, project_id, actor, "jobs.failed_purged", None, {"count": len(failed)})
    with redis.pipeline() as pipe:
        for job in failed:
            job.delete(pipeline=pipe)
            pipe.zrem(project_index(project_id), job.id)
        pipe.execute()
    return len(failed)
