"""`cairn users …`: a project's end users. The CLI acts as the machine's operator."""

from __future__ import annotations

import secrets
import sys
from typing import Any
from uuid import UUID

import click
from sqlalchemy import Connection

from cairn.auth.principal import operator
from cairn.cli.context import cli_tenant, in_project, open_runtime, project_option
from cairn.cli.output import Result, command_output, table
from cairn.errors import NotFound
from cairn.users import service as users

_COLUMNS = ["id", "email", "verified", "disabled", "created_at", "last_login_at"]


@click.group("users")
def users_group() -> None:
    """List, create, disable, delete and sign out a project's end users."""


def _find(conn: Connection, project_id: UUID, who: str) -> users.User:
    """A user by email or id."""
    try:
        return users.get_user(conn, project_id, UUID(who))
    except ValueError:
        pass
    found = users.find_user(conn, project_id, who)
    if found is None:
        raise NotFound(f"no user '{who}' in this project")
    return found


def _shown(user: users.User) -> Result:
    data = user.to_dict()
    return Result(data, [f"{key}: {value}" for key, value in data.items()])


@users_group.command("list")
@project_option
@click.option("--search", help="Only emails starting with this.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@command_output
def list_(slug: str, search: str | None, limit: int) -> Result:
    """List users in sign-up order."""
    with in_project(slug) as (_, project, conn):
        found, more = users.list_users(conn, project.id, search=search, limit=limit)
    rows = [u.to_dict() for u in found]
    lines = table(rows, _COLUMNS) if rows else ["no users"]
    if more:
        lines.append(f"(first {limit}; raise --limit or narrow --search for more)")
    return Result({"items": rows, "more": more}, lines)


@users_group.command("show")
@project_option
@click.argument("who")
@command_output
def show(slug: str, who: str) -> Result:
    """Show one user (by email or id)."""
    with in_project(slug) as (_, project, conn):
        return _shown(_find(conn, project.id, who))


@users_group.command("create")
@project_option
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--verified", is_flag=True, help="Mark the email address as verified.")
@command_output
def create(slug: str, email: str, password_stdin: bool, verified: bool) -> Result:
    """Create a user. Without --password-stdin a password is generated and printed once."""
    generated = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = generated = secrets.token_urlsafe(18)
    with in_project(slug) as (rt, project, conn):
        user = users.create_user(
            conn, rt.user_auth, project, email=email, password=password, profile={},
            actor=operator(project.id).actor, verified=verified,
        )  # fmt: skip
    data: dict[str, Any] = user.to_dict()
    lines = [f"created user {user.id} ({user.email})"]
    if generated is not None:
        data["password"] = generated
        lines += ["", f"  password: {generated}", "", "This is the only time it is shown."]
    return Result(data, lines)


def _set_disabled(slug: str, who: str, disabled: bool) -> Result:
    with in_project(slug) as (rt, project, conn):
        user = _find(conn, project.id, who)
        user = users.admin_update(
            conn, rt.user_auth, project, operator(project.id), user.id, {"disabled": disabled}
        )
    return _shown(user)


@users_group.command("disable")
@project_option
@click.argument("who")
@command_output
def disable(slug: str, who: str) -> Result:
    """Disable a user: sign-in is refused and every session ends."""
    return _set_disabled(slug, who, True)


@users_group.command("enable")
@project_option
@click.argument("who")
@command_output
def enable(slug: str, who: str) -> Result:
    """Let a disabled user sign in again."""
    return _set_disabled(slug, who, False)


@users_group.command("logout")
@project_option
@click.argument("who")
@command_output
def logout(slug: str, who: str) -> Result:
    """End every session of a user."""
    with in_project(slug) as (_, project, conn):
        user = _find(conn, project.id, who)
        ended = users.force_logout(conn, project.id, operator(project.id), user.id)
    return Result({"id": str(user.id), "sessions_ended": ended}, [f"ended {ended} session(s)"])


@users_group.command("delete")
@project_option
@click.argument("who")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@command_output
def delete(slug: str, who: str, yes: bool) -> Result:
    """Delete a user with their sessions and linked identities (records they own stay)."""
    with open_runtime() as rt:
        project = rt.projects.resolve(slug)
        with cli_tenant(rt, project) as conn:
            email = _find(conn, project.id, who).email
        if not yes:  # asked outside any transaction: nothing is held while a person decides
            click.confirm(f"Delete user {email}?", abort=True, err=True)
        with cli_tenant(rt, project) as conn:
            user = _find(conn, project.id, who)
            users.delete_user(conn, project.id, operator(project.id), user.id)
    return Result({"id": str(user.id), "deleted": True}, [f"deleted user {user.email}"])
