"""Cursor pagination shared by every list endpoint: `limit` and an opaque, signed `cursor`.

A cursor is the keyset position after the last row of a page, signed so that a modified
cursor is refused (400) instead of silently reading elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import request
from itsdangerous import BadSignature, URLSafeSerializer

from cairn.errors import BadRequest

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: Any | None


class CursorCodec:
    def __init__(self, secret: bytes, scope: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt=f"cairn.cursor.{scope}")

    def encode(self, position: Any) -> str:
        return str(self._serializer.dumps(position))

    def decode(self, cursor: str) -> Any:
        try:
            return self._serializer.loads(cursor)
        except BadSignature:
            raise BadRequest("the cursor is not valid; start again from the first page") from None


def page_request(codec: CursorCodec) -> PageRequest:
    raw_limit = request.args.get("limit", str(DEFAULT_LIMIT))
    try:
        limit = int(raw_limit)
    except ValueError:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 1 to {MAX_LIMIT}")
    cursor = request.args.get("cursor")
    return PageRequest(limit=limit, after=codec.decode(cursor) if cursor else None)


def page_response(
    items: list[dict[str, Any]], next_position: Any | None, codec: CursorCodec
) -> tuple[dict[str, Any], dict[str, str]]:
    """The list body and, when there is a next page, its `Link` header."""
    next_cursor = codec.encode(next_position) if next_position is not None else None
    headers: dict[str, str] = {}
    if next_cursor is not None:
        args = {**request.args.to_dict(), "cursor": next_cursor}
        headers["Link"] = f'<{request.base_url}?{urlencode(args)}>; rel="next"'
    return {"items": items, "next_cursor": next_cursor}, headers
