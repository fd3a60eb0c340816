"""`cairn admins …`: the platform admins who sign in to the admin UI.

Passwords are prompted twice with hidden input, read from stdin (`--password-stdin`) or
generated (`--generate`, printed once). Prompts and one-time setup text go to stderr, so that
stdout holds only the result (JSON with --json).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import click
from sqlalchemy import Connection

from cairn.admins import service
from cairn.admins.service import Admin
from cairn.cli.context import open_runtime
from cairn.cli.output import Result, command_output, table
from cairn.errors import Invalid
from cairn.runtime import Runtime

_COLUMNS = ["email", "status", "totp_enabled", "failed_attempts", "last_login_at", "created_at"]
_TOTP_TRIES = 3


@click.group("admins")
def admins_group() -> None:
    """Create and manage the platform admins who sign in to the admin UI."""


def _admin_data(admin: Admin) -> dict[str, Any]:
    return {**asdict(admin), "status": admin.status}


@contextmanager
def _owner() -> Iterator[tuple[Runtime, Connection]]:
    """Admins are platform rows: only the owner role reaches them."""
    with open_runtime() as rt, rt.db.owner() as conn:
        yield rt, conn


def _password_options(func: Any) -> Any:
    func = click.option(
        "--generate", is_flag=True, help="Generate a strong password and print it once."
    )(func)
    return click.option(
        "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
    )(func)


def _read_password(password_stdin: bool, generate: bool) -> str | None:
    """The password asked for; None when it is to be generated."""
    if password_stdin and generate:
        raise click.UsageError("--password-stdin and --generate exclude each other")
    if generate:
        return None
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return password


def _with_password(data: dict[str, Any], lines: list[str], generated: str | None) -> Result:
    if generated is None:
        return Result(data, lines)
    lines += [
        "",
        f"  {generated}",
        "",
        "This is the only time the password is shown. Store it now.",
    ]
    return Result({**data, "password": generated}, lines)


@admins_group.command("create")
@click.argument("email")
@_password_options
@command_output
def create(email: str, password_stdin: bool, generate: bool) -> Result:
    """Create admin EMAIL (password prompted unless --password-stdin or --generate)."""
    password = _read_password(password_stdin, generate)
    with _owner() as (rt, conn):
        created = service.create_admin(conn, rt.admin_crypto, email, password)
    admin = created.admin
    return _with_password(
        _admin_data(admin),
        [f"created admin {admin.email} ({admin.id})"],
        created.generated_password,
    )


@admins_group.command("list")
@command_output
def list_() -> Result:
    """List every admin (never a password or TOTP secret)."""
    with _owner() as (_, conn):
        rows = [_admin_data(a) for a in service.list_admins(conn)]
    return Result({"items": rows}, table(rows, _COLUMNS) if rows else ["no admins"])


@admins_group.command("disable")
@click.argument("email")
@command_output
def disable(email: str) -> Result:
    """Refuse EMAIL's sign-ins and end their sessions."""
    with _owner() as (_, conn):
        admin = service.disable_admin(conn, service.get_admin(conn, email).id)
    return Result(_admin_data(admin), [f"disabled admin {admin.email}; their sessions ended"])


@admins_group.command("enable")
@click.argument("email")
@command_output
def enable(email: str) -> Result:
    """Let a disabled admin sign in again."""
    with _owner() as (_, conn):
        admin = service.enable_admin(conn, service.get_admin(conn, email).id)
    return Result(_admin_data(admin), [f"enabled admin {admin.email}"])


@admins_group.command("unlock")
@click.argument("email")
@command_output
def unlock(email: str) -> Result:
    """Lift the lockout that repeated failed sign-ins put on EMAIL."""
    with _owner() as (_, conn):
        admin = service.unlock_admin(conn, service.get_admin(conn, email).id)
    return Result(_admin_data(admin), [f"unlocked admin {admin.email}"])


@admins_group.command("set-password")
@click.argument("email")
@_password_options
@command_output
def set_password(email: str, password_stdin: bool, generate: bool) -> Result:
    """Replace EMAIL's password; their sessions end."""
    password = _read_password(password_stdin, generate)
    generated = None
    if password is None:
        password = generated = service.generate_password()
    with _owner() as (rt, conn):
        admin = service.set_password(
            conn,
            rt.admin_crypto,
            service.get_admin(conn, email).id,
            password,
        )
    lines = [f"changed the password of admin {admin.email}; their sessions ended"]
    return _with_password(_admin_data(admin), lines, generated)


@admins_group.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@command_output
def delete(email: str, yes: bool) -> Result:
    """Delete admin EMAIL and their sessions."""
    with open_runtime() as rt:
        with rt.db.owner() as conn:
            service.get_admin(conn, email)  # a clear "not found" before asking
        if not yes:
            click.confirm(f"Delete admin '{email}'?", abort=True, err=True)
        with rt.db.owner() as conn:
            admin = service.delete_admin(conn, service.get_admin(conn, email).id)
    return Result(_admin_data(admin), [f"deleted admin {admin.email}"])


@admins_group.group("totp")
def totp_group() -> None:
    """The optional second factor: time-based one-time codes (RFC 6238)."""


@totp_group.command("enable")
@click.argument("email")
@command_output
def totp_enable(email: str) -> Result:
    """Enrol an authenticator for EMAIL: shows the secret, then asks for a code to confirm."""
    with open_runtime() as rt:
        crypto = rt.admin_crypto
        with rt.db.owner() as conn:
            admin = service.get_admin(conn, email)
            setup = service.begin_totp(conn, crypto, admin.id)
        # One-time setup text goes to stderr with the prompt: stdout keeps only the result.
        for line in [
            f"Add this to the authenticator app of {admin.email} (or scan it as a QR code):",
            "",
            f"  {setup.uri}",
            "",
            f"Secret, to type in by hand: {setup.secret}",
        ]:
            click.echo(line, err=True)
        for attempt in range(1, _TOTP_TRIES + 1):
            code = click.prompt("Code from the authenticator", err=True)
            try:
                with rt.db.owner() as conn:
                    admin = service.confirm_totp(conn, crypto, admin.id, code)
                break
            except Invalid:
                if attempt == _TOTP_TRIES:
                    raise
                click.echo("That code does not match; try again.", err=True)
    return Result(_admin_data(admin), [f"TOTP is now required for admin {admin.email}"])


@totp_group.command("disable")
@click.argument("email")
@command_output
def totp_disable(email: str) -> Result:
    """Stop asking EMAIL for a TOTP code and forget their secret."""
    with _owner() as (_, conn):
        admin = service.disable_totp(conn, service.get_admin(conn, email).id)
    return Result(_admin_data(admin), [f"TOTP is now off for admin {admin.email}"])


@admins_group.group("sessions")
def sessions_group() -> None:
    """An admin's sessions in the admin UI."""


@sessions_group.command("revoke")
@click.argument("email")
@command_output
def sessions_revoke(email: str) -> Result:
    """Sign EMAIL out everywhere."""
    with _owner() as (_, conn):
        admin = service.get_admin(conn, email)
        ended = service.revoke_sessions(conn, admin.id)
    return Result(
        {"email": admin.email, "id": admin.id, "revoked": ended},
        [f"ended {ended} session{'' if ended == 1 else 's'} of admin {admin.email}"],
    )
