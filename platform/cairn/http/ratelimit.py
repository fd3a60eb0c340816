"""Rate limits on the data API: flask-limiter on Redis, per credential, per project.

A project's `limits.data` (project file) overrides CAIRN_RATE_LIMIT_DATA. The key is the
credential's public lookup prefix (never the secret), or the client address without one.
Over the limit: 429 problem+json with Retry-After and RateLimit-* headers. If Redis is down,
limits are counted in process memory and requests are still served.
"""

from __future__ import annotations

from flask import Blueprint, Flask, request
from flask_limiter import Limiter
from flask_limiter.constants import HeaderNames

from cairn.config import Settings
from cairn.errors import CairnError
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
    return Limiter(
        key_func=credential_key,
        app=app,
        storage_uri=storage_uri(settings.redis_url) if settings.redis_url else "memory://",
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        headers_enabled=True,
        header_name_mapping={
            HeaderNames.LIMIT: "RateLimit-Limit",
            HeaderNames.REMAINING: "RateLimit-Remaining",
            HeaderNames.RESET: "RateLimit-Reset",
            HeaderNames.RETRY_AFTER: "Retry-After",
        },
        strategy="moving-window",
        key_prefix="cairn",
    )


def protect(limiter: Limiter, *blueprints: Blueprint) -> None:
    """One budget per credential across all the blueprints (records and batch alike)."""
    shared = limiter.shared_limit(data_limit, scope="data", key_func=credential_key)
    for blueprint in blueprints:
        shared(blueprint)
