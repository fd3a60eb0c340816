"""/api/v1/projects/<project>/jobs — a project's background jobs (admin keys)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from cairn.http.tenant import project_route, runtime, tenant
from cairn.jobs import service

bp = Blueprint("jobs", __name__, url_prefix="/api/v1/projects/<project>/jobs")


@bp.get("")
@project_route("admin")
def list_jobs() -> Response:
    views = service.list_jobs(
        runtime().redis, tenant().project.id, status=request.args.get("status")
    )
    return jsonify(items=[v.as_dict() for v in views], next_cursor=None)


@bp.get("/<job_id>")
@project_route("admin")
def get_job(job_id: str) -> Response:
    return jsonify(service.get_job(runtime().redis, tenant().project.id, job_id).as_dict())


@bp.post("/<job_id>/retry")
@project_route("admin")
def retry_job(job_id: str) -> Response:
    ctx = tenant()
    view = service.retry_job(
        ctx.conn, runtime().redis, ctx.project.id, job_id, actor=ctx.principal.actor
    )
    response = jsonify(view.as_dict())
    response.status_code = 202
    return response
