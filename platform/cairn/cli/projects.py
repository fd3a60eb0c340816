"""`cairn projects …`: the tenants of this instance."""

from __future__ import annotations

from dataclasses import asdict

import click

from cairn.cli.context import open_runtime
from cairn.cli.output import Result, command_output, table
from cairn.tenancy import service

_COLUMNS = ["slug", "name", "id", "created_at"]


@click.group("projects")
def projects_group() -> None:
    """Create, list, show and delete projects."""


@projects_group.command("create")
@click.argument("slug")
@click.option("--name", help="A display name (defaults to the slug).")
@command_output
def create(slug: str, name: str | None) -> Result:
    """Create project SLUG with its own schema for collections."""
    with open_runtime() as rt, rt.db.owner() as conn:
        project = service.create_project(
            conn, slug=slug, name=name, app_role=rt.settings.db_app_role
        )
    return Result(asdict(project), [f"created project {project.slug} ({project.id})"])


@projects_group.command("list")
@command_output
def list_() -> Result:
    """List every project."""
    with open_runtime() as rt, rt.db.unscoped() as conn:
        found = [asdict(p) for p in service.list_projects(conn)]
    return Result({"items": found}, table(found, _COLUMNS) if found else ["no projects"])


@projects_group.command("show")
@click.argument("slug")
@command_output
def show(slug: str) -> Result:
    """Show one project."""
    with open_runtime() as rt, rt.db.unscoped() as conn:
        project = asdict(service.get_project(conn, slug))
    return Result(project, [f"{k}: {v}" for k, v in project.items()])


@projects_group.command("delete")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@command_output
def delete(slug: str, yes: bool) -> Result:
    """Delete project SLUG and ALL its data (collections, keys, audit log). Irreversible."""
    with open_runtime() as rt:
        with rt.db.unscoped() as conn:
            service.get_project(conn, slug)  # a clear "not found" before asking
        if not yes:
            click.confirm(
                f"Delete project '{slug}' and all of its data? This cannot be undone",
                abort=True,
                err=True,
            )
        with rt.db.owner() as conn:
            project = service.delete_project(conn, slug)
    return Result(asdict(project), [f"deleted project {project.slug}"])
