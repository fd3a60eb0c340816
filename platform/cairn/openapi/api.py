"""/api/v1/projects/<project>/openapi.json — the project's OpenAPI document.

Any valid key of the project may read it. The document depends only on the project, its
collection definitions and its users' profile fields, so it is built once per state and cached
as JSON text: a request costs the one registry query. The cache keys on the definitions, their
versions and the profile fields.
"""

from __future__ import annotations

import hashlib
import json
import threading
from uuid import UUID

from cachetools import LRUCache
from flask import Blueprint, Response, current_app

from cairn.http.tenant import project_route, tenant
from cairn.openapi.document import build_document
from cairn.records import collection as collections
from cairn.schema import service as schema_service

bp = Blueprint("openapi", __name__, url_prefix="/api/v1/projects/<project>/openapi.json")

_Key = tuple[UUID, str, bytes]
_cache: LRUCache[_Key, str] = LRUCache(maxsize=256)
_lock = threading.Lock()


@bp.get("")
@project_route("read")
def document() -> Response:
    ctx = tenant()
    project = ctx.project
    registered = schema_service.registered(ctx.conn, project)
    state: list[object] = [
        (name, r.version, r.definition.to_dict()) for name, r in sorted(registered.items())
    ]
    state.append(project.user_fields)
    digest = hashlib.sha256(json.dumps(state).encode()).digest()
    key: _Key = (project.id, project.slug, digest)
    with _lock:
        text = _cache.get(key)
    if text is None:
        # Built from the rows just read (one query in all), not re-read one by one.
        built = [collections.build(project, r.definition, r.version) for r in registered.values()]
        text = current_app.json.dumps(build_document(project, built))
        with _lock:
            _cache[key] = text
    return Response(text, mimetype="application/json")
