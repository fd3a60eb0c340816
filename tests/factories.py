"""Factories: real rows through the real services, one fresh project per call."""

from __future__ import annotations

import textwrap
import uuid
from datetime import timedelta
from typing import Any

from rq import Queue, SimpleWorker
from sqlalchemy import insert

from cairn.auth import keys
from cairn.auth.principal import operator
from cairn.db.engine import PendingJob
from cairn.db.ids import new_id
from cairn.jobs import context
from cairn.jobs.queues import enqueue_jobs
from cairn.runtime import Runtime
from cairn.schema import service as schema_service
from cairn.schema.engine import Plan
from cairn.schema.tables import build_table
from cairn.tenancy import project_file
from cairn.tenancy.apply import apply_project
from cairn.tenancy.service import Project, create_project, get_project_by_id


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def make_project(runtime: Runtime, slug: str | None = None, name: str | None = None) -> Project:
    with runtime.db.owner() as conn:
        return create_project(
            conn,
            slug=unique_slug() if slug is None else slug,
            name=name,
            app_role=runtime.settings.db_app_role,
        )


def make_key(
    runtime: Runtime,
    project: Project,
    scope: str = "admin",
    name: str | None = None,
    expires_in: timedelta | None = None,
) -> keys.IssuedKey:
    with runtime.db.tenant(project.id) as conn:
        return keys.create_key(
            conn,
            runtime.key_pepper,
            operator(project.id),
            scope=scope,
            name=name,
            expires_in=expires_in,
        )


def apply_yaml(
    runtime: Runtime,
    project: Project,
    document: str,
    *,
    allow_destructive: bool = False,
    dry_run: bool = False,
) -> Plan:
    """Apply a project file's collections exactly as `cairn apply` does."""
    with runtime.db.owner(project.id) as conn:
        return schema_service.apply_collections(
            conn,
            project,
            project_file.parse(textwrap.dedent(document)).collections or [],
            actor="operator",
            app_role=runtime.settings.db_app_role,
            allow_destructive=allow_destructive,
            dry_run=dry_run,
        )


def apply_file(runtime: Runtime, project: Project, document: str) -> Project:
    """Apply a whole project file as `cairn apply` does (destructive steps allowed) and
    return the project as it is now, with this process's cached copy dropped."""
    with runtime.db.owner(project.id) as conn:
        apply_project(
            conn,
            runtime.webhook_box,
            project,
            project_file.parse(textwrap.dedent(document)),
            provider_box=runtime.provider_box,
            actor="operator",
            app_role=runtime.settings.db_app_role,
            allow_private=True,
            allow_destructive=True,
        )
        refreshed = get_project_by_id(conn, project.id)
    runtime.projects.forget(project.slug)
    return refreshed


def insert_rows(
    runtime: Runtime, project: Project, collection: str, rows: list[dict[str, Any]]
) -> list[uuid.UUID]:
    """Rows straight into a collection table (as the owner, inside the project's context)."""
    with runtime.db.owner(project.id) as conn:
        registered = schema_service.get_collection(conn, project, collection)
        table = build_table(registered.definition, project.schema_name)
        ids = [new_id() for _ in rows]
        if rows:
            conn.execute(
                insert(table), [{"id": i, **row} for i, row in zip(ids, rows, strict=True)]
            )
        return ids


def run_queued(runtime: Runtime, *queues: str) -> None:
    """Run every job queued now on `queues` (default: `default`) in this process, as
    `cairn worker --burst --no-fork` would."""
    context.use(runtime)
    names = queues or ("default",)
    SimpleWorker(
        [Queue(name, connection=runtime.redis) for name in names], connection=runtime.redis
    ).work(burst=True)


def enqueue_failing_job(runtime: Runtime, project: Project, job_id: str) -> str:
    """Queue a real job of the project that fails when a worker runs it (a malformed
    schedule id); returns its id."""
    job = PendingJob(
        "default",
        "cairn.schedules.tasks.run_schedule",
        (str(project.id), "not-a-uuid", "2030-01-01T00:00:00+00:00"),
        job_id,
        project_id=project.id,
    )
    assert enqueue_jobs(runtime.redis, [job])
    return job_id
