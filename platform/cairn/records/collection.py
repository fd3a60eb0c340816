"""One collection as a request sees it: definition, table, filterable fields and validators.

Built once per (project, collection, registry version) and cached; a schema change bumps the
version, so a request never uses a stale table shape.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cachetools import LRUCache
from marshmallow import RAISE, Schema, fields
from sqlalchemy import Connection, Table, select

from cairn.errors import NotFound
from cairn.records.fields import FieldRef
from cairn.schema.definitions import SYSTEM_FIELDS, CollectionDef, check_name, load_collection
from cairn.schema.models import collections
from cairn.schema.tables import build_table
from cairn.schema.values import marshmallow_field
from cairn.tenancy.service import Project

_SYSTEM_TYPES = {
    "id": "uuid",
    "created_at": "datetime",
    "updated_at": "datetime",
    "version": "integer",
    "owner": "uuid",
}


@dataclass(frozen=True)
class Collection:
    project: Project
    definition: CollectionDef
    version: int
    table: Table
    fields: dict[str, FieldRef]
    create_schema: Schema
    update_schema: Schema

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def output_names(self) -> tuple[str, ...]:
        return (*SYSTEM_FIELDS, *(f.name for f in self.definition.fields))


def _schema(definition: CollectionDef, *, for_create: bool) -> Schema:
    declared: dict[str, fields.Field] = {}  # type: ignore[type-arg]
    for f in definition.fields:
        field = marshmallow_field(f)
        if f.required:
            field.allow_none = False
            field.required = for_create and f.default is None
        if for_create and f.default is not None:
            # Explicit, so a create rule sees the value the record will really have.
            field.load_default = f.default
        declared[f.name] = field
    schema_class = Schema.from_dict(declared, name=f"{definition.name}_record")
    return schema_class(unknown=RAISE)


def field_refs(definition: CollectionDef, table: Table) -> dict[str, FieldRef]:
    """Every name a filter, rule or sort may use, bound to its typed column."""
    refs = {
        name: FieldRef(name, kind, table.c[name])  # type: ignore[arg-type]
        for name, kind in _SYSTEM_TYPES.items()
    }
    for f in definition.fields:
        refs[f.name] = FieldRef(f.name, f.type, table.c[f.name], f.multiple)  # type: ignore[arg-type]
    return refs


def build(project: Project, definition: CollectionDef, version: int) -> Collection:
    table = build_table(definition, project.schema_name)
    refs = field_refs(definition, table)
    return Collection(
        project=project,
        definition=definition,
        version=version,
        table=table,
        fields=refs,
        create_schema=_schema(definition, for_create=True),
        update_schema=_schema(definition, for_create=False),
    )


_cache: LRUCache[tuple[UUID, str, int], Collection] = LRUCache(maxsize=2048)
_lock = threading.Lock()


def load(conn: Connection, project: Project, name: str) -> Collection:
    """The collection `name` of the transaction's project, or NotFound."""
    if check_name("collection", name):
        raise NotFound(f"no collection '{name}' in this project")
    row = conn.execute(
        select(collections.c.version, collections.c.definition).where(
            collections.c.project_id == project.id, collections.c.name == name
        )
    ).first()
    if row is None:
        raise NotFound(f"no collection '{name}' in this project")
    return _cached(project, name, row.version) or _remember(
        build(project, load_collection(row.definition), row.version)
    )


def load_known(conn: Connection, project: Project, name: str, version: int | None) -> Collection:
    """Like `load`, for a caller that already has the registry version (the request's first
    round trip fetched it; None: no such collection). A cache hit costs no query."""
    if version is None or check_name("collection", name):
        raise NotFound(f"no collection '{name}' in this project")
    return _cached(project, name, version) or load(conn, project, name)


def _cached(project: Project, name: str, version: int) -> Collection | None:
    with _lock:
        return _cache.get((project.id, name, version))


def _remember(built: Collection) -> Collection:
    with _lock:
        _cache[(built.project.id, built.name, built.version)] = built
    return built


def dump(collection: Collection, row: Any, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    names = only or collection.output_names
    mapping = row._mapping
    return {name: mapping[name] for name in names}
