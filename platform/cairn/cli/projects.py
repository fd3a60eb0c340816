"""`cairn projects …`: the tenants of this instance."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cairn.backup import restore
from cairn.backup.archive import ArchiveReader, ArchiveWriter, Manifest
from cairn.backup.export import credentials_check, export_archive
from cairn.cli.context import open_runtime
from cairn.cli.output import Result, command_output, table
from cairn.cli.progress import progress_bar
from cairn.errors import Conflict
from cairn.tenancy import service

_COLUMNS = ["slug", "name", "id", "created_at"]


@click.group("projects")
def projects_group() -> None:
    """Create, list, show, delete, export and import projects."""


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


@projects_group.command("export")
@click.argument("slug")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write (default: SLUG-<UTC time>.zip here).",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@command_output
def export_(slug: str, out: Path | None, force: bool) -> Result:
    """Write project SLUG to a portable archive: its project file, every record, its users
    (with password hashes), API keys' hashes, OAuth providers, webhooks and schedules.

    The archive is consistent (one snapshot) while the project keeps working. Keep it as
    private as the database: it holds hashes and sealed secrets."""
    out = out or Path(f"{slug}-{datetime.now(UTC):%Y%m%d-%H%M%S}.zip")
    if out.exists() and not force:
        raise Conflict(f"{out} exists; choose another --out or pass --force to overwrite it")
    with open_runtime() as rt:
        project = rt.projects.resolve(slug)
        check = credentials_check(rt.settings.require_secret_key())
        writer = ArchiveWriter(out)
        try:
            with (
                rt.db.snapshot(project.id, {"source": "cli"}) as conn,
                progress_bar(f"export {slug}") as progress,
            ):
                manifest = export_archive(conn, project, writer, check=check, progress=progress)
        except BaseException:
            writer.discard()
            raise
    size = out.stat().st_size
    data = {"file": str(out), "bytes": size, **manifest.to_dict()}
    return Result(data, [f"exported project {slug} to {out} ({size:,} bytes)", *_counts(manifest)])


@projects_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "new_slug", help="The restored project's slug (default: the archive's).")
@click.option(
    "--reset-credentials",
    is_flag=True,
    help="Import from an instance with another CAIRN_SECRET_KEY: leave API keys and OAuth "
    "providers out and give webhooks new signing secrets.",
)
@command_output
def import_(file: Path, new_slug: str | None, reset_credentials: bool) -> Result:
    """Restore an archive written by `cairn projects export` as a new project, on this or
    another instance: whole, or nothing if any part of it does not fit."""
    reader = ArchiveReader(file)
    try:
        manifest = reader.manifest
        slug = new_slug or manifest.slug
        with open_runtime() as rt:
            check = credentials_check(rt.settings.require_secret_key())
            with progress_bar(f"import {slug}") as progress, rt.db.owner() as conn:
                imported = restore.import_archive(
                    conn,
                    reader,
                    slug=slug,
                    check=check,
                    app_role=rt.settings.db_app_role,
                    tenant_context=rt.settings.tenant_context,
                    box=rt.webhook_box,
                    provider_box=rt.provider_box,
                    actor="operator",
                    source="cli",
                    reset_credentials=reset_credentials,
                    progress=progress,
                )
    finally:
        reader.close()
    project = imported.project
    data: dict[str, Any] = {
        "project": asdict(project),
        "from": manifest.slug,
        "skipped": imported.skipped,
        "members": [asdict(m) for m in manifest.members],
    }
    lines = [f"imported {manifest.slug} as project {project.slug} ({project.id})"]
    lines += _counts(manifest)
    for name in imported.skipped:
        lines.append(f"  left out {name}: it depends on the source's secret key")
    if imported.new_secrets:
        data["new_secrets"] = imported.new_secrets
        for name, secret in imported.new_secrets.items():
            lines += ["", f"{name}: new signing secret (shown only this once):", f"  {secret}"]
    return Result(data, lines)


def _counts(manifest: Manifest) -> list[str]:
    records = [m for m in manifest.members if m.kind == "records"]
    tables = ", ".join(f"{m.source} {m.rows:,}" for m in manifest.members if m.kind == "table")
    total = sum(m.rows for m in records)
    return [f"  {total:,} records in {len(records)} collection(s)", f"  {tables}"]
