"""/api/v1/projects/<project>/audit — admin keys read the project's audit log."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from uuid import UUID

from flask import Blueprint, Response, jsonify, request

from cairn.audit import service
from cairn.http.pagination import CursorCodec, page_request, page_response
from cairn.http.tenant import project_route, runtime, tenant

bp = Blueprint("audit", __name__, url_prefix="/api/v1/projects/<project>/audit")


def _codec() -> CursorCodec:
    return CursorCodec(runtime().cursor_secret, "audit")


def _time(name: str) -> datetime | None:
    raw = request.args.get(name)
    return service.parse_time(raw, name) if raw is not None else None


@bp.get("")
@project_route("admin")
def list_entries() -> Response:
    ctx = tenant()
    page = page_request(_codec())
    # The cursor is signed by us, so its content is the id we put there.
    before = UUID(page.after) if page.after is not None else None
    found, more = service.list_entries(
        ctx.conn,
        ctx.project.id,
        action=request.args.get("action"),
        actor=request.args.get("actor"),
        target=request.args.get("target"),
        since=_time("since"),
        until=_time("until"),
        limit=page.limit,
        before=before,
    )
    body, headers = page_response(
        [asdict(entry) for entry in found], str(found[-1].id) if more else None, _codec()
    )
    response = jsonify(body)
    response.headers.update(headers)
    return response
