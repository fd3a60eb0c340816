"""Projects: create (with their own Postgres schema), look up, list, delete.

Creating and deleting run on the owner path (they are DDL); lookups run anywhere, because the
project directory is readable by the app role.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, delete, insert, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from cairn.db.ids import new_id
from cairn.durations import check_rate
from cairn.errors import Conflict, Invalid, NotFound
from cairn.tenancy.models import projects

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
_SLUG_RULE = "must start with a letter and use 2 to 63 lower-case letters, digits or hyphens"


@dataclass(frozen=True)
class Project:
    id: UUID
    slug: str
    name: str
    schema_name: str
    created_at: datetime
    limits: dict[str, str] = field(default_factory=dict)
    # Stored as the project file declares them; read through cairn.users.settings.
    auth: dict[str, Any] = field(default_factory=dict)
    user_fields: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: RowMapping) -> Project:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


def validate_slug(slug: str) -> str:
    if not SLUG_PATTERN.fullmatch(slug):
        raise Invalid(f"'{slug}' is not a valid project slug", errors={"slug": [_SLUG_RULE]})
    return slug


def create_project(conn: Connection, *, slug: str, name: str | None, app_role: str) -> Project:
    """Register the project and give it a schema for its collection tables (owner path)."""
    validate_slug(slug)
    if name is not None and not (1 <= len(name) <= 200):
        raise Invalid(errors={"name": ["must be 1 to 200 characters"]})
    project_id = new_id()
    schema_name = f"prj_{project_id.hex}"
    try:
        with conn.begin_nested():
            row = (
                conn.execute(
                    insert(projects)
                    .values(id=project_id, slug=slug, name=name or slug, schema_name=schema_name)
                    .returning(*projects.c)
                )
                .mappings()
                .one()
            )
    except IntegrityError:
        raise Conflict(f"a project with the slug '{slug}' already exists") from None
    # Identifiers cannot be bound parameters; schema_name is built from a UUID's hex only.
    conn.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema_name}" TO "{app_role}"'))
    return Project.from_row(row)


def get_project(conn: Connection, slug: str) -> Project:
    if not SLUG_PATTERN.fullmatch(slug):
        raise NotFound(f"no project '{slug}'")
    row = conn.execute(select(*projects.c).where(projects.c.slug == slug)).mappings().first()
    if row is None:
        raise NotFound(f"no project '{slug}'")
    return Project.from_row(row)


def get_project_by_id(conn: Connection, project_id: UUID) -> Project:
    row = conn.execute(select(*projects.c).where(projects.c.id == project_id)).mappings().first()
    if row is None:
        raise NotFound(f"no project {project_id}")
    return Project.from_row(row)


def list_projects(conn: Connection) -> list[Project]:
    rows = conn.execute(select(*projects.c).order_by(projects.c.slug)).mappings()
    return [Project.from_row(row) for row in rows]


LIMIT_KINDS = ("data", "auth")


def load_limits(raw: Any) -> dict[str, str]:
    """`{data: "600/minute", auth: "10/minute"}`; each value one or more limits separated by
    `;` in the `limits` library's notation."""
    if not isinstance(raw, dict):
        raise Invalid(errors={"limits": ["must map data/auth to limits like 600/minute"]})
    errors: dict[str, list[str]] = {}
    for key, value in raw.items():
        if key not in LIMIT_KINDS:
            errors[f"limits.{key}"] = [f"not a kind of limit; use {', '.join(LIMIT_KINDS)}"]
        elif not isinstance(value, str):
            errors[f"limits.{key}"] = ["a rate such as 600/minute or 10/second;1000/hour"]
        else:
            try:
                check_rate(value)
            except ValueError as exc:
                errors[f"limits.{key}"] = [str(exc)]
    if errors:
        raise Invalid("the project file's limits are not valid", errors=errors)
    return {str(k): str(v) for k, v in raw.items()}


def set_limits(conn: Connection, project: Project, limits: dict[str, str]) -> None:
    """Owner path (the project directory is read-only for the app role)."""
    conn.execute(update(projects).where(projects.c.id == project.id).values(limits=limits))


def rename_project(conn: Connection, slug: str, name: str) -> Project:
    """A new display name (owner path); the slug, which URLs and keys use, stays."""
    project = get_project(conn, slug)
    if not isinstance(name, str) or not (1 <= len(name.strip()) <= 200):
        raise Invalid(errors={"name": ["must be 1 to 200 characters"]})
    conn.execute(update(projects).where(projects.c.id == project.id).values(name=name.strip()))
    return get_project(conn, slug)


@dataclass(frozen=True)
class Footprint:
    """How big a project is, read from the catalog (never from its rows): collection tables
    and their estimated live rows."""

    collections: int
    records: int


def footprints(conn: Connection) -> dict[UUID, Footprint]:
    """Every project's footprint in one statement. Estimates come from the statistics
    collector, so no tenant row is read across the wall."""
    rows = conn.execute(
        text(
            "SELECT p.id, count(s.relid) AS collections, "
            "coalesce(sum(s.n_live_tup), 0)::bigint AS records "
            "FROM cairn.projects p LEFT JOIN pg_stat_user_tables s "
            "ON s.schemaname = p.schema_name GROUP BY p.id"
        )
    )
    return {row.id: Footprint(row.collections, row.records) for row in rows}


def collection_sizes(conn: Connection, project: Project) -> dict[str, int]:
    """Estimated live rows per collection table of the project, from the catalog."""
    rows = conn.execute(
        text(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE schemaname = :schema "
            "ORDER BY relname"
        ),
        {"schema": project.schema_name},
    )
    return {row.relname: int(row.n_live_tup) for row in rows}


def set_auth(conn: Connection, project: Project, auth: dict[str, Any]) -> None:
    """The project file's `auth:` settings (owner path), as AuthSettings.to_dict() gives them."""
    conn.execute(update(projects).where(projects.c.id == project.id).values(auth=auth))


def set_user_fields(conn: Connection, project: Project, user_fields: dict[str, Any]) -> None:
    """The project file's `users:` section (owner path), as ProfileFields.to_dict() gives it."""
    conn.execute(
        update(projects).where(projects.c.id == project.id).values(user_fields=user_fields)
    )


def delete_project(conn: Connection, slug: str) -> Project:
    """Drop the project's schema and every row it owns (owner path; irreversible)."""
    project = get_project(conn, slug)
    conn.execute(text(f'DROP SCHEMA IF EXISTS "{project.schema_name}" CASCADE'))
    conn.execute(delete(projects).where(projects.c.id == project.id))
    return project
