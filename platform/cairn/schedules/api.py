"""/api/v1/projects/<project>/schedules — admin keys manage the project's schedules."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response, jsonify, url_for

from cairn.http.body import json_body
from cairn.http.tenant import project_route, runtime, tenant
from cairn.schedules import service

bp = Blueprint("schedules", __name__, url_prefix="/api/v1/projects/<project>/schedules")


@bp.get("")
@project_route("admin")
def list_schedules() -> Response:
    ctx = tenant()
    items = [s.to_dict() for s in service.list_schedules(ctx.conn, ctx.project.id)]
    return jsonify(items=items, next_cursor=None)


@bp.post("")
@project_route("admin")
def create_schedule() -> Response:
    ctx, rt = tenant(), runtime()
    schedule = service.save_schedule(
        ctx.conn,
        rt.webhook_box,
        ctx.project.id,
        service.load_schedule(json_body()),
        actor=ctx.principal.actor,
        allow_private=rt.settings.webhook_allow_private,
    )
    response = jsonify(schedule.to_dict())
    response.status_code = 201
    response.headers["Location"] = url_for(
        "schedules.get_schedule", project=ctx.project.slug, schedule_id=schedule.id
    )
    return response


@bp.get("/<uuid:schedule_id>")
@project_route("admin")
def get_schedule(schedule_id: UUID) -> Response:
    ctx = tenant()
    return jsonify(service.get_schedule(ctx.conn, ctx.project.id, schedule_id).to_dict())


@bp.patch("/<uuid:schedule_id>")
@project_route("admin")
def update_schedule(schedule_id: UUID) -> Response:
    ctx, rt = tenant(), runtime()
    schedule = service.update_schedule(
        ctx.conn,
        rt.webhook_box,
        ctx.project.id,
        schedule_id,
        json_body(),
        actor=ctx.principal.actor,
        allow_private=rt.settings.webhook_allow_private,
    )
    return jsonify(schedule.to_dict())


@bp.delete("/<uuid:schedule_id>")
@project_route("admin")
def delete_schedule(schedule_id: UUID) -> Response:
    ctx = tenant()
    service.delete_schedule(ctx.conn, ctx.project.id, schedule_id, actor=ctx.principal.actor)
    return Response(status=204)


@bp.get("/<uuid:schedule_id>/runs")
@project_route("admin")
def list_runs(schedule_id: UUID) -> Response:
    ctx = tenant()
    service.get_schedule(ctx.conn, ctx.project.id, schedule_id)  # 404 for an unknown one
    runs = service.list_runs(ctx.conn, ctx.project.id, schedule_id)
    return jsonify(
        items=[{k: v for k, v in r.items() if k not in ("project_id",)} for r in runs],
        next_cursor=None,
    )
