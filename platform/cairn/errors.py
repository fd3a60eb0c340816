"""The one exception hierarchy. Services raise these; http/problems.py maps them to HTTP,
the CLI maps them to a one-line message and a non-zero exit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class CairnError(Exception):
    """Base of every error a caller may show to a user. Its text must never hold secrets."""

    status = 500
    title = "Internal Server Error"
    slug = "internal"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class Invalid(CairnError):
    """Input that parsed but failed validation; `errors` maps field → messages."""

    status = 422
    title = "Validation Failed"
    slug = "invalid"

    def __init__(
        self, detail: str | None = None, errors: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        super().__init__(detail or "The request did not pass validation.")
        self.errors = {field: list(msgs) for field, msgs in (errors or {}).items()}


class BadRequest(CairnError):
    status = 400
    title = "Bad Request"
    slug = "bad-request"


class Unauthorized(CairnError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"


class Forbidden(CairnError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(CairnError):
    status = 404
    title = "Not Found"
    slug = "not-found"


class Conflict(CairnError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class PreconditionFailed(CairnError):
    status = 412
    title = "Precondition Failed"
    slug = "precondition-failed"


class UnsupportedMediaType(CairnError):
    status = 415
    title = "Unsupported Media Type"
    slug = "unsupported-media-type"


class ServiceUnavailable(CairnError):
    status = 503
    title = "Service Unavailable"
    slug = "unavailable"


class ConfigError(CairnError):
    """A bad or missing CAIRN_* setting: the process must not start."""

    title = "Configuration Error"
    slug = "config"
