"""Applying a project file: collections, webhooks, schedules and limits as one plan, in one
transaction.

Sections the file leaves out are left as they are. The plan is refused whole if any step is
blocked, or destructive without `allow_destructive`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from uuid import UUID

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from cairn.errors import Conflict
from cairn.progress import QUIET, Progress
from cairn.schedules import service as schedules
from cairn.schema import engine
from cairn.schema import service as collections
from cairn.tenancy import service as tenancy
from cairn.tenancy.project_file import ProjectFile
from cairn.tenancy.service import Project
from cairn.users import providers
from cairn.users.service import auth_settings, user_fields
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
    provider_box: webhooks.SecretBox,
    actor: str,
    app_role: str,
    allow_private: bool,
    allow_destructive: bool = False,
    dry_run: bool = False,
    progress: Progress = QUIET,
) -> Applied:
    collection_plan = None
    # Rules may name profile fields as @request.auth.<field>: check them against the file's.
    profile_names = (
        document.users.names if document.users is not None else user_fields(project).names
    )
    if document.collections is not None:
        collection_plan = collections.apply_collections(
            conn,
            project,
            document.collections,
            actor=actor,
            app_role=app_role,
            dry_run=True,
            profile_names=profile_names,
        )
    generated: dict[str, str] = {}
    steps: list[engine.Step] = _settings_steps(project, document)
    if document.providers is not None:
        steps += _provider_steps(conn, provider_box, project, document.providers, actor)
    if document.webhooks is not None:
        steps += _webhook_steps(
            conn, box, project, document.webhooks, actor, allow_private, generated
        )
    if document.schedules is not None:
        steps += _schedule_steps(conn, box, project, document.schedules, actor, allow_private)
    if document.limits is not None and document.limits != project.limits:
        wanted = document.limits
        steps.append(
            engine.Step(
                "set_limits",
                "",
                f"set rate limits {wanted or '(defaults)'}",
                "limits",
                run=lambda ctx: tenancy.set_limits(ctx.conn, project, wanted),
            )
        )
    plan = engine.Plan([*(collection_plan.steps if collection_plan else []), *steps])
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
    progress.expect(len([s for s in plan.steps if s.run is not None and not s.concurrent]))
    if document.collections is not None:
        collection_plan = collections.apply_collections(
            conn,
            project,
            document.collections,
            actor=actor,
            app_role=app_role,
            allow_destructive=True,
            profile_names=profile_names,
            progress=progress,
        )
    context = engine.Context(
        conn,
        Operations(MigrationContext.configure(conn)),
        project.schema_name,
        app_role,
        str(project.id),
        {},
    )
    for step in steps:
        assert step.run is not None
        step.run(context)
        progress.advance(1)
    return Applied(plan, collection_plan, generated)


def export_project(conn: Connection, project: Project) -> dict[str, Any]:
    """The project file that re-applies as a no-op: every section, never a secret."""
    document: dict[str, Any] = {
        "collections": collections.export_collections(conn, project),
        "webhooks": [w.definition().to_dict() for w in webhooks.list_webhooks(conn, project.id)],
        "schedules": [s.definition.to_dict() for s in schedules.list_schedules(conn, project.id)],
    }
    if project.limits:
        document["limits"] = project.limits
    profile = user_fields(project).to_dict()
    if profile:
        document["users"] = profile
    auth = auth_settings(project).to_dict()
    configured = [p.definition.to_dict() for p in providers.list_providers(conn, project.id)]
    if configured:
        auth["providers"] = configured
    if auth:
        document["auth"] = auth
    return document


def _provider_steps(
    conn: Connection,
    box: webhooks.SecretBox,
    project: Project,
    desired: list[providers.ProviderDef],
    actor: str,
) -> list[engine.Step]:
    current = {p.name: p for p in providers.list_providers(conn, project.id)}
    sealed = providers.sealed_secrets(conn, project.id)
    return _named_steps(
        "auth_provider",
        {n: p.id for n, p in current.items()},
        desired,
        changed=lambda p: providers.differs(box, current[p.name], sealed[current[p.name].id], p),
        save=lambda c, wanted, provider_id: providers.save_provider(
            c, box, project.id, wanted, actor=actor, provider_id=provider_id
        ),
        delete=lambda c, i: providers.delete_provider(c, project.id, i, actor=actor),
        describe=lambda p: p.name,
        loses="linked sign-ins",
    )


def _settings_steps(project: Project, document: ProjectFile) -> list[engine.Step]:
    """Profile fields and auth settings: one step each when the file changes them."""
    steps = []
    if document.users is not None:
        wanted_fields = document.users.to_dict()
        if wanted_fields != user_fields(project).to_dict():
            steps.append(
                engine.Step(
                    "set_user_fields",
                    "",
                    f"set user profile fields: {', '.join(document.users.names) or '(none)'}",
                    "users",
                    run=lambda ctx: tenancy.set_user_fields(ctx.conn, project, wanted_fields),
                )
            )
    if document.auth is not None:
        wanted_auth = document.auth.to_dict()
        if wanted_auth != auth_settings(project).to_dict():
            steps.append(
                engine.Step(
                    "set_auth",
                    "",
                    f"set auth settings {wanted_auth or '(defaults)'}",
                    "auth",
                    run=lambda ctx: tenancy.set_auth(ctx.conn, project, wanted_auth),
                )
            )
    return steps


def _named_steps(
    kind: str,
    current: dict[str, UUID],
    desired: Sequence[Any],
    *,
    changed: Callable[[Any], bool],
    save: Callable[[Connection, Any, UUID | None], object],
    delete: Callable[[Connection, UUID], object],
    describe: Callable[[Any], str],
    loses: str,
) -> list[engine.Step]:
    """Make the project's named things of one kind exactly `desired`: create what is new,
    update what `changed`, delete the rest (destructive: it discards `loses`)."""
    steps = []
    for wanted in desired:
        item_id = current.get(wanted.name)
        if item_id is not None and not changed(wanted):
            continue
        verb = "create" if item_id is None else "update"
        steps.append(
            engine.Step(
                f"{verb}_{kind}",
                "",
                f"{verb} {kind} {describe(wanted)}",
                wanted.name,
                run=partial(_saving, save, wanted, item_id),
            )
        )
    for name in sorted(current.keys() - {w.name for w in desired}):
        steps.append(
            engine.Step(
                f"delete_{kind}",
                "",
                f"delete {kind} {name} and its {loses}",
                name,
                destructive=True,
                run=partial(_deleting, delete, current[name]),
            )
        )
    return steps


def _saving(
    save: Callable[[Connection, Any, UUID | None], object],
    wanted: Any,
    item_id: UUID | None,
    ctx: engine.Context,
) -> None:
    save(ctx.conn, wanted, item_id)


def _deleting(
    delete: Callable[[Connection, UUID], object], item_id: UUID, ctx: engine.Context
) -> None:
    delete(ctx.conn, item_id)


def _webhook_steps(
    conn: Connection,
    box: webhooks.SecretBox,
    project: Project,
    desired: list[webhooks.WebhookDef],
    actor: str,
    allow_private: bool,
    generated: dict[str, str],
) -> list[engine.Step]:
    current = {w.name: w for w in webhooks.list_webhooks(conn, project.id)}
    sealed = webhooks.sealed_secrets(conn, project.id)
    for wanted in desired:  # refuse an unsafe new URL while planning, not half-way through
        if wanted.name not in current or current[wanted.name].url != wanted.url:
            webhooks.check_url(
                wanted.url, allow_private=allow_private, field=f"webhooks.{wanted.name}.url"
            )

    def save(c: Connection, wanted: webhooks.WebhookDef, webhook_id: UUID | None) -> None:
        _, secret = webhooks.save_webhook(
            c,
            box,
            project.id,
            wanted,
            actor=actor,
            allow_private=allow_private,
            webhook_id=webhook_id,
            url_checked=True,  # while planning
        )
        if secret is not None:
            generated[wanted.name] = secret

    return _named_steps(
        "webhook",
        {n: w.id for n, w in current.items()},
        desired,
        changed=lambda w: webhooks.differs(box, current[w.name], sealed[current[w.name].id], w),
        save=save,
        delete=lambda c, i: webhooks.delete_webhook(c, project.id, i, actor=actor),
        describe=lambda w: w.name if w.name in current else f"{w.name} → {w.url}",
        loses="delivery log",
    )


def _schedule_steps(
    conn: Connection,
    box: webhooks.SecretBox,
    project: Project,
    desired: list[schedules.ScheduleDef],
    actor: str,
    allow_private: bool,
) -> list[engine.Step]:
    current = {s.definition.name: s for s in schedules.list_schedules(conn, project.id)}
    for wanted in desired:  # refuse an unsafe new URL while planning, not half-way through
        url = schedules.webhook_url(wanted)
        stored = current[wanted.name].definition if wanted.name in current else None
        if url is not None and url != schedules.webhook_url(stored):
            webhooks.check_url(
                url, allow_private=allow_private, field=f"schedules.{wanted.name}.action.url"
            )

    def save(c: Connection, wanted: schedules.ScheduleDef, schedule_id: UUID | None) -> None:
        if schedule_id is not None:
            wanted = schedules.keeping_secret(current[wanted.name].definition, wanted)
        schedules.save_schedule(
            c,
            box,
            project.id,
            wanted,
            actor=actor,
            allow_private=allow_private,
            schedule_id=schedule_id,
            url_checked=True,  # while planning
        )

    return _named_steps(
        "schedule",
        {n: s.id for n, s in current.items()},
        desired,
        changed=lambda s: schedules.differs(box, current[s.name].definition, s),
        save=save,
        delete=lambda c, i: schedules.delete_schedule(c, project.id, i, actor=actor),
        describe=lambda s: s.name if s.name in current else f"{s.name} ({s.cron})",
        loses="run history",
    )
