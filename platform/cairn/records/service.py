"""Record operations. Each is one SQL statement on the success path; a second query runs only
to explain a miss (404 vs 412). The caller owns the tenant transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Row, delete, func, insert, literal, select, text, update
from sqlalchemy.exc import IntegrityError

from cairn import validation
from cairn.auth.principal import Principal
from cairn.db.ids import new_id
from cairn.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
)
from cairn.jobs.outbox import with_event
from cairn.records.collection import Collection, load, load_known
from cairn.records.fields import FieldRef
from cairn.records.filter import compile_expression
from cairn.records.rules import request_macros, rule_clause, rule_for
from cairn.schema.definitions import SYSTEM_FIELDS
from cairn.schema.models import collections


@dataclass(frozen=True)
class Precondition:
    """An If-Match header: `*`, or the versions (ETags) the client accepts."""

    any_version: bool = False
    versions: frozenset[int] = frozenset()


_ETAG = re.compile(r'(?:W/)?"(\d{1,18})"')


def parse_if_match(text: str) -> Precondition:
    """`*`, or a list of ETags as this API returns them (`"3"`, optionally weak)."""
    if text.strip() == "*":
        return Precondition(any_version=True)
    versions = set()
    for tag in text.split(","):
        match = _ETAG.fullmatch(tag.strip())
        if match is None:
            raise BadRequest('If-Match must hold ETags as returned, e.g. "3"')
        versions.add(int(match.group(1)))
    return Precondition(versions=frozenset(versions))


def validate(collection: Collection, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Typed values for the body, or Invalid naming each bad field. System fields are
    read-only and refused by name rather than silently ignored."""
    read_only = sorted(set(data) & set(SYSTEM_FIELDS))
    if read_only:
        raise Invalid(errors={name: ["is a read-only system field"] for name in read_only})
    schema = collection.update_schema if partial else collection.create_schema
    return validation.load(schema, data, partial=partial)


def create_record(
    conn: Connection, collection: Collection, principal: Principal, data: dict[str, Any]
) -> Row[Any]:
    values = {
        "id": new_id(),
        "owner": principal.user_id,
        **validate(collection, data, partial=False),
    }
    _check_multiple_relations(conn, collection, values)
    table = collection.table
    rule = rule_for(collection.definition, principal, "create")
    if rule is None:
        statement = insert(table).values(values)
    else:
        # The rule is judged on the record as it would be stored, in the INSERT itself.
        would_be = _bound_fields(collection, values)
        condition = compile_expression(
            rule, would_be, request_macros(collection, principal, values)
        )
        columns = list(values)
        source = select(*(would_be[name].column for name in columns)).where(condition)
        statement = insert(table).from_select(columns, source)
    statement = _with_event(conn, collection, statement.returning(*table.c), "create")
    row: Row[Any] | None = _write(conn, collection, statement).first()
    if row is None:
        raise Forbidden(f"the create rule of '{collection.name}' does not allow this record")
    return row


def get_record(
    conn: Connection, collection: Collection, principal: Principal, record_id: UUID
) -> Row[Any]:
    table = collection.table
    query = select(*table.c).where(table.c.id == record_id)
    condition = rule_clause(collection, principal, "view")
    if condition is not None:
        query = query.where(condition)
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"no record {record_id} in '{collection.name}'")
    return row


def update_record(
    conn: Connection,
    collection: Collection,
    principal: Principal,
    record_id: UUID,
    data: dict[str, Any],
    precondition: Precondition | None = None,
) -> Row[Any]:
    changes = validate(collection, data, partial=True)
    _check_multiple_relations(conn, collection, changes)
    table = collection.table
    statement = (
        update(table)
        .where(table.c.id == record_id)
        .values(**changes, version=table.c.version + 1, updated_at=func.now())
    )
    condition = rule_clause(collection, principal, "update", changes)
    if condition is not None:
        statement = statement.where(condition)
    statement = _where_precondition(statement, collection, precondition)
    statement = _with_event(conn, collection, statement.returning(*table.c), "update")
    row: Row[Any] | None = _write(conn, collection, statement).first()
    if row is None:
        _explain_miss(conn, collection, principal, record_id, precondition)
    assert row is not None
    return row


def delete_record(
    conn: Connection,
    collection: Collection,
    principal: Principal,
    record_id: UUID,
    precondition: Precondition | None = None,
) -> None:
    table = collection.table
    statement = delete(table).where(table.c.id == record_id)
    condition = rule_clause(collection, principal, "delete")
    if condition is not None:
        statement = statement.where(condition)
    statement = _where_precondition(statement, collection, precondition)
    statement = _with_event(conn, collection, statement.returning(*table.c), "delete")
    row = _write(conn, collection, statement, deleting=True).first()
    if row is None:
        _explain_miss(conn, collection, principal, record_id, precondition)
    _release_multiple_references(conn, collection, record_id)


