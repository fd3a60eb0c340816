"""The schedules and jobs pages: next and last run of real schedule runs, pause, resume and
delete; a project's failed jobs with their error summary, retried and purged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

from flask.testing import FlaskClient
from sqlalchemy import update

from cairn.audit import service as audit
from cairn.runtime import Runtime
from cairn.schedules import service
from cairn.schedules.models import schedules
from cairn.tenancy.service import Project
from tests.factories import apply_yaml, enqueue_failing_job, make_project, run_queued
from tests.integration.admin_ui.helpers import csrf_of

NOTES = "collections: [{name: notes, fields: {text: {type: text}}}]"


def save(runtime: Runtime, project: Project, name: str, action: dict[str, str]) -> UUID:
    with runtime.db.tenant(project.id) as conn:
        saved = service.save_schedule(
            conn,
            runtime.webhook_box,
            project.id,
            service.load_schedule({"name": name, "cron": "0 3 * * *", "action": action}),
            actor="operator",
            allow_private=True,
        )
    return saved.id


def run_now(runtime: Runtime, project: Project) -> None:
    """Make every schedule of the project due, claim the ticks and run them in a worker."""
    past = datetime.now(UTC) - timedelta(minutes=1)
    with runtime.db.tenant(project.id) as conn:
        conn.execute(
            update(schedules).where(schedules.c.project_id == project.id).values(next_run_at=past)
        )
        assert service.claim_due(conn, project.id, datetime.now(UTC))
    run_queued(runtime)


def test_schedules_show_next_and_last_runs(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    page = admin_client.get(f"/admin/p/{project.slug}/schedules")
    assert page.status_code == 200 and "No schedules yet" in page.text
    apply_yaml(runtime, project, NOTES)
    save(runtime, project, "cleanup", {"type": "purge", "collection": "notes", "older_than": "30d"})
    save(runtime, project, "broken", {"type": "export", "collection": "ghost"})
    listing = admin_client.get(f"/admin/p/{project.slug}/schedules").text
    assert "cleanup" in listing and "Never ran" in listing and "0 3 * * *" in listing
    assert "Delete <code>notes</code> records older than 30d" in listing
    run_now(runtime, project)
    listing = admin_client.get(f"/admin/p/{project.slug}/schedules").text
    assert "Succeeded</span>" in listing and "Failed</span>" in listing and "ghost" in listing
    assert "Never ran" not in listing
    detail = re.search(r'href="(/admin/p/[^"]+/schedules/[0-9a-f-]{36})">cleanup<', listing)
    assert detail
    page = admin_client.get(detail.group(1)).text
    assert "Recent runs" in page and '"deleted": 0' in page


def test_pause_resume_and_delete_a_schedule(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    apply_yaml(runtime, project, NOTES)
    schedule_id = save(runtime, project, "nightly", {"type": "export", "collection": "notes"})
    detail = f"/admin/p/{project.slug}/schedules/{schedule_id}"
    page = admin_client.get(detail).text
    assert "No runs yet" in page and "The first run is due" in page
    token = csrf_of(page)
    assert admin_client.post(f"{detail}/enabled", data={"enabled": "0"}).status_code == 400
    paused = admin_client.post(f"{detail}/enabled", data={"csrf_token": token, "enabled": "0"})
    assert paused.status_code == 302
    page = admin_client.get(detail).text
    assert "Schedule nightly paused" in page and "Resume" in page
    assert "Paused" in admin_client.get(f"/admin/p/{project.slug}/schedules").text
    admin_client.post(f"{detail}/enabled", data={"csrf_token": token, "enabled": "1"})
    assert "Schedule nightly resumed" in admin_client.get(detail).text
    assert admin_client.post(f"{detail}/delete").status_code == 400
    deleted = admin_client.post(f"{detail}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert "Schedule nightly deleted" in admin_client.get(deleted.headers["Location"]).text
    assert admin_client.get(detail).status_code == 404


def test_failed_jobs_are_listed_retried_and_purged(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    jobs = f"/admin/p/{project.slug}/jobs"
    empty = admin_client.get(jobs)
    assert empty.status_code == 200 and "No failed jobs" in empty.text
    job_id = enqueue_failing_job(runtime, project, f"test-ui-{project.slug}")
    other = make_project(runtime)
    other_job = enqueue_failing_job(runtime, other, f"test-ui-{other.slug}")
    run_queued(runtime)

    page = admin_client.get(jobs).text
    assert job_id in page and other_job not in page  # only this project's jobs
    assert "run_schedule" in page and "ValueError" in page and "Traceback" not in page
    token = csrf_of(page)
    retry = f"{jobs}/{job_id}/retry"
    assert admin_client.post(retry).status_code == 400
    retried = admin_client.post(retry, data={"csrf_token": token})
    assert retried.status_code == 302
    page = admin_client.get(jobs).text
    assert f"Job {job_id} is queued again" in page and "No failed jobs" in page
    assert job_id in admin_client.get(f"{jobs}?status=queued").text
    again = admin_client.post(retry, data={"csrf_token": token})
    assert again.status_code == 422 and "only failed jobs can be retried" in again.text
    assert (
        admin_client.post(f"{jobs}/not-a-job/retry", data={"csrf_token": token}).status_code == 404
    )

    run_queued(runtime)  # it fails again
    assert job_id in admin_client.get(jobs).text
    assert admin_client.post(f"{jobs}/purge-failed").status_code == 400
    purged = admin_client.post(f"{jobs}/purge-failed", data={"csrf_token": token})
    assert purged.status_code == 302
    assert "Deleted 1 failed job." in admin_client.get(jobs).text
    with runtime.db.tenant(project.id) as conn:
        found, _ = audit.list_entries(conn, project.id, limit=10)
    assert [(e.action, e.target) for e in reversed(found) if e.action.startswith("job")] == [
        ("job.retried", job_id),
        ("jobs.failed_purged", None),
    ]
    assert all(e.actor.startswith("admin:") for e in found if e.action.startswith("job"))
    assert other_job in admin_client.get(f"/admin/p/{other.slug}/jobs").text


def test_a_bad_status_filter_is_shown_next_to_it(
    admin_client: FlaskClient, project: Project
) -> None:
    page = admin_client.get(f"/admin/p/{project.slug}/jobs?status=bogus")
    assert page.status_code == 422 and 'id="e-status"' in page.text
    assert admin_client.get(f"/admin/p/{project.slug}/jobs?status=").status_code == 200
    assert admin_client.get(f"/admin/p/{project.slug}/jobs?cursor=x").status_code == 400
