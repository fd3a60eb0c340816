"""Query-string parameters with strict parsing: a malformed value is a 400, never a guess."""

from __future__ import annotations

from flask import request

from cairn.errors import BadRequest


def flag(name: str) -> bool:
    raw = request.args.get(name)
    if raw is None or raw == "false":
        return False
    if raw in ("true", ""):
        return True
    raise BadRequest(f"{name} must be true or false")
