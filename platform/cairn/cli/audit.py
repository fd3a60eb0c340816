"""`cairn audit …`: a project's audit log — who did what, when, from where."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from uuid import UUID

import click

from cairn.audit import service
from cairn.cli.context import in_project, project_option
from cairn.cli.output import Result, command_output, table
from cairn.durations import parse_duration
from cairn.errors import BadRequest

_COLUMNS = ["time", "actor", "action", "target", "source"]


def _row(entry: service.AuditEntry) -> dict[str, str | None]:
    return {
        "time": entry.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "source": entry.source,
    }


@click.group("audit")
def audit_group() -> None:
    """Read a project's audit log."""


def _when(text: str | None, name: str) -> datetime | None:
    """An RFC 3339 date-time, or a duration back from now (`24h`, `7d`)."""
    if text is None:
        return None
    try:
        return datetime.now(UTC) - parse_duration(text)
    except ValueError:
        pass
    try:
        return service.parse_time(text, name)
    except BadRequest:
        raise BadRequest(
            f"--{name} must be an RFC 3339 date-time (2024-05-01T12:00:00Z) or a duration "
            "back from now such as 24h or 7d"
        ) from None


@audit_group.command("list")
@project_option
@click.option("--action", help="Exact action, or a prefix ending in '.' (e.g. api_key.).")
@click.option("--actor", help="Exact actor, e.g. operator or key:<id>.")
@click.option("--target", help="Exact target, e.g. a key id.")
@click.option("--since", help="From this time on: RFC 3339, or a duration ago such as 24h.")
@click.option("--until", help="Before this time: RFC 3339, or a duration ago such as 1h.")
@click.option(
    "--limit",
    type=click.IntRange(1, 500),
    default=50,
    show_default=True,
    help="Entries per page.",
)
@click.option("--cursor", type=click.UUID, help="The next_cursor of the previous page.")
@command_output
def list_(
    slug: str,
    action: str | None,
    actor: str | None,
    target: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    cursor: UUID | None,
) -> Result:
    """List entries, newest first (times in UTC), a page at a time."""
    since_at, until_at = _when(since, "since"), _when(until, "until")
    with in_project(slug) as (_, project, conn):
        found, more = service.list_entries(
            conn,
            project.id,
            action=action,
            actor=actor,
            target=target,
            since=since_at,
            until=until_at,
            limit=limit,
            before=cursor,
        )
    rows = [asdict(entry) for entry in found]
    next_cursor = str(found[-1].id) if more else None
    lines = table([_row(e) for e in found], _COLUMNS) if rows else ["no entries"]
    if next_cursor is not None:
        lines.append(f"(older entries follow: --cursor {next_cursor})")
    return Result({"items": rows, "next_cursor": next_cursor}, lines)
