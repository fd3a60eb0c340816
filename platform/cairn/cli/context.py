"""How a CLI command gets at Cairn: settings from the environment, the embedded servers when
no URLs are set (migrated on first use), and a Runtime over them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import Connection

from cairn.config import Settings, load_settings, resolve_secret_key
from cairn.db import migrate
from cairn.embedded import EmbeddedServices
from cairn.errors import ConfigError
from cairn.logs import configure_logging
from cairn.runtime import Runtime
from cairn.tenancy.service import Project

log = logging.getLogger(__name__)

project_option = click.option("--project", "-p", "slug", required=True, help="Project slug.")


def settings_from_env(*, server: bool = False) -> Settings:
    """Servers log at the configured level; scripting commands only say what went wrong,
    unless DEBUG is asked for."""
    settings = load_settings()
    level = settings.log_level
    if not server and level != "DEBUG":
        level = "WARNING"
    configure_logging(level)
    return resolve_secret_key(settings)


def external_settings(command: str) -> Settings:
    """Settings for a server command that never starts the embedded servers (`cairn web`,
    `worker`, `scheduler`): both URLs must be set."""
    settings = settings_from_env(server=True)
    for variable, missing in (
        ("CAIRN_DATABASE_URL", settings.embedded_database),
        ("CAIRN_REDIS_URL", settings.embedded_redis),
    ):
        if missing:
            raise ConfigError(
                f"{variable}: `cairn {command}` needs an external server; "
                "use `cairn serve` for the embedded default"
            )
    return settings


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


@contextmanager
def in_project(slug: str) -> Iterator[tuple[Runtime, Project, Connection]]:
    """A Runtime, the project `slug` names and one tenant transaction in it, for a command
    acting on that project. What the command does is audited as coming from the CLI."""
    with open_runtime() as rt:
        project = rt.projects.resolve(slug)
        with cli_tenant(rt, project) as conn:
            yield rt, project, conn


@contextmanager
def cli_tenant(rt: Runtime, project: Project) -> Iterator[Connection]:
    """One tenant transaction in `project`, audited as coming from the CLI: for a command
    that needs two (say, to ask a person between looking up and acting)."""
    with rt.db.tenant(project.id, {"source": "cli"}) as conn:
        yield conn
