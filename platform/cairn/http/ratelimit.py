"""Rate limits on the data API: flask-limiter on Redis, per credential, per project.

A project's `limits.data` (project file) overrides CAIRN_RATE_LIMIT_DATA. The key is the
credential's public lookup prefix (never the secret), or the client address without one.
Over the limit: 429 problem+json with Retry-After and RateLimit-* headers; responses under
the limit carry none, since stating the remaining budget costs a second Redis round trip on
every request. If Redis is down, limits are counted in process memory and requests are
still served.
"""

from __future__ import annotations

import math
import time

from flask import Blueprint, Flask, Response, request
from flask_limiter import Limiter, RateLimitExceeded

from cairn.config import Settings
from cairn.errors import CairnError
from cairn.http.problems import problem
from cairn.http.tenant import runtime

PREFIX_LENGTH = 15  # "ck_" + the 12 public characters of a key


def storage_uri(redis_url: str) -> str:
    """flask-limiter names a unix-socket Redis `redis+unix://`."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def credential_key() -> str:
    project = (request.view_args or {}).get("project", "")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return f"{project}:{token.strip()[:PREFIX_LENGTH]}"
    return f"{project}:addr:{request.remote_addr or 'unknown'}"


def data_limit() -> str:
    rt = runtime()
    slug = (request.view_args or {}).get("project", "")
    try:
        declared = rt.projects.resolve(slug).limits.get("data")
    except CairnError:  # an unknown project answers 404 after this; count it as default
        declared = None
    return declared or rt.settings.rate_limit_data


def init_app(app: Flask, settings: Settings) -> Limiter:
    limiter = Limiter(
        key_func=credential_key,
        app=app,
        storage_uri=storage_uri(settings.redis_url) if settings.redis_url else "memory://",
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        headers_enabled=False,
        strategy="sliding-window-counter",
        key_prefix="cairn",
    )

    def too_many(exc: RateLimitExceeded) -> Response:
        response = problem(429, "Too Many Requests", exc.description or "", "too-many-requests")
        current = limiter.current_limit
        if current is not None:
            reset_at, _ = current.window
            wait = str(max(1, math.ceil(reset_at - time.time())))
            response.headers["RateLimit-Limit"] = str(current.limit.amount)
            response.headers["RateLimit-Remaining"] = "0"
            response.headers["RateLimit-Reset"] = wait
            response.headers["Retry-After"] = wait
        return response

    app.register_error_handler(RateLimitExceeded, too_many)
    return limiter


def protect(limiter: Limiter, *blueprints: Blueprint) -> None:
    """One budget per credential across all the blueprints (records and batch alike)."""
    shared = limiter.shared_limit(data_limit, scope="data", key_func=credential_key)
    for blueprint in blueprints:
        shared(blueprint)
