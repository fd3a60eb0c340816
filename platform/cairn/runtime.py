"""What a running Cairn process holds: settings, database handles, the Redis client and the
project directory. Built once by the web app, the CLI or a worker, and shared by all callers."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from cachetools import TTLCache
from redis import Redis
from sqlalchemy import Connection

from cairn.admins.service import AdminCrypto
from cairn.auth.passwords import Hasher
from cairn.config import Settings
from cairn.crypto import derive_key
from cairn.db.engine import Database, PendingJob
from cairn.db.tenant import enter_tenant
from cairn.jobs.queues import enqueue_jobs
from cairn.tenancy.service import Project, get_project
from cairn.traffic import TrafficCounter
from cairn.users.service import UserAuth
from cairn.webhooks.service import SecretBox

PROJECT_CACHE_SECONDS = 10


@dataclass
class ProjectDirectory:
    """Slug → project, cached briefly: every request resolves its project first. A deleted
    project stays resolvable here for at most PROJECT_CACHE_SECONDS, and finds no data."""

    db: Database
    _cache: TTLCache[str, Project] = field(
        default_factory=lambda: TTLCache(maxsize=4096, ttl=PROJECT_CACHE_SECONDS)
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def resolve(self, slug: str) -> Project:
        with self._lock:
            cached = self._cache.get(slug)
        if cached is not None:
            return cached
        with self.db.unscoped() as conn:
            project = get_project(conn, slug)
        with self._lock:
            self._cache[slug] = project
        return project

    def forget(self, slug: str) -> None:
        """Drop the cached entry after a change made in this process (others catch up
        within PROJECT_CACHE_SECONDS)."""
        with self._lock:
            self._cache.pop(slug, None)


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings)
        self.projects = ProjectDirectory(self.db)
        secret = settings.require_secret_key()
        self.key_pepper = derive_key(secret, "api-key-pepper")
        self.cursor_secret = derive_key(secret, "cursor")
        self.webhook_box = SecretBox(secret)
        self.session_pepper = derive_key(secret, "session-pepper")
        self.csrf_key = derive_key(secret, "csrf")
        self.provider_box = SecretBox(secret, "oauth-provider-secrets")
        self.user_auth = UserAuth(
            hasher=Hasher.from_settings(settings),
            session_pepper=self.session_pepper,
            token_pepper=derive_key(secret, "mailed-token-pepper"),
            smtp_configured=settings.smtp_url is not None,
        )
        self.key_touch_after = timedelta(seconds=settings.key_touch_seconds)
        self._redis: Redis[bytes] | None = None
        self.traffic = TrafficCounter(lambda: self.redis)
        if settings.redis_url:
            self.db.on_commit = self._hand_off

    @cached_property
    def admin_crypto(self) -> AdminCrypto:
        """Hashing and sealing for platform admins (the admin UI and `cairn admins`)."""
        return AdminCrypto.from_settings(self.settings, self.user_auth.hasher)

    def _hand_off(self, committed: list[PendingJob]) -> None:
        enqueue_jobs(self.redis, committed)

    @property
    def redis(self) -> Redis[bytes]:
        if self._redis is None:
            if self.settings.redis_url is None:
                raise RuntimeError("redis URL not resolved; start the embedded services first")
            self._redis = Redis.from_url(
                self.settings.redis_url, socket_timeout=2, socket_connect_timeout=2
            )
        return self._redis

    def enter_claims(self, conn: Connection, project: Project, claims: dict[str, str]) -> None:
        enter_tenant(conn, self.settings.tenant_context, project.id, claims)

    def close(self) -> None:
        self.db.dispose()
        if self._redis is not None:
            self.traffic.flush()  # what this process counted, before its Redis goes
            self._redis.close()
