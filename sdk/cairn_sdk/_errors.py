"""The SDK's exceptions: every failure a call can raise is a `CairnError`.

An answer with an error status becomes an `APIStatusError` (a subclass per status, read from
the RFC 9457 problem document the server sends); a request that never got an answer becomes
a `ConnectionError` (`Timeout` when it ran out of time).
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx

__all__ = [
    "APIStatusError",
    "BadRequest",
    "CairnError",
    "Conflict",
    "ConnectionError",
    "Forbidden",
    "NotFound",
    "PreconditionFailed",
    "RateLimited",
    "ServerError",
    "Timeout",
    "Unauthorized",
    "ValidationError",
    "make_status_error",
    "parse_retry_after",
]


class CairnError(Exception):
    """Base class of every error the SDK raises (configuration, transport and API errors)."""


class APIStatusError(CairnError):
    """The server answered with an error status (4xx/5xx).

    Attributes mirror the problem document: `status`, `title`, `detail`, `errors` (field
    name → messages, for validation failures), `request_id` (quote it when asking for help:
    it identifies the request in the server's logs), plus the parsed `body` (None when the
    answer was not JSON) and the raw `httpx.Response`.
    """

    status: int
    title: str
    detail: str
    errors: dict[str, list[str]]
    request_id: str | None
    type: str | None
    instance: str | None
    body: dict[str, Any] | None
    response: httpx.Response

    def __init__(
        self,
        message: str | None = None,
        *,
        response: httpx.Response,
        body: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        self.response = response
        self.body = body
        problem = body or {}
        self.status = status if status is not None else response.status_code
        self.title = _text(problem.get("title")) or response.reason_phrase or "Error"
        self.detail = _text(problem.get("detail"))
        self.type = _text(problem.get("type")) or None
        self.instance = _text(problem.get("instance")) or None
        self.errors = _field_errors(problem.get("errors"))
        self.request_id = _text(problem.get("request_id")) or (
            response.headers.get("X-Request-ID") or None
        )
        if message is None:
            message = f"{self.status} {self.title}"
            if self.detail:
                message += f": {self.detail}"
            if self.errors:
                fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items())
                message += f" ({fields})"
            if self.request_id:
                message += f" [request_id={self.request_id}]"
        super().__init__(message)


class BadRequest(APIStatusError):
    """400: malformed request, or a bad filter, sort, cursor or parameter."""


class Unauthorized(APIStatusError):
    """401: missing, invalid, expired or revoked credential (or one of another project)."""


class Forbidden(APIStatusError):
    """403: the credential is valid but its scope is insufficient, or a rule denies a create."""


class NotFound(APIStatusError):
    """404: unknown project, collection or record, or a record hidden by a rule."""


class Conflict(APIStatusError):
    """409: unique violation, restricted delete, or destructive schema change."""


class PreconditionFailed(APIStatusError):
    """412: `If-Match` did not match the record's current version (someone else wrote it)."""


class ValidationError(APIStatusError):
    """422: field validation failed (see `errors`), or an idempotency key was reused with
    another body."""


class RateLimited(APIStatusError):
    """429: too many requests. `retry_after` is the server's advice in seconds, if given."""

    retry_after: float | None

    def __init__(
        self,
        message: str | None = None,
        *,
        response: httpx.Response,
        body: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, response=response, body=body, status=status)
        self.retry_after = parse_retry_after(response.headers.get("Retry-After"))


class ServerError(APIStatusError):
    """5xx: the server failed, or a dependency of it is down (503)."""


class ConnectionError(CairnError):  # shadows the builtin on purpose: the public name
    """The request got no answer: the connection failed or was dropped."""


class Timeout(ConnectionError):
    """The request got no answer in time."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    422: ValidationError,
    429: RateLimited,
}


def make_status_error(response: httpx.Response) -> APIStatusError:
    """The typed exception for an error `response` (its body read as a problem document)."""
    body: dict[str, Any] | None = None
    try:
        parsed = response.json()
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        body = parsed
    status = response.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIStatusError)
    return cls(response=response, body=body)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds (delta-seconds or an HTTP date), or None if absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _field_errors(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        return {}
    out: dict[str, list[str]] = {}
    for key, messages in value.items():
        if isinstance(messages, list):
            out[str(key)] = [str(m) for m in messages]
        else:
            out[str(key)] = [str(messages)]
    return out
