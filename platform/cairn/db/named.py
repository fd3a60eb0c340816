"""Project-scoped rows with a unique name (webhooks, schedules): one naming rule, and the
same answers everywhere — a name taken is a 409, an unknown id a 404."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Connection, Table, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from cairn.db.ids import new_id
from cairn.errors import Conflict, NotFound

NAMED = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
NAME_RULE = "a lower-case name of letters, digits, - or _ (at most 63)"


def get_named(
    conn: Connection,
    table: Table,
    columns: list[Column[Any]],
    project_id: UUID,
    item_id: UUID,
    *,
    kind: str,
) -> RowMapping:
    row = (
        conn.execute(
            select(*columns).where(table.c.project_id == project_id, table.c.id == item_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no {kind} {item_id} in this project")
    return row


def save_named(
    conn: Connection,
    table: Table,
    columns: list[Column[Any]],
    project_id: UUID,
    values: dict[str, Any],
    *,
    item_id: UUID | None,
    kind: str,
) -> RowMapping:
    """Insert the row (no `item_id`) or replace the row with that id; RETURNING `columns`."""
    try:
        with conn.begin_nested():
            if item_id is None:
                statement: Any = insert(table).values(project_id=project_id, id=new_id(), **values)
            else:
                statement = (
                    update(table)
                    .where(table.c.project_id == project_id, table.c.id == item_id)
                    .values(**values)
                )
            row = conn.execute(statement.returning(*columns)).mappings().first()
    except IntegrityError:
        raise Conflict(
            f"a {kind} named '{values['name']}' already exists",
            errors={"name": ["must be unique in the project"]},
        ) from None
    if row is None:
        raise NotFound(f"no {kind} {item_id} in this project")
    return row


def delete_named(
    conn: Connection, table: Table, project_id: UUID, item_id: UUID, *, kind: str
) -> str:
    """Delete the item; answers the name it had (one statement)."""
    name = conn.execute(
        delete(table)
        .where(table.c.project_id == project_id, table.c.id == item_id)
        .returning(table.c.name)
    ).scalar()
    if name is None:
        raise NotFound(f"no {kind} {item_id} in this project")
    return str(name)
