"""/api/v1/projects/<project>/collections — admin keys declare the project's collections."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from cairn.errors import NotFound
from cairn.http.body import json_body
from cairn.http.params import flag
from cairn.http.tenant import project_route, runtime, tenant
from cairn.schema import service
from cairn.schema.definitions import check_name, load_collection

bp = Blueprint("collections", __name__, url_prefix="/api/v1/projects/<project>/collections")


def _known_name(name: str) -> str:
    if check_name("collection", name):
        raise NotFound(f"no collection '{name}' in this project")
    return name


@bp.get("")
@project_route("admin")
def list_collections() -> Response:
    ctx = tenant()
    found = service.registered(ctx.conn, ctx.project)
    return jsonify(items=[r.definition.to_dict() for r in found.values()])


@bp.get("/<name>")
@project_route("admin")
def get_collection(name: str) -> Response:
    ctx = tenant()
    return jsonify(
        service.get_collection(ctx.conn, ctx.project, _known_name(name)).definition.to_dict()
    )


@bp.put("/<name>")
@project_route("admin")
def put_collection(name: str) -> Response:
    ctx = tenant()
    definition = load_collection(json_body(), name=name)
    dry_run = flag("dry_run")
    rt = runtime()
    with rt.db.owner(ctx.project.id, source=request.remote_addr) as conn:
        plan = service.put_collection(
            conn,
            ctx.project,
            definition,
            actor=ctx.principal.actor,
            app_role=rt.settings.db_app_role,
            allow_destructive=flag("allow_destructive"),
            dry_run=dry_run,
        )
    if not dry_run:
        with rt.db.owner_autocommit() as conn:
            service.build_concurrently(conn, ctx.project, plan)
    return jsonify(
        collection=definition.without_hints().to_dict(),
        plan=plan.to_dict(),
        applied=not dry_run and not plan.empty,
    )


@bp.delete("/<name>")
@project_route("admin")
def delete_collection(name: str) -> Response:
    ctx = tenant()
    rt = runtime()
    dry_run = flag("dry_run")
    with rt.db.owner(ctx.project.id, source=request.remote_addr) as conn:
        plan = service.delete_collection(
            conn,
            ctx.project,
            _known_name(name),
            actor=ctx.principal.actor,
            app_role=rt.settings.db_app_role,
            allow_destructive=flag("allow_destructive"),
            dry_run=dry_run,
        )
    if dry_run:
        return jsonify(plan=plan.to_dict(), applied=False)
    return Response(status=204)
