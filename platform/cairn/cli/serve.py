"""`cairn serve` (everything, embedded by default) and `cairn web` (the web app only)."""

from __future__ import annotations

import sys

import click

from cairn.cli.context import external_settings, settings_from_env
from cairn.cli.output import command_output


@click.command("serve")
@command_output
def serve() -> None:
    """Run Cairn: the web app (and workers) on the embedded Postgres and Redis unless
    CAIRN_DATABASE_URL / CAIRN_REDIS_URL point elsewhere. Migrates on start."""
    from cairn.bootstrap import first_start
    from cairn.db import migrate
    from cairn.embedded import start_embedded
    from cairn.runtime import Runtime
    from cairn.serving import Supervisor

    configured = settings_from_env(server=True)
    settings, services = start_embedded(configured)
    try:
        rt = Runtime(settings)
        try:
            migrate.upgrade(rt.db)
            first = first_start(rt)
        finally:
            rt.close()
        supervisor = Supervisor(settings)
        for command in ("web", "worker", "scheduler"):
            supervisor.start(command)
        base = f"http://{settings.host}:{settings.port}"
        click.echo(f"Cairn {base}  ({configured.mode}, data in {settings.data_dir})")
        if first is not None:
            project, issued = first
            click.echo(
                f"\nFirst start: created project '{project.slug}' and an admin API key.\n"
                f"It is shown only this once:\n\n  {issued.secret}\n\n"
                f"Try:  curl -H 'Authorization: Bearer {issued.secret}' "
                f"{base}/api/v1/projects/{project.slug}/api-keys\n"
            )
        code = supervisor.wait()
    finally:
        services.stop()
    sys.exit(code)


@click.command("web")
@command_output
def web() -> None:
    """Run only the web app under gunicorn (Kubernetes: one container per pod). Needs
    CAIRN_DATABASE_URL and CAIRN_REDIS_URL; does not migrate (run `cairn db upgrade`).
    Listens on CAIRN_HOST:CAIRN_PORT (PORT when CAIRN_PORT is unset); CAIRN_WEB_WORKERS /
    CAIRN_WEB_THREADS size it, CAIRN_PROXY_HOPS / CAIRN_FORWARDED_ALLOW_IPS trust proxies."""
    from cairn.serving import prepare_metrics_dir, run_web

    settings = external_settings("web")
    prepare_metrics_dir()
    run_web(settings)
