"""Applying a project file: its collections and its webhooks as one plan, one transaction.

Sections the file leaves out are left as they are. The plan is refused whole if any step is
blocked, or destructive without `allow_destructive`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from cairn.errors import Conflict
from cairn.schedules import service as schedules
from cairn.schema import engine
from cairn.schema import service as collections
from cairn.tenancy import service as tenancy
from cairn.tenancy.project_file import ProjectFile
from cairn.tenancy.service import Project
from cairn.webhooks import service as webhooks


@dataclass
class Applied:
    plan: engine.Plan
    collections_plan: engine.Plan | None
    # Webhook secrets Cairn generated: shown once, by the caller.
    generated_secrets: dict[str, str] = field(default_factory=dict)


def apply_project(
    conn: Connection,
    box: webhooks.SecretBox,
    project: Project,
    document: ProjectFile,
    *,
    actor: str,
    app_role: str,
    allow_private: bool,
    allow_destructive: bool = False,
    dry_run: bool = False,
) -> Applied:
    collection_plan = None
    if document.collections is not None:
        collection_plan = collections.apply_collections(
            conn, project, document.collections, actor=actor, app_role=app_role, dry_run=True
        )
    generated: dict[str, str] = {}
    webhook_steps = []
    if document.webhooks is not None:
        webhook_steps = webhooks.plan_webhooks(
            conn,
            box,
            project.id,
            document.webhooks,
            actor=actor,
            allow_private=allow_private,
            generated=generated,
        )
    schedule_steps = []
    if document.schedules is not None:
        schedule_steps = schedules.plan_schedules(
            conn, box, project.id, document.schedules, actor=actor, allow_private=allow_private
        )
    limit_steps = []
    if document.limits is not None and document.limits != project.limits:
        wanted = document.limits

        def set_limits(ctx: engine.Context) -> None:
            tenancy.set_limits(ctx.conn, project, wanted)

        limit_steps.append(
            engine.Step(
                "set_limits",
                "",
                f"set rate limits {wanted or '(defaults)'}",
                "limits",
                run=set_limits,
            )
        )
    plan = engine.Plan(
        [
            *(collection_plan.steps if collection_plan else []),
            *webhook_steps,
            *schedule_steps,
            *limit_steps,
        ]
    )
    if dry_run:
        return Applied(plan, collection_plan)
    if plan.blocked:
        raise Conflict(
            "the current data does not allow this change; nothing was applied", plan=plan.to_dict()
        )
    if plan.destructive and not allow_destructive:
        raise Conflict(
            "the plan has destructive steps; repeat with allow_destructive to apply it",
            plan=plan.to_dict(),
        )
    if document.collections is not None:
        collection_plan = collections.apply_collections(
            conn,
            project,
            document.collections,
            actor=actor,
            app_role=app_role,
            allow_destructive=True,
        )
    context = engine.Context(conn, None, project.schema_name, app_role, str(project.id), {})  # type: ignore[arg-type]
    for step in [*webhook_steps, *schedule_steps, *limit_steps]:
        assert step.run is not None
        step.run(context)
    return Applied(plan, collection_plan, generated)
