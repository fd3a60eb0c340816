"""How a CLI command gets at Cairn: settings from the environment, the embedded servers when
no URLs are set (migrated on first use), and a Runtime over them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from cairn.config import Settings, load_settings, resolve_secret_key
from cairn.db import migrate
from cairn.embedded import EmbeddedServices
from cairn.errors import ConfigError
from cairn.logs import configure_logging
from cairn.runtime import Runtime

log = logging.getLogger(__name__)


def settings_from_env(*, server: bool = False) -> Settings:
    """Servers log at the configured level; scripting commands only say what went wrong,
    unless DEBUG is asked for."""
    settings = load_settings()
    level = settings.log_level
    if not server and level != "DEBUG":
        level = "WARNING"
    configure_logging(level)
    return resolve_secret_key(settings)


@contextmanager
def open_runtime(*, redis: bool = False, upgrade: bool = True) -> Iterator[Runtime]:
    """A Runtime for one command. With the embedded database the schema is brought to head
    first (the PocketBase experience); against an external one it must already be there."""
    settings = settings_from_env()
    services = EmbeddedServices(settings.data_dir)
    try:
        services.start(postgres=settings.embedded_database, redis=redis and settings.embedded_redis)
        settings = settings.with_services(
            settings.database_url or services.urls["database"],
            settings.redis_url or services.urls.get("redis"),
        )
        runtime = Runtime(settings)
        try:
            if upgrade and "database" in services.urls:
                migrate.upgrade(runtime.db)
            elif upgrade and not migrate.is_current(runtime.db):
                raise ConfigError(
                    "CAIRN_DATABASE_URL: the database schema is not current; "
                    "run `cairn db upgrade` first"
                )
            yield runtime
        finally:
            runtime.close()
    finally:
        services.stop()
