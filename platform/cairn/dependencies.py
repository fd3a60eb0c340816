"""Recognising "a dependency is down": Postgres or Redis unreachable or gone mid-request.

HTTP maps these to 503 with Retry-After, the CLI to one line; neither shows more than the
driver's first line of text (which names the server, never a password).
"""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import OperationalError

from cairn.errors import ServiceUnavailable

DEPENDENCY_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    RedisConnectionError,
    RedisTimeoutError,
)


def as_unavailable(exc: Exception) -> ServiceUnavailable:
    if isinstance(exc, OperationalError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreachable"
        return ServiceUnavailable(f"the database is unavailable: {reason}")
    return ServiceUnavailable(f"redis is unavailable: {str(exc).splitlines()[0]}")
