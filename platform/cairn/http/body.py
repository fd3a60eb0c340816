"""Reading JSON request bodies: 415 for anything not JSON, 400 for malformed JSON."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from cairn.errors import BadRequest, UnsupportedMediaType


def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object. An empty body is `{}` when not required."""
    raw = request.get_data(cache=True)
    if not raw and not required:
        return {}
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc.args[0]}") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data
