"""A collection definition as a SQLAlchemy Table: the typed columns, keys and indexes that
DDL creates and that every records query is built from.

Types are leakproof so filters and keyset seeks use indexes under RLS: number is
double precision (never numeric), datetime is timestamptz, relations are uuid.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    MetaData,
    Table,
    Text,
    Uuid,
    func,
    literal,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.types import TypeEngine

from cairn.schema.definitions import CollectionDef, FieldDef

_SCALAR_TYPES: dict[str, TypeEngine[Any]] = {
    "text": Text(),
    "email": Text(),
    "url": Text(),
    "select": Text(),
    "integer": BigInteger(),
    "number": Double(),
    "boolean": Boolean(),
    "date": Date(),
    "datetime": DateTime(timezone=True),
    # A missing json value is SQL NULL (so `meta = null` finds it), not the JSON value null.
    "json": JSONB(none_as_null=True),
    "relation": Uuid(),
}

ON_DELETE_SQL = {"restrict": "RESTRICT", "set_null": "SET NULL", "cascade": "CASCADE"}


def column_type(f: FieldDef) -> TypeEngine[Any]:
    base = _SCALAR_TYPES[f.type]
    return ARRAY(base) if f.multiple else base


def constraint_name(prefix: str, table: str, *parts: str) -> str:
    """Postgres truncates names at 63 bytes; keep them unique with a short hash instead."""
    name = "_".join((prefix, table, *parts))
    if len(name) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]  # noqa: S324 - a name, not security
    return f"{name[:52]}_{digest}"


def sql_literal(value: Any, type_: TypeEngine[Any]) -> str:
    """A value rendered as an SQL literal by the dialect (for server defaults only)."""
    compiled = literal(value, type_).compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"literal_binds": True},
    )
    return str(compiled)


def server_default(f: FieldDef) -> Any:
    if f.default is None:
        return None
    if f.type == "json":
        return text(f"{sql_literal(json.dumps(f.default), Text())}::jsonb")
    if f.multiple:
        items = ", ".join(sql_literal(v, _SCALAR_TYPES[f.type]) for v in f.default)
        return text(f"ARRAY[{items}]::text[]")
    return text(sql_literal(f.default, _SCALAR_TYPES[f.type]))


def select_check(table_name: str, f: FieldDef) -> CheckConstraint:
    values = ", ".join(sql_literal(v, Text()) for v in f.values or ())
    column = f'"{f.name}"'
    condition = f"{column} <@ ARRAY[{values}]::text[]" if f.multiple else f"{column} IN ({values})"
    return CheckConstraint(condition, name=constraint_name("ck", table_name, f.name))


def data_column(f: FieldDef) -> Column[Any]:
    return Column(
        f.name,
        column_type(f),
        nullable=not f.required,
        server_default=server_default(f),
    )


def system_columns() -> list[Column[Any]]:
    return [
        Column("id", Uuid(), primary_key=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("version", BigInteger(), nullable=False, server_default=text("1")),
        Column("owner", Uuid(), nullable=True),
    ]


def index_name(table_name: str, fields: tuple[str, ...], unique: bool) -> str:
    return constraint_name("ux" if unique else "ix", table_name, *fields)


def build_table(definition: CollectionDef, schema: str, metadata: MetaData | None = None) -> Table:
    """The table for a collection. Relation foreign keys are not part of it: DDL adds them
    after every table exists (relations may form cycles), and DML never needs them."""
    metadata = metadata or MetaData()
    name = definition.name
    items: list[Any] = [*system_columns(), *(data_column(f) for f in definition.fields)]
    for f in definition.fields:
        if f.unique:
            items.append(Index(constraint_name("uq", name, f.name), f.name, unique=True))
        if f.type == "select":
            items.append(select_check(name, f))
        if f.type == "relation":
            items.append(relation_index(name, f))
    items += [
        Index(constraint_name("ix", name, "created_at", "id"), "created_at", "id"),
        Index(constraint_name("ix", name, "owner"), "owner"),
    ]
    for index in definition.indexes:
        items.append(
            Index(index_name(name, index.fields, index.unique), *index.fields, unique=index.unique)
        )
    return Table(name, metadata, *items, schema=schema)


def relation_index(table_name: str, f: FieldDef) -> Index:
    """Every relation is indexed: expand, on_delete checks and filters by id all lean on it.
    Multiple relations (uuid[]) get a GIN index for `@>` containment."""
    name = constraint_name("ix", table_name, f.name)
    if f.multiple:
        return Index(name, f.name, postgresql_using="gin")
    return Index(name, f.name)
