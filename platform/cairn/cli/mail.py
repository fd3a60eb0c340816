"""`cairn mail …`: a project's mails — the local mailbox when no SMTP is configured, the
outbox (queued, sent, failed) when it is."""

from __future__ import annotations

from uuid import UUID

import click

from cairn.cli.context import in_project, project_option
from cairn.cli.output import Result, command_output, table
from cairn.mail import service

_COLUMNS = ["id", "status", "to_address", "subject", "template", "attempts", "created_at"]


@click.group("mail")
def mail_group() -> None:
    """Read a project's mails (the local mailbox when no SMTP is configured)."""


@mail_group.command("list")
@project_option
@click.option(
    "--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="Mails to show."
)
@click.option("--before", type=click.UUID, help="Show mails older than this mail id.")
@command_output
def list_(slug: str, limit: int, before: UUID | None) -> Result:
    """List mails, newest first (with their bodies under --json)."""
    with in_project(slug) as (_, project, conn):
        found, more = service.list_mails(conn, project.id, limit=limit, before=before)
    rows = [m.to_dict() for m in found]
    text = table(rows, _COLUMNS) if rows else ["no mails"]
    if more:
        text.append(f"(older mails follow: --before {found[-1].id})")
    return Result({"items": rows, "more": more}, text)


@mail_group.command("show")
@project_option
@click.argument("mail_id", type=click.UUID)
@command_output
def show(slug: str, mail_id: UUID) -> Result:
    """Print one mail: its headers and text body."""
    with in_project(slug) as (_, project, conn):
        mail = service.get_mail(conn, project.id, mail_id)
    lines = [
        f"To: {mail.to_address}",
        f"Subject: {mail.subject}",
        f"Status: {mail.status} (attempts: {mail.attempts})",
        f"Created: {mail.created_at.isoformat()}",
    ]
    if mail.sent_at is not None:
        lines.append(f"Sent: {mail.sent_at.isoformat()}")
    if mail.last_error:
        lines.append(f"Last error: {mail.last_error}")
    lines += ["", mail.text_body.rstrip("\n")]
    return Result(mail.to_dict(), lines)
