"""Paging a project's jobs by position (jobs/service.page_jobs): every job once, newest first,
even with jobs enqueued at the same instant or while paging."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rq.job import Job

from cairn.db.engine import PendingJob
from cairn.jobs import service as job_service
from cairn.jobs.queues import enqueue_jobs, project_index
from cairn.runtime import Runtime
from cairn.tenancy.service import Project


def scheduled(project: Project, name: str, count: int) -> list[PendingJob]:
    """Jobs an hour out: they sit in RQ's scheduled registry, where no test's worker runs
    them."""
    return [
        PendingJob(
            "default",
            "cairn.jobs.tasks.housekeeping",
            (),
            f"test-page-{project.slug}-{name}-{i:03d}",
            3600.0,
            project_id=project.id,
        )
        for i in range(count)
    ]


@pytest.fixture
def cleanup(runtime: Runtime) -> Iterator[list[str]]:
    ids: list[str] = []
    yield ids
    with runtime.redis.pipeline() as pipe:
        for job in Job.fetch_many(ids, connection=runtime.redis):
            if job is not None:
                job.delete(pipeline=pipe)
        pipe.execute()


def all_pages(runtime: Runtime, project: Project, limit: int, **filters: str) -> list[list[str]]:
    pages, before = [], None
    while True:
        views, before = job_service.page_jobs(
            runtime.redis, project.id, limit=limit, before=before, **filters
        )
        pages.append([v.id for v in views])
        if before is None:
            return pages


def flat(pages: list[list[str]]) -> list[str]:
    return [job_id for page in pages for job_id in page]


def test_pages_cover_every_job_once_newest_first(
    runtime: Runtime, project: Project, cleanup: list[str]
) -> None:
    jobs = scheduled(project, "a", 120)
    cleanup.extend(j.job_id for j in jobs)
    assert enqueue_jobs(runtime.redis, jobs)
    pages = all_pages(runtime, project, 50)
    assert [len(p) for p in pages] == [50, 50, 20]
    assert flat(pages) == [j.job_id for j in reversed(jobs)]
    assert all_pages(runtime, project, 50, status="failed") == [[]]
    assert flat(all_pages(runtime, project, 7, status="scheduled")) == flat(pages)


def test_jobs_enqueued_at_one_instant_or_while_paging_are_neither_repeated_nor_skipped(
    runtime: Runtime, project: Project, cleanup: list[str]
) -> None:
    jobs = scheduled(project, "b", 30)
    cleanup.extend(j.job_id for j in jobs)
    assert enqueue_jobs(runtime.redis, jobs)
    index = project_index(project.id)
    runtime.redis.zadd(index, {j.job_id: 1000.0 for j in jobs[10:25]})  # one instant
    expected = [v.id for v in job_service.list_jobs(runtime.redis, project.id, limit=100)]
    first, before = job_service.page_jobs(runtime.redis, project.id, limit=12)
    later = scheduled(project, "c", 5)
    cleanup.extend(j.job_id for j in later)
    assert enqueue_jobs(runtime.redis, later)  # newer: they belong before the first page
    rest: list[str] = []
    while before is not None:
        views, before = job_service.page_jobs(runtime.redis, project.id, limit=4, before=before)
        rest.extend(v.id for v in views)
    assert [v.id for v in first] + rest == expected
    assert len(set(expected)) == 30
