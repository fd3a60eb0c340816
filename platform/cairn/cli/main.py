"""The `cairn` command. Imports stay light: `cairn web` must set up metrics before the web
app (and prometheus_client) is loaded."""

from __future__ import annotations

import click

from cairn import __version__
from cairn.cli.admins import admins_group
from cairn.cli.apply import apply, export
from cairn.cli.audit import audit_group
from cairn.cli.db import db_group
from cairn.cli.housekeeping import housekeeping
from cairn.cli.jobs import jobs_group, scheduler, worker
from cairn.cli.keys import keys_group
from cairn.cli.mail import mail_group
from cairn.cli.projects import projects_group
from cairn.cli.providers import providers_group
from cairn.cli.schedules import schedules_group
from cairn.cli.sdk import sdk_group
from cairn.cli.serve import serve, web
from cairn.cli.users import users_group


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cairn")
def cli() -> None:
    """Cairn: a self-hosted backend-as-a-service. Configure with CAIRN_* variables."""


cli.add_command(serve)
cli.add_command(web)
cli.add_command(db_group)
cli.add_command(projects_group)
cli.add_command(keys_group)
cli.add_command(apply)
cli.add_command(export)
cli.add_command(housekeeping)
cli.add_command(worker)
cli.add_command(scheduler)
cli.add_command(schedules_group)
cli.add_command(jobs_group)
cli.add_command(mail_group)
cli.add_command(audit_group)
cli.add_command(admins_group)
cli.add_command(providers_group)
cli.add_command(users_group)
cli.add_command(sdk_group)


def main() -> None:
    cli(prog_name="cairn")


if __name__ == "__main__":
    main()
