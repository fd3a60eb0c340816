"""/api/v1/projects/<project>/users — admin keys manage the project's end users."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, Response, jsonify, request, url_for

from cairn.http.body import json_body
from cairn.http.pagination import CursorCodec, page_request, page_response
from cairn.http.tenant import project_route, runtime, tenant
from cairn.users import service as users

bp = Blueprint("users", __name__, url_prefix="/api/v1/projects/<project>/users")


def _codec() -> CursorCodec:
    return CursorCodec(runtime().cursor_secret, "users")


@bp.get("")
@project_route("admin")
def list_users() -> Response:
    ctx = tenant()
    page = page_request(_codec())
    after = UUID(page.after) if page.after is not None else None  # signed by us
    found, more = users.list_users(
        ctx.conn, ctx.project.id, search=request.args.get("search"), limit=page.limit, after=after
    )
    body, headers = page_response(
        [u.to_dict() for u in found], str(found[-1].id) if more else None, _codec()
    )
    response = jsonify(body)
    response.headers.extend(headers)
    return response


@bp.post("")
@project_route("admin")
def create_user() -> Response:
    ctx, body = tenant(), json_body()
    own = {"email", "password", "verified"}
    verified = body.get("verified", False)
    user = users.create_user(
        ctx.conn,
        runtime().user_auth,
        ctx.project,
        email=body.get("email"),
        password=body.get("password"),
        profile={k: v for k, v in body.items() if k not in own},
        actor=ctx.principal.actor,
        verified=verified if isinstance(verified, bool) else False,
    )
    response = jsonify(user.to_dict())
    response.status_code = 201
    response.headers["Location"] = url_for(
        "users.get_user", project=ctx.project.slug, user_id=user.id
    )
    return response


@bp.get("/<uuid:user_id>")
@project_route("admin")
def get_user(user_id: UUID) -> Response:
    ctx = tenant()
    return jsonify(users.get_user(ctx.conn, ctx.project.id, user_id).to_dict())


@bp.patch("/<uuid:user_id>")
@project_route("admin")
def update_user(user_id: UUID) -> Response:
    ctx = tenant()
    body: dict[str, Any] = json_body()
    user = users.admin_update(
        ctx.conn, runtime().user_auth, ctx.project, ctx.principal, user_id, body
    )
    return jsonify(user.to_dict())


@bp.delete("/<uuid:user_id>")
@project_route("admin")
def delete_user(user_id: UUID) -> Response:
    ctx = tenant()
    users.delete_user(ctx.conn, ctx.project.id, ctx.principal, user_id)
    return Response(status=204)


@bp.post("/<uuid:user_id>/logout")
@project_route("admin")
def force_logout(user_id: UUID) -> Response:
    ctx = tenant()
    ended = users.force_logout(ctx.conn, ctx.project.id, ctx.principal, user_id)
    return jsonify({"sessions_ended": ended})
