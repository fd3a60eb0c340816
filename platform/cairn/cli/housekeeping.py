"""`cairn housekeeping`: expire what has outlived its retention (the scheduler runs this
periodically once jobs exist; operators may run it from cron until then)."""

from __future__ import annotations

import click

from cairn.cli.context import open_runtime
from cairn.cli.output import Result, command_output
from cairn.idempotency import service as idempotency
from cairn.tenancy.service import list_projects


@click.command("housekeeping")
@command_output
def housekeeping() -> Result:
    """Delete expired idempotency keys in every project."""
    purged = 0
    with open_runtime() as rt:
        with rt.db.unscoped() as conn:
            projects = list_projects(conn)
        for project in projects:
            with rt.db.tenant(project.id) as conn:
                purged += idempotency.purge_expired(conn, project.id)
    return Result(
        {"idempotency_keys_purged": purged, "projects": len(projects)},
        [f"purged {purged} expired idempotency key(s) in {len(projects)} project(s)"],
    )
