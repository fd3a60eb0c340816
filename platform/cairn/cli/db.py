"""`cairn db …`: the database schema."""

from __future__ import annotations

import click

from cairn.cli.context import open_runtime
from cairn.cli.output import Result, command_output
from cairn.db import migrate


@click.group("db")
def db_group() -> None:
    """Database roles and schema migrations."""


@db_group.command("upgrade")
@command_output
def upgrade() -> Result:
    """Create or update the database roles and migrate the control plane to head.

    Safe to run repeatedly and from several machines at once."""
    with open_runtime(upgrade=False) as rt:
        revision = migrate.upgrade(rt.db)
    return Result({"revision": revision}, [f"database at revision {revision}"])
