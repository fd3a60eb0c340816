"""`cairn schedules list`: a project's schedules with their next and last runs."""

from __future__ import annotations

import click

from cairn.cli.context import in_project, project_option
from cairn.cli.output import Result, command_output, table
from cairn.schedules import service

_COLUMNS = ["name", "cron", "timezone", "next_run_at", "last_run_at", "last_status"]


@click.group("schedules")
def schedules_group() -> None:
    """Per-project schedules (declare them in the project file or at /schedules)."""


@schedules_group.command("list")
@project_option
@command_output
def list_(slug: str) -> Result:
    """List schedules: cron, time zone, next and last run, last status."""
    with in_project(slug) as (_, project, conn):
        found = service.list_schedules(conn, project.id)
    rows = [s.to_dict() for s in found]
    return Result({"items": rows}, table(rows, _COLUMNS) if rows else ["no schedules"])
