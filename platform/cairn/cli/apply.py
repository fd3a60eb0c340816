"""`cairn apply` and `cairn export`: the project file in and out."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cairn.cli.context import in_project, open_runtime, project_option
from cairn.cli.output import Result, command_output
from cairn.cli.progress import progress_bar
from cairn.errors import Conflict, Invalid
from cairn.schema import service
from cairn.schema.engine import Plan
from cairn.tenancy import project_file
from cairn.tenancy.apply import apply_project, export_project

# A plan that is done sooner shows no bar: only work on large tables takes this long.
_QUIET_SECONDS = 0.5
_MARK = {
    "create_collection": "+",
    "add_field": "+",
    "add_index": "+",
    "add_constraint": "+",
    "drop_collection": "-",
    "drop_field": "-",
    "drop_index": "-",
    "drop_constraint": "-",
}


def plan_lines(plan: dict[str, object]) -> list[str]:
    lines = []
    for step in plan["steps"]:  # type: ignore[attr-defined]
        mark = _MARK.get(step["action"], "~")
        flags = " [destructive]" if step["destructive"] else ""
        flags += f" [blocked: {step['blocked']}]" if step["blocked"] else ""
        lines.append(f"  {mark} {step['summary']}{flags}")
    return lines


@click.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@project_option
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--allow-destructive", is_flag=True, help="Allow drops and narrowing changes.")
@command_output
def apply(file: Path, slug: str, dry_run: bool, allow_destructive: bool) -> Result:
    """Make the project's collections exactly what FILE declares (YAML or JSON).

    Collections missing from the file are dropped, which is destructive."""
    try:
        desired = project_file.parse(file.read_text())
    except UnicodeDecodeError:
        raise Invalid(f"{file} is not a text file") from None
    with open_runtime() as rt:
        project = rt.projects.resolve(slug)
        try:
            with (
                progress_bar("apply", unit="step", scaled=False, delay=_QUIET_SECONDS) as progress,
                rt.db.owner(project.id, source="cli") as conn,
            ):
                applied = apply_project(
                    conn,
                    rt.webhook_box,
                    project,
                    desired,
                    provider_box=rt.provider_box,
                    actor="operator",
                    app_role=rt.settings.db_app_role,
                    allow_private=rt.settings.webhook_allow_private,
                    allow_destructive=allow_destructive,
                    dry_run=dry_run,
                    progress=progress,
                )
        except Conflict as exc:
            for line in plan_lines(exc.extra.get("plan", {"steps": []})):
                click.echo(line, err=True)
            raise
        if not dry_run and applied.collections_plan is not None:
            with (
                progress_bar(
                    "build indexes", unit="index", scaled=False, delay=_QUIET_SECONDS
                ) as progress,
                rt.db.owner_autocommit() as conn,
            ):
                service.build_concurrently(conn, project, applied.collections_plan, progress)
    return _result(applied.plan, dry_run, applied.generated_secrets)


def _result(plan: Plan, dry_run: bool, secrets: dict[str, str]) -> Result:
    data = {**plan.to_dict(), "applied": not dry_run and not plan.empty}
    if secrets:
        data["webhook_secrets"] = secrets
    if plan.empty:
        return Result(data, ["nothing to change"])
    heading = "plan (dry run, nothing applied):" if dry_run else "applied:"
    lines = [heading, *plan_lines(plan.to_dict())]
    for name, secret in secrets.items():
        lines += ["", f"webhook {name} signing secret (shown only this once):", f"  {secret}"]
    return Result(data, lines)


@click.command("export")
@project_option
@command_output
def export(slug: str) -> Result:
    """Print the project file (YAML; JSON with --json). Applying it back changes nothing."""
    with in_project(slug) as (_, project, conn):
        document = export_project(conn, project)
    return Result(json.loads(json.dumps(document)), [project_file.dump(document).rstrip()])
