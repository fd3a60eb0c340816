"""A project's jobs over HTTP and the CLI: listed, inspected, retried, purged — and never
visible to another project."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from rq.job import Job

from cairn.audit import service as audit
from cairn.auth.keys import IssuedKey
from cairn.db.engine import PendingJob
from cairn.jobs import service as job_service
from cairn.jobs.queues import enqueue_jobs
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import CairnCli, auth
from tests.factories import enqueue_failing_job, make_key, run_queued
from tests.integration.http.test_app import assert_problem


def failing_job(runtime: Runtime, project: Project, name: str) -> str:
    """A real job of the project that fails in a real worker (a malformed schedule id)."""
    job_id = enqueue_failing_job(runtime, project, f"test-{name}")
    run_queued(runtime)
    return job_id


def audited(runtime: Runtime, project: Project, action: str) -> list[tuple[Any, ...]]:
    with runtime.db.tenant(project.id) as conn:
        found, _ = audit.list_entries(conn, project.id, action=action, limit=10)
    return [(e.actor, e.target, e.detail) for e in reversed(found)]


def test_jobs_are_listed_inspected_retried_and_private(
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    other_project: Project,
    admin_key: IssuedKey,
) -> None:
    job_id = failing_job(runtime, project, f"{project.slug}-1")
    base = f"/api/v1/projects/{project.slug}/jobs"
    failed = client.get(f"{base}?status=failed", headers=auth(admin_key)).get_json()["items"]
    assert [j["id"] for j in failed] == [job_id]
    assert failed[0]["function"] == "run_schedule"
    assert failed[0]["error"].startswith("ValueError") and "Traceback" not in failed[0]["error"]
    one = client.get(f"{base}/{job_id}", headers=auth(admin_key)).get_json()
    assert one["status"] == "failed"

    other_key = make_key(runtime, other_project)
    other = f"/api/v1/projects/{other_project.slug}/jobs"
    assert client.get(other, headers=auth(other_key)).get_json()["items"] == []
    assert_problem(client.get(f"{other}/{job_id}", headers=auth(other_key)), 404)
    assert_problem(client.post(f"{other}/{job_id}/retry", headers=auth(other_key)), 404)

    retried = client.post(f"{base}/{job_id}/retry", headers=auth(admin_key))
    assert retried.status_code == 202 and retried.get_json()["status"] == "queued"
    assert_problem(client.post(f"{base}/{job_id}/retry", headers=auth(admin_key)), 422)
    # The retry is on record once (the refused second one left nothing), as this key.
    assert audited(runtime, project, "job.retried") == [
        (f"key:{admin_key.key.id}", job_id, {"function": "run_schedule", "queue": "default"})
    ]
    assert_problem(client.get(f"{base}?status=bogus", headers=auth(admin_key)), 422)
    assert_problem(client.get(f"{base}/no-such-job", headers=auth(admin_key)), 404)


def test_jobs_cli(
    cairn: CairnCli, runtime: Runtime, project: Project, other_project: Project
) -> None:
    job_id = failing_job(runtime, project, f"{project.slug}-cli")
    failing_job(runtime, other_project, f"{other_project.slug}-cli")
    listed = json.loads(
        cairn("jobs", "list", "-p", project.slug, "--status", "failed", "--json").stdout
    )
    assert [j["id"] for j in listed["items"]] == [job_id]
    shown = json.loads(cairn("jobs", "show", "-p", project.slug, job_id, "--json").stdout)
    assert shown["status"] == "failed"
    retried = json.loads(cairn("jobs", "retry", "-p", project.slug, job_id, "--json").stdout)
    assert retried["status"] == "queued"
    run_queued(runtime)  # it fails again
    purged = json.loads(cairn("jobs", "purge-failed", "-p", project.slug, "--json").stdout)
    assert purged == {"purged": 1}
    assert json.loads(cairn("jobs", "purge-failed", "-p", project.slug, "--json").stdout) == {
        "purged": 0
    }
    assert audited(runtime, project, "job.retried")[0][:2] == ("operator", job_id)
    assert audited(runtime, project, "jobs.failed_purged") == [("operator", None, {"count": 1})]
    assert audited(runtime, other_project, "jobs.failed_purged") == []
    assert json.loads(cairn("jobs", "list", "-p", project.slug, "--json").stdout)["items"] == []
    remaining = json.loads(cairn("jobs", "list", "-p", other_project.slug, "--json").stdout)
    assert len(remaining["items"]) == 1  # the other project's failed job is untouched


def test_listing_reads_the_index_past_its_first_chunk(
    runtime: Runtime, project: Project, other_project: Project
) -> None:
    # Scheduled an hour out: they sit in RQ's scheduled registry, where no test's worker
    # picks them up.
    jobs = [
        PendingJob(
            "default",
            "cairn.jobs.tasks.housekeeping",
            (),
            f"test-many-{project.slug}-{i:03d}",
            3600.0,
            project_id=project.id,
        )
        for i in range(job_service.SCAN_CHUNK + 50)
    ]
    assert enqueue_jobs(runtime.redis, jobs)
    try:
        listed = job_service.list_jobs(runtime.redis, project.id, limit=len(jobs))
        assert [v.id for v in listed] == [j.job_id for j in reversed(jobs)]  # newest first
        assert {v.status for v in listed} == {"scheduled"}
        assert len(job_service.list_jobs(runtime.redis, project.id, status="scheduled")) == 50
        assert job_service.list_jobs(runtime.redis, project.id, status="failed") == []
        assert not job_service.list_jobs(runtime.redis, other_project.id, limit=len(jobs))
    finally:
        with runtime.redis.pipeline() as pipe:
            for job in Job.fetch_many([j.job_id for j in jobs], connection=runtime.redis):
                if job is not None:
                    job.delete(pipeline=pipe)
            pipe.execute()


def test_failed_jobs_are_counted_per_project_up_to_a_cap(
    runtime: Runtime, project: Project, other_project: Project
) -> None:
    for n in range(3):
        failing_job(runtime, project, f"{project.slug}-count-{n}")
    failing_job(runtime, other_project, f"{other_project.slug}-count")
    assert job_service.count_jobs(runtime.redis, project.id, "failed", cap=100) == 3
    assert job_service.count_jobs(runtime.redis, project.id, "failed", cap=2) == 2
    assert job_service.count_jobs(runtime.redis, other_project.id, "failed", cap=100) == 1
    assert job_service.count_jobs(runtime.redis, project.id, "finished", cap=100) == 0
