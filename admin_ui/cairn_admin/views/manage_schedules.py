"""A project's schedules: when each runs next and how its last run went; its recent runs;
pause, resume, delete. (Schedules are declared in the project file or through the API.)"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import flash, redirect, render_template, request, url_for

from cairn.schedules import service
from cairn_admin import bp
from cairn_admin.security import in_project, signed_in

SECTION = "admin.schedules"


@bp.get("/p/<slug>/schedules", endpoint="schedules")
@signed_in
def schedules_list(slug: str) -> Any:
    with in_project(slug) as (_, project, conn, _principal):
        found = service.list_schedules(conn, project.id)
    return render_template("manage/schedules.html", project=project, schedules=found)


@bp.get("/p/<slug>/schedules/<uuid:schedule_id>")
@signed_in
def schedule(slug: str, schedule_id: UUID) -> Any:
    with in_project(slug) as (_, project, conn, _principal):
        found = service.get_schedule(conn, project.id, schedule_id)
        runs = service.list_runs(conn, project.id, schedule_id)
    return render_template(
        "manage/schedule.html", project=project, schedule=found, runs=runs, section=SECTION
    )


@bp.post("/p/<slug>/schedules/<uuid:schedule_id>/enabled")
@signed_in
def set_schedule_enabled(slug: str, schedule_id: UUID) -> Any:
    """`enabled` = 1 resumes the schedule (from its next tick), 0 pauses it."""
    enabled = request.form.get("enabled") == "1"
    with in_project(slug) as (rt, project, conn, principal):
        saved = service.update_schedule(
            conn, rt.webhook_box, project.id, schedule_id, {"enabled": enabled},
            actor=principal.actor, allow_private=rt.settings.webhook_allow_private,
        )  # fmt: skip
    name = saved.definition.name
    flash(f"Schedule {name} {'resumed' if enabled else 'paused'}.", "success")
    return redirect(url_for("admin.schedule", slug=slug, schedule_id=schedule_id))


@bp.post("/p/<slug>/schedules/<uuid:schedule_id>/delete")
@signed_in
def delete_schedule(slug: str, schedule_id: UUID) -> Any:
    with in_project(slug) as (_, project, conn, principal):
        name = service.delete_schedule(conn, project.id, schedule_id, actor=principal.actor)
    flash(f"Schedule {name} deleted.", "success")
    return redirect(url_for("admin.schedules", slug=slug))
