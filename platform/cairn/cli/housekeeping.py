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
    """Delete expired idempotency keys in every project (what the scheduler runs hourly)."""
    with open_runtime() as rt:
        context.use(rt)
        purged = tasks.housekeeping()
    return Result(
        {"idempotency_keys_purged": purged},
        [f"purged {purged} expired idempotency key(s)"],
    )
