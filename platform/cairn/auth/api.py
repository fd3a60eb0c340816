"""/api/v1/projects/<project>/api-keys — admin keys manage the project's keys."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, jsonify, request, url_for

from cairn.auth import keys
from cairn.auth.schemas import CreateKeyIn, IssuedKeyOut, KeyOut
from cairn.http.body import json_body
from cairn.http.pagination import CursorCodec, page_request, page_response
from cairn.http.tenant import project_route, runtime, tenant
from cairn.validation import load

bp = Blueprint("api_keys", __name__, url_prefix="/api/v1/projects/<project>/api-keys")

_key_out = KeyOut()
_issued_out = IssuedKeyOut()


def _dump_key(key: keys.ApiKey) -> dict[str, Any]:
    return dict(_key_out.dump({**asdict(key), "status": key.status}))


def _issued_response(issued: keys.IssuedKey) -> Response:
    body = _issued_out.dump({**asdict(issued.key), "status": "active", "secret": issued.secret})
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for(
        "api_keys.get_key", project=tenant().project.slug, key_id=issued.key.id
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _codec() -> CursorCodec:
    return CursorCodec(runtime().cursor_secret, "api-keys")


@bp.get("")
@project_route("admin")
def list_keys() -> Response:
    ctx = tenant()
    page = page_request(_codec())
    # The cursor is signed by us, so its content is the id we put there.
    after = UUID(page.after) if page.after is not None else None
    found, more = keys.list_keys(
        ctx.conn,
        ctx.project.id,
        include_revoked=request.args.get("include_revoked") == "true",
        limit=page.limit,
        after=after,
    )
    body, headers = page_response(
        [_dump_key(k) for k in found], str(found[-1].id) if more else None, _codec()
    )
    response = jsonify(body)
    response.headers.update(headers)
    return response


@bp.post("")
@project_route("admin")
def create_key() -> Response:
    ctx = tenant()
    data = load(CreateKeyIn(), json_body())
    issued = keys.create_key(ctx.conn, runtime().key_pepper, ctx.principal, **data)
    return _issued_response(issued)


@bp.get("/<uuid:key_id>")
@project_route("admin")
def get_key(key_id: UUID) -> Response:
    ctx = tenant()
    return jsonify(_dump_key(keys.get_key(ctx.conn, ctx.project.id, key_id)))


@bp.delete("/<uuid:key_id>")
@project_route("admin")
def revoke_key(key_id: UUID) -> Response:
    keys.revoke_key(tenant().conn, tenant().principal, key_id)
    return Response(status=204)


@bp.post("/<uuid:key_id>/rotate")
@project_route("admin")
def rotate_key(key_id: UUID) -> Response:
    ctx = tenant()
    return _issued_response(keys.rotate_key(ctx.conn, runtime().key_pepper, ctx.principal, key_id))
