"""Collections of a project: read the registry, and change it through plan/apply.

Every way in (the project file via `cairn apply`, `PUT/DELETE /collections/{c}`) computes the
whole desired set and goes through `apply_collections`; the caller owns the transaction, an
owner-role transaction scoped to the project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects.postgresql import insert

from cairn.audit import service as audit
from cairn.errors import Invalid, NotFound
from cairn.progress import QUIET, Progress
from cairn.records import rules
from cairn.schema import engine
from cairn.schema.definitions import CollectionDef, load_collection
from cairn.schema.models import VERSIONS, collections
from cairn.tenancy.service import Project
from cairn.users.settings import profile_fields


@dataclass(frozen=True)
class Registered:
    definition: CollectionDef
    version: int


def registered(conn: Connection, project: Project) -> dict[str, Registered]:
    rows = conn.execute(
        select(collections.c.name, collections.c.definition, collections.c.version)
        .where(collections.c.project_id == project.id)
        .order_by(collections.c.name)
    )
    return {row.name: Registered(load_collection(row.definition), row.version) for row in rows}


def get_collection(conn: Connection, project: Project, name: str) -> Registered:
    row = conn.execute(
        select(collections.c.definition, collections.c.version).where(
            collections.c.project_id == project.id, collections.c.name == name
        )
    ).first()
    if row is None:
        raise NotFound(f"no collection '{name}' in this project")
    return Registered(load_collection(row.definition), row.version)


def apply_collections(
    conn: Connection,
    project: Project,
    desired: list[CollectionDef],
    *,
    actor: str,
    app_role: str,
    allow_destructive: bool = False,
    dry_run: bool = False,
    profile_names: Iterable[str] | None = None,
    progress: Progress = QUIET,
    proceed: Callable[[engine.Plan], bool] | None = None,
    known: dict[str, Registered] | None = None,
) -> engine.Plan:
    """Make the project's collections exactly `desired`: plan, check, apply, register.
    `profile_names`: the user profile fields rules may use (default: the project's).
    `proceed`: asked with the plan before anything runs; False returns it unapplied (the
    admin UI applies only the plan a person reviewed, planned once). `known`: the registry
    as the caller has just read it in this transaction."""
    known = registered(conn, project) if known is None else known
    current = {name: r.definition for name, r in known.items()}
    wanted = {c.name: c for c in desired}
    names = tuple(
        profile_fields(project.user_fields).names if profile_names is None else profile_names
    )
    errors = {k: v for c in desired for k, v in rules.rule_errors(c, names).items()}
    if errors:
        raise Invalid("a collection rule is not a valid expression", errors=errors)
    plan = engine.plan(conn, project.schema_name, current, wanted)
    if dry_run or (proceed is not None and not proceed(plan)):
        return plan
    engine.execute(
        conn,
        plan,
        schema=project.schema_name,
        app_role=app_role,
        project_id=str(project.id),
        desired=wanted,
        allow_destructive=allow_destructive,
        progress=progress,
    )
    _register(conn, project, current, wanted)
    if not plan.empty:
        audit.record(
            conn, project.id, actor, "collections.applied", None,
            {"steps": [s.to_dict() for s in plan.steps]},
        )  # fmt: skip
    return plan


def _register(
    conn: Connection,
    project: Project,
    current: dict[str, CollectionDef],
    wanted: dict[str, CollectionDef],
) -> None:
    for name, definition in wanted.items():
        stored = definition.without_hints()
        if current.get(name) == stored:  # fields compare in order: a reorder is a change
            continue
        statement = insert(collections).values(
            project_id=project.id, name=name, definition=stored.to_dict()
        )
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[collections.c.project_id, collections.c.name],
                set_={
                    "definition": statement.excluded.definition,
                    "version": VERSIONS.next_value(),
                    "updated_at": func.now(),
                },
            )
        )
    gone = set(current) - set(wanted)
    if gone:
        conn.execute(
            delete(collections).where(
                collections.c.project_id == project.id, collections.c.name.in_(gone)
            )
        )


def build_concurrently(
    conn: Connection, project: Project, plan: engine.Plan, progress: Progress = QUIET
) -> None:
    """After the plan's transaction committed: its concurrent index builds, on `conn` (an
    owner connection in autocommit mode)."""
    if plan.concurrent:
        progress.expect(len(plan.concurrent))
        engine.execute_concurrent(conn, plan, schema=project.schema_name, progress=progress)


def put_collection(
    conn: Connection, project: Project, definition: CollectionDef, **options: Any
) -> engine.Plan:
    known = registered(conn, project)
    desired = [r.definition for n, r in known.items() if n != definition.name] + [definition]
    return apply_collections(conn, project, desired, known=known, **options)


def delete_collection(conn: Connection, project: Project, name: str, **options: Any) -> engine.Plan:
    current = registered(conn, project)
    if name not in current:
        raise NotFound(f"no collection '{name}' in this project")
    desired = [r.definition for n, r in current.items() if n != name]
    return apply_collections(conn, project, desired, known=current, **options)


def export_collections(conn: Connection, project: Project) -> list[dict[str, Any]]:
    return [r.definition.to_dict() for r in registered(conn, project).values()]
