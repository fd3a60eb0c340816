"""`Idempotency-Key` on write routes: the first response is stored in the same transaction as
the write; a repeat with the same request replays it (`Idempotent-Replayed: true`), the same
key with another request is a 422."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, make_response, request

from cairn.http.tenant import tenant
from cairn.idempotency import service

View = TypeVar("View", bound=Callable[..., Any])
_REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")


def idempotent(view: View) -> View:
    """Wrap a view that already runs inside `project_route`."""

    @wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(**kwargs)
        ctx = tenant()
        service.check_key(key)
        print_ = service.fingerprint(request.method, request.path, request.get_data(cache=True))
        who = ctx.principal.actor
        stored = service.claim(ctx.conn, ctx.project.id, who, key, print_)
        if stored is not None:
            replay = Response(stored.body, status=stored.status, headers=stored.headers)
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        response: Response = make_response(view(**kwargs))
        headers = {h: response.headers[h] for h in _REPLAYED_HEADERS if h in response.headers}
        body = response.get_data(as_text=True)
        service.store(
            ctx.conn,
            ctx.project.id,
            who,
            key,
            service.StoredResponse(response.status_code, headers, body),
        )
        return response

    return cast(View, wrapper)