def _release_multiple_references(conn: Connection, collection: Collection, record_id: UUID) -> None:
    """Multiple relations (uuid[]) have no foreign key; apply their on_delete here, in the
    same transaction: restrict refuses, set_null removes the id, cascade deletes the row."""
    versions = conn.execute(
        select(collections.c.name, collections.c.version).where(
            collections.c.project_id == collection.project.id
        )
    )
    for name, version in versions:
        other = load_known(conn, collection.project, name, version)  # cached after first use
        for f in other.definition.relations:
            if not (f.multiple and f.collection == collection.name):
                continue
            # Identifiers only (validated names); the id is a bound parameter.
            table = f'"{collection.project.schema_name}"."{other.definition.name}"'
            column = f'"{f.name}"'
            holds = f"{column} @> ARRAY[CAST(:id AS uuid)]"
            params = {"id": record_id}
            if f.delete_action == "restrict":
                found = f"SELECT 1 FROM {table} WHERE {holds} LIMIT 1"  # noqa: S608
                if conn.execute(text(found), params).first():
                    raise Conflict(
                        f"the record is still related from {other.definition.name}.{f.name}; "
                        "delete or change those records first"
                    )
            elif f.delete_action == "set_null":
                removal = (
                    f"UPDATE {table} SET {column} = array_remove({column}, CAST(:id AS uuid)), "  # noqa: S608
                    f"version = version + 1, updated_at = now() WHERE {holds}"
                )
                conn.execute(text(removal), params)
            else:
                conn.execute(text(f"DELETE FROM {table} WHERE {holds}"), params)  # noqa: S608


def _with_event(conn: Connection, collection: Collection, write: Any, action: str) -> Any:
    """The write and its outbox event as one statement (see jobs/outbox.py)."""
    return with_event(
        conn, write, project_id=collection.project.id, collection=collection.name, action=action
    )


def _where_precondition(statement: Any, collection: Collection, pre: Precondition | None) -> Any:
    if pre is None or pre.any_version:
        return statement
    return statement.where(collection.table.c.version.in_(sorted(pre.versions)))


def _explain_miss(
    conn: Connection,
    collection: Collection,
    principal: Principal,
    record_id: UUID,
    precondition: Precondition | None,
) -> None:
    """A write matched no row: the record is invisible to the caller (404) or its version
    moved on (412)."""
    current = get_record(conn, collection, principal, record_id)  # raises NotFound when hidden
    if precondition is not None and not precondition.any_version:
        raise PreconditionFailed(
            f"the record is at version {current.version}, not "
            f"{', '.join(map(str, sorted(precondition.versions)))}",
            current_version=current.version,
        )
    raise NotFound(f"no record {record_id} in '{collection.name}' that you may change")


def _bound_fields(collection: Collection, values: dict[str, Any]) -> dict[str, FieldRef]:
    """The collection's fields as bound values of the record about to be created."""
    refs: dict[str, FieldRef] = {}
    for name, ref in collection.fields.items():
        column = collection.table.c[name]
        if name in ("created_at", "updated_at"):
            bound: Any = func.now()
        elif name == "version":
            bound = literal(1, column.type)
        else:
            bound = literal(values.get(name), column.type)
        refs[name] = FieldRef(name, ref.type, bound, ref.multiple)
    return refs


def _check_multiple_relations(
    conn: Connection, collection: Collection, values: dict[str, Any]
) -> None:
    """uuid[] relations have no foreign key: check the ids exist, in one query per field."""
    for f in collection.definition.relations:
        ids = values.get(f.name) if f.multiple else None
        if not ids:
            continue
        target = load(conn, collection.project, str(f.collection)).table
        found = set(conn.execute(select(target.c.id).where(target.c.id.in_(ids))).scalars())
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise Invalid(errors={f.name: [f"no record {', '.join(missing)} in '{f.collection}'"]})


def _write(
    conn: Connection, collection: Collection, statement: Any, *, deleting: bool = False
) -> Any:
    # No savepoint: a failed write always ends its transaction (the request or the whole
    # batch), so one would only cost two round trips on every write.
    try:
        return conn.execute(statement)
    except IntegrityError as exc:
        raise _integrity_problem(collection, exc, deleting=deleting) from None


def _integrity_problem(collection: Collection, exc: IntegrityError, *, deleting: bool) -> Exception:
    diag = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    table = getattr(diag, "table_name", None) or collection.name
    prefix = f"{table}_"
    subject = constraint.split("_", 1)[1].removeprefix(prefix) if "_" in constraint else ""
    if constraint.startswith(("uq_", "ux_")):
        return Conflict(
            f"another record of '{collection.name}' already has this {subject}",
            errors={subject: ["must be unique"]},
        )
    if constraint.startswith("fk_"):
        if deleting or table != collection.name:
            return Conflict(
                f"the record is still related from {table}.{subject}; "
                "delete or change those records first"
            )
        return Invalid(errors={subject: ["no such record in the related collection"]})
    return Invalid(f"the record breaks a constraint of '{collection.name}'")
