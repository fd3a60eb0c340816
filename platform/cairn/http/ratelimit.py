"""Rate limits: flask-limiter on Redis. The data API is limited per credential, the
brute-force targets of end-user auth (sign-in, sign-up, mailed flows) per client address,
both per project.

A project's `limits.data` / `limits.auth` (project file) override CAIRN_RATE_LIMIT_DATA /
CAIRN_RATE_LIMIT_AUTH. The data key is a key's public lookup prefix or a digest of a session
token (never a secret), or the client address without a credential.
Over the limit: 429 problem+json with Retry-After and RateLimit-* headers; responses under
the limit carry none, since stating the remaining budget costs a second Redis round trip on
every request. If Redis is down, limits are counted in process memory and requests are
still served.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import Blueprint, Flask, Response, request
from flask_limiter import Limiter, RateLimitExceeded

from cairn.auth.keys import TOKEN_PREFIX, lookup_prefix
from cairn.config import Settings
from cairn.errors import CairnError
from cairn.http.problems import problem
from cairn.http.tenant import SESSION_COOKIE, runtime


def storage_uri(redis_url: str) -> str:
    """flask-limiter names a unix-socket Redis `redis+unix://`."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def credential_key() -> str:
    project = (request.view_args or {}).get("project", "")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    token = token or request.cookies.get(SESSION_COOKIE, "")
    if token.startswith(TOKEN_PREFIX):
        return f"{project}:{lookup_prefix(token)}"
    if token:  # a session: its whole token is secret, so only a digest names it
        return f"{project}:s:{hashlib.sha256(token.encode()).hexdigest()[:32]}"
    return address_key()


def address_key() -> str:
    project = (request.view_args or {}).get("project", "")
    return f"{project}:addr:{request.remote_addr or 'unknown'}"


def _declared(kind: str, default: str) -> str:
    slug = (request.view_args or {}).get("project", "")
    try:
        declared = runtime().projects.resolve(slug).limits.get(kind)
    except CairnError:  # an unknown project answers 404 after this; count it as default
        declared = None
    return declared or default


def data_limit() -> str:
    return _declared("data", runtime().settings.rate_limit_data)


def auth_limit() -> str:
    return _declared("auth", runtime().settings.rate_limit_auth)


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


def guard_auth(limiter: Limiter, *blueprints: Blueprint) -> None:
    """One budget per client address across sign-in, sign-up and the mailed flows."""
    shared = limiter.shared_limit(auth_limit, scope="auth", key_func=address_key)
    for blueprint in blueprints:
        shared(blueprint)
