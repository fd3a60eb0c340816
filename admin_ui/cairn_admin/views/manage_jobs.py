"""A project's background jobs, failed ones first: the error summary, retry, purge."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from cairn.errors import Invalid
from cairn.http.tenant import runtime
from cairn.jobs import service
from cairn_admin import bp
from cairn_admin.security import in_project, signed_in
from cairn_admin.views.manage_common import PAGE_SIZE, cursor_position, next_cursor

SECTION = "admin.jobs"


def _jobs_page(slug: str, status: str, list_error: str = "", code: int = 200) -> Any:
    rt = runtime()
    project = rt.projects.resolve(slug)
    position = cursor_position("jobs")
    before = (float(position[0]), str(position[1])) if position is not None else None
    errors: dict[str, list[str]] = {}
    views: list[service.JobView] = []
    following = None
    try:
        views, following = service.page_jobs(
            rt.redis, project.id, status=status or None, limit=PAGE_SIZE, before=before
        )
    except Invalid as exc:
        errors, code = exc.errors, exc.status
    page = render_template(
        "manage/jobs.html", project=project, jobs=views, status=status,
        statuses=service.STATUSES, next_cursor=next_cursor("jobs", following),
        paged=before is not None, errors=errors, list_error=list_error,
    )  # fmt: skip
    return page, code


@bp.get("/p/<slug>/jobs", endpoint="jobs")
@signed_in
def jobs_list(slug: str) -> Any:
    return _jobs_page(slug, request.args.get("status", "failed"))


@bp.post("/p/<slug>/jobs/<job_id>/retry")
@signed_in
def retry_job(slug: str, job_id: str) -> Any:
    try:
        with in_project(slug) as (rt, project, conn, principal):
            view = service.retry_job(conn, rt.redis, project.id, job_id, actor=principal.actor)
    except Invalid as exc:  # not failed (any more): someone retried it already
        message = "; ".join(m for msgs in exc.errors.values() for m in msgs)
        return _jobs_page(slug, "failed", f"Job {job_id}: {message}.", exc.status)
    flash(f"Job {view.id} is queued again.", "success")
    return redirect(url_for("admin.jobs", slug=slug))


@bp.post("/p/<slug>/jobs/purge-failed")
@signed_in
def purge_failed_jobs(slug: str) -> Any:
    with in_project(slug) as (rt, project, conn, principal):
        purged = service.purge_failed(conn, rt.redis, project.id, actor=principal.actor)
    flash(f"Deleted {purged} failed job{'' if purged == 1 else 's'}.", "success")
    return redirect(url_for("admin.jobs", slug=slug))
