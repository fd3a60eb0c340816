"""Reading JSON request bodies: 415 for anything not JSON, 400 for malformed JSON."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import request

from cairn.errors import BadRequest, UnsupportedMediaType

MAX_DEPTH = 64


def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object. An empty body is `{}` when not required."""
    raw = request.get_data(cache=True)
    if not raw and not required:
        return {}
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc.args[0]}") from None
    except RecursionError:
        raise BadRequest(f"the body nests deeper than {MAX_DEPTH} levels") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    _check_storable(data, 0)
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_storable(value: Any, depth: int) -> None:
    """JSON that Postgres cannot hold is refused up front, as a 400, rather than failing in
    the database: NUL characters, lone surrogates, non-finite numbers, runaway nesting."""
    if depth > MAX_DEPTH:
        raise BadRequest(f"the body nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise BadRequest("the body contains a NUL character (\\u0000), which cannot be stored")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(
                "the body contains a lone UTF-16 surrogate (not valid Unicode)"
            ) from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise BadRequest("the body contains a number too large to store")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, depth + 1)
            _check_storable(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item, depth + 1)
