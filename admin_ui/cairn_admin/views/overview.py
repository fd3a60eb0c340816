"""A project's overview: traffic over the last 24 hours, records per collection, users,
queue depths and failed jobs."""

from __future__ import annotations

from flask import render_template
from redis.exceptions import RedisError

from cairn import traffic
from cairn.jobs import service as jobs
from cairn.schema import service as schema
from cairn.tenancy import service as tenancy
from cairn.users import service as users
from cairn_admin import bp, charts
from cairn_admin.security import in_project, signed_in

FAILED_SHOWN = 100


@bp.get("/p/<slug>/")
@signed_in
def project_overview(slug: str) -> str:
    with in_project(slug) as (rt, project, conn, _):
        registered = sorted(schema.registered(conn, project))
        user_count = users.count_users(conn, project.id)
        estimates = tenancy.collection_sizes(conn, project)
    sizes = {name: estimates.get(name, 0) for name in registered}
    try:
        hours = traffic.hourly(rt.redis, project.id)
        depths: dict[str, int] | None = jobs.queue_depths(rt.redis)
        failed: int | None = jobs.count_jobs(rt.redis, project.id, "failed", cap=FAILED_SHOWN)
    except (RedisError, OSError):
        hours, depths, failed = [], None, None
    return render_template(
        "overview.html",
        project=project,
        chart=charts.hourly_chart(hours) if hours else None,
        hours=hours,
        sizes=charts.size_bars(sizes),
        user_count=user_count,
        depths=depths,
        failed=failed,
        failed_shown=FAILED_SHOWN,
    )
