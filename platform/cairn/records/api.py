"""/api/v1/projects/<project>/collections/<c>/records — the records API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, Response, jsonify, request, url_for

from cairn.errors import NotFound
from cairn.http.body import json_body
from cairn.http.idempotency import idempotent
from cairn.http.pagination import CursorCodec, page_request, page_response
from cairn.http.params import flag
from cairn.http.tenant import project_route, runtime, tenant
from cairn.records import batch, query, service
from cairn.records import collection as collections
from cairn.records.collection import Collection

bp = Blueprint(
    "records", __name__, url_prefix="/api/v1/projects/<project>/collections/<name>/records"
)


def _collection(name: str) -> Collection:
    ctx = tenant()
    return collections.load_known(ctx.conn, ctx.project, name, ctx.collection_version)


def _codec(collection: Collection) -> CursorCodec:
    return CursorCodec(runtime().cursor_secret, query.cursor_scope(collection))


def _record_response(collection: Collection, row: Any, status: int = 200) -> Response:
    response = jsonify(collections.dump(collection, row))
    response.status_code = status
    response.headers["ETag"] = f'"{row.version}"'
    return response


def precondition() -> service.Precondition | None:
    header = request.headers.get("If-Match")
    return None if header is None else service.parse_if_match(header)


@bp.get("")
@project_route("read", collection_arg="name", end_users=True)
def list_records(name: str) -> Response:
    ctx = tenant()
    coll = _collection(name)
    codec = _codec(coll)
    page = page_request(codec)
    keys = query.parse_sort(coll, request.args.get("sort"))
    after = query.cursor_values(page.after, keys) if page.after is not None else None
    result = query.list_records(
        ctx.conn,
        coll,
        ctx.principal,
        query.ListRequest(
            filter=request.args.get("filter"),
            sort=request.args.get("sort"),
            limit=page.limit,
            after=after,
            fields=request.args.get("fields"),
            expand=request.args.get("expand"),
            count=flag("count"),
        ),
    )
    position = None
    if result.next_position is not None:
        position = query.cursor_position(result.sort_key, result.next_position)
    body, headers = page_response(result.items, position, codec)
    if result.total is not None:
        body["total"] = result.total
    response = jsonify(body)
    response.headers.update(headers)
    return response


@bp.post("")
@project_route("write", collection_arg="name", end_users=True)
@idempotent
def create_record(name: str) -> Response:
    ctx = tenant()
    coll = _collection(name)
    row = service.create_record(ctx.conn, coll, ctx.principal, json_body())
    response = _record_response(coll, row, 201)
    response.headers["Location"] = url_for(
        "records.get_record", project=ctx.project.slug, name=name, record_id=row.id
    )
    return response


@bp.get("/<record_id>")
@project_route("read", collection_arg="name", end_users=True)
def get_record(name: str, record_id: str) -> Response:
    """One record; `fields` and `expand` work as on a list."""
    ctx = tenant()
    coll = _collection(name)
    row = service.get_record(ctx.conn, coll, ctx.principal, _id(coll, record_id))
    fields, expand = request.args.get("fields"), request.args.get("expand")
    if not (fields or expand):
        return _record_response(coll, row)
    shaped = query.shape_record(
        ctx.conn, coll, ctx.principal, collections.dump(coll, row), fields=fields, expand=expand
    )
    response = jsonify(shaped)
    response.headers["ETag"] = f'"{row.version}"'
    return response


@bp.patch("/<record_id>")
@project_route("write", collection_arg="name", end_users=True)
@idempotent
def update_record(name: str, record_id: str) -> Response:
    ctx = tenant()
    coll = _collection(name)
    row = service.update_record(
        ctx.conn, coll, ctx.principal, _id(coll, record_id), json_body(), precondition()
    )
    return _record_response(coll, row)


@bp.delete("/<record_id>")
@project_route("write", collection_arg="name", end_users=True)
@idempotent
def delete_record(name: str, record_id: str) -> Response:
    ctx = tenant()
    coll = _collection(name)
    service.delete_record(ctx.conn, coll, ctx.principal, _id(coll, record_id), precondition())
    return Response(status=204)


def _id(coll: Collection, raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"no record {raw} in '{coll.name}'") from None


batch_bp = Blueprint("batch", __name__, url_prefix="/api/v1/projects/<project>/batch")


@batch_bp.post("")
@project_route("write", end_users=True)
@idempotent
def run_batch() -> Response:
    ctx = tenant()
    operations = batch.parse(json_body())
    return jsonify(results=batch.run(ctx.conn, ctx.project, ctx.principal, operations))
