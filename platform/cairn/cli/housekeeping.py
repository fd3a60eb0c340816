"""`cairn housekeeping`: expire what has outlived its retention, now (the scheduler also
runs it hourly)."""

from __future__ import annotations

import click

from cairn.cli.context import open_runtime
from cairn.cli.output import Result, command_output
from cairn.jobs import context, tasks


@click.command("housekeeping")
@command_output
def housekeeping() -> Result:
    """Expire idempotency keys and drop what outlived CAIRN_RETENTION, in every project
    (what the scheduler runs hourly)."""
    with open_runtime() as rt:
        context.use(rt)
        purged = tasks.housekeeping()
    return Result(purged, [f"{kind}: {count} removed" for kind, count in purged.items()])
