"""Listing records: filter + rule, sort, keyset cursor, limit, count, fields and expand.

Keyset paging: the cursor holds the sort values and id of the last row; the next page is
"rows after that position" in the same order, so rows inserted or deleted meanwhile never
make a page skip or repeat a row that existed throughout. Ties break on `id`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, and_, false, func, or_, select, true, tuple_

from cairn.auth.principal import Principal
from cairn.errors import BadRequest
from cairn.records.collection import Collection, load
from cairn.records.fields import FieldRef
from cairn.records.filter import compile_expression, quote
from cairn.records.rules import request_macros, rule_clause

DEFAULT_SORT = (("created_at", True), ("id", True))
MAX_EXPAND_DEPTH = 3
MAX_EXPAND_PATHS = 10


@dataclass(frozen=True)
class ListRequest:
    filter: str | None = None
    sort: str | None = None
    limit: int = 50
    after: list[Any] | None = None  # the decoded cursor
    fields: str | None = None
    expand: str | None = None
    count: bool = False


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_position: list[Any] | None
    total: int | None = None
    statements: int = 0  # SQL statements this page cost (benchmarks check expand's)
    sort_key: str = ""


@dataclass(frozen=True)
class SortKey:
    ref: FieldRef
    descending: bool

    @property
    def nullable(self) -> bool:
        column = self.ref.column
        return bool(getattr(column, "nullable", True))


@dataclass
class _Expansion:
    path: tuple[str, ...]
    children: dict[str, _Expansion] = field(default_factory=dict)


def parse_sort(collection: Collection, text: str | None) -> list[SortKey]:
    if not text:
        spec = list(DEFAULT_SORT)
    else:
        spec = []
        for raw in text.split(","):
            name = raw.strip()
            descending = name.startswith("-")
            name = name.lstrip("-+")
            if not name:
                raise BadRequest("sort: an empty field name; use e.g. -created_at,title")
            spec.append((name, descending))
    keys: list[SortKey] = []
    for name, descending in spec:
        ref = collection.fields.get(name)
        if ref is None:
            raise BadRequest(f"sort: unknown field '{name}'")
        if ref.type == "json" or ref.multiple:
            raise BadRequest(f"sort: field '{name}' cannot be sorted")
        if any(k.ref.name == name for k in keys):
            raise BadRequest(f"sort: field '{name}' appears twice")
        keys.append(SortKey(ref, descending))
    if keys[-1].ref.name != "id" and not any(k.ref.name == "id" for k in keys):
        keys.append(SortKey(collection.fields["id"], keys[-1].descending))
    return keys


def sort_signature(keys: list[SortKey]) -> str:
    return ",".join(("-" if k.descending else "") + k.ref.name for k in keys)


def reversed_sort(keys: list[SortKey]) -> str:
    """The exact reverse of the order of `keys`, as sort text. ASC NULLS LAST reversed is
    DESC NULLS FIRST (Postgres' defaults), so the rows before a position are the rows after
    it in this order: paging backwards is paging forwards in it."""
    return ",".join(("" if k.descending else "-") + k.ref.name for k in keys)


def cursor_scope(collection: Collection) -> str:
    """What a list cursor of this collection is signed for: a cursor of another collection
    or project is refused."""
    return f"records.{collection.project.id}.{collection.name}"


def cursor_position(sort_key: str, values: list[Any]) -> dict[str, Any]:
    """What a cursor carries: the sort it belongs to and the position in it."""
    return {"s": sort_key, "v": values}


def cursor_values(position: Any, keys: list[SortKey]) -> list[Any]:
    """The position a decoded cursor holds, if it belongs to the order of `keys`."""
    if not isinstance(position, dict) or position.get("s") != sort_signature(keys):
        raise BadRequest("the cursor belongs to another sort; start from the first page")
    values = position.get("v")
    if not isinstance(values, list):
        raise BadRequest("the cursor is not valid; start again from the first page")
    return values


def position_of(keys: list[SortKey], item: dict[str, Any]) -> list[Any]:
    """The position of a listed record in the order of `keys` (for a cursor)."""
    return _position(keys, item)


def text_search(collection: Collection, text: str) -> str | None:
    """A filter expression finding records by what a person types: the record with that id
    when `text` is one, else records whose single-valued text fields (text, email, url,
    select) contain it. None for blank text (everything matches)."""
    text = text.strip()
    if not text:
        return None
    try:
        return f"id = {quote(str(UUID(text)))}"
    except ValueError:
        pass
    names = [
        f.name
        for f in collection.definition.fields
        if f.type in ("text", "email", "url", "select") and not f.multiple
    ]
    if not names:
        raise BadRequest(
            f"'{collection.name}' has no text fields to search in; enter a record id instead"
        )
    return " || ".join(f"{name} ~ {quote(text)}" for name in names)


def _after(keys: list[SortKey], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order of `keys` (ASC NULLS LAST, DESC NULLS FIRST,
    Postgres' defaults, which ORDER BY uses too)."""
    directions = {k.descending for k in keys}
    if len(directions) == 1 and not any(k.nullable for k in keys) and None not in values:
        columns = tuple_(*(k.ref.column for k in keys))
        bound = tuple_(*values)
        return columns < bound if keys[0].descending else columns > bound
    chain = []
    for i, key in enumerate(keys):
        equal = [_equal(k, v) for k, v in zip(keys[:i], values[:i], strict=True)]
        chain.append(and_(*equal, _beyond(key, values[i])))
    # The first key's bound on its own lets an index range scan do the work.
    return and_(_leading_bound(keys[0], values[0]), or_(*chain))


def _equal(key: SortKey, value: Any) -> ColumnElement[bool]:
    column = key.ref.column
    return column.is_(None) if value is None else column == value


def _beyond(key: SortKey, value: Any) -> ColumnElement[bool]:
    column = key.ref.column
    if key.descending:
        return column.is_not(None) if value is None else column < value
    if value is None:
        return false()
    return or_(column > value, column.is_(None)) if key.nullable else column > value


def _leading_bound(key: SortKey, value: Any) -> ColumnElement[bool]:
    column = key.ref.column
    if key.descending:
        # NULLS FIRST: after a NULL anything may follow; after a value only smaller ones.
        return true() if value is None else column <= value
    if value is None:
        return column.is_(None)
    return or_(column >= value, column.is_(None)) if key.nullable else column >= value


def _position(keys: list[SortKey], item: dict[str, Any]) -> list[Any]:
    return [_json(item[k.ref.name]) for k in keys]


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def _typed(ref: FieldRef, value: Any) -> Any:
    """A cursor value back in the column's Python type (the cursor is signed, so trusted)."""
    if value is None:
        return None
    if ref.type == "datetime":
        return datetime.fromisoformat(value)
    if ref.type == "date":
        return date.fromisoformat(value)
    if ref.type in ("uuid", "relation"):
        return UUID(value)
    return value


def list_records(
    conn: Connection, collection: Collection, principal: Principal, request: ListRequest
) -> Page:
    keys = parse_sort(collection, request.sort)
    only = _parse_fields(collection, request.fields)
    expansions = _parse_expand(collection, request.expand)
    conditions: list[ColumnElement[bool]] = []
    if request.filter:
        conditions.append(
            compile_expression(
                request.filter, collection.fields, request_macros(collection, principal)
            )
        )
    rule = rule_clause(collection, principal, "list")
    if rule is not None:
        conditions.append(rule)
    table = collection.table
    query = select(*table.c).where(*conditions)
    if request.after is not None:
        if len(request.after) != len(keys):
            raise BadRequest("the cursor does not belong to this sort; start from the first page")
        values = [_typed(k.ref, v) for k, v in zip(keys, request.after, strict=True)]
        query = query.where(_after(keys, values))
    order = [k.ref.column.desc() if k.descending else k.ref.column.asc() for k in keys]
    rows = conn.execute(query.order_by(*order).limit(request.limit + 1)).all()
    statements = 1
    more = len(rows) > request.limit
    items = [dict(row._mapping) for row in rows[: request.limit]]
    next_position = _position(keys, items[-1]) if more and items else None
    total = None
    if request.count:
        total = conn.execute(
            select(func.count()).select_from(table).where(*conditions)
        ).scalar_one()
        statements += 1
    items, shaping = _shape(conn, collection, principal, items, only, expansions)
    return Page(items, next_position, total, statements + shaping, sort_signature(keys))


def _shape(
    conn: Connection,
    collection: Collection,
    principal: Principal,
    items: list[dict[str, Any]],
    only: tuple[str, ...] | None,
    expansions: dict[str, _Expansion],
) -> tuple[list[dict[str, Any]], int]:
    """Items with `expand` inlined and only the `fields` asked for; and the statements run."""
    statements = 0
    if expansions and items:
        statements = _expand(conn, collection, principal, items, expansions)
    if only is not None:
        keep = set(only) | ({"expand"} if expansions else set())
        items = [{k: v for k, v in item.items() if k in keep} for item in items]
    return items, statements


def shape_record(
    conn: Connection,
    collection: Collection,
    principal: Principal,
    record: dict[str, Any],
    *,
    fields: str | None = None,
    expand: str | None = None,
) -> dict[str, Any]:
    """One record as a list item would be: `fields` kept, `expand` inlined (through the
    related collections' view rules), the same parameters and errors as a list."""
    only = _parse_fields(collection, fields)
    expansions = _parse_expand(collection, expand)
    items, _ = _shape(conn, collection, principal, [record], only, expansions)
    return items[0]


def _parse_fields(collection: Collection, text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    known = set(collection.output_names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BadRequest(f"fields: unknown field '{unknown[0]}'")
    return names


def _parse_expand(collection: Collection, text: str | None) -> dict[str, _Expansion]:
    """`author,reviewers.team` → a tree of relation paths (checked level by level later)."""
    roots: dict[str, _Expansion] = {}
    if not text:
        return roots
    paths = [p.strip() for p in text.split(",") if p.strip()]
    if len(paths) > MAX_EXPAND_PATHS:
        raise BadRequest(f"expand: at most {MAX_EXPAND_PATHS} paths")
    for path in paths:
        parts = tuple(path.split("."))
        if len(parts) > MAX_EXPAND_DEPTH:
            raise BadRequest(f"expand: '{path}' is deeper than {MAX_EXPAND_DEPTH} relations")
        level = roots
        for depth in range(len(parts)):
            node = level.setdefault(parts[depth], _Expansion(parts[: depth + 1]))
            level = node.children
    return roots


def _expand(
    conn: Connection,
    collection: Collection,
    principal: Principal,
    items: list[dict[str, Any]],
    expansions: dict[str, _Expansion],
) -> int:
    """Inline related records under `expand`; one query per relation path for the whole page,
    through the related collection's view rule (hidden records are left out). Returns the
    number of statements run."""
    statements = 0
    for name, node in expansions.items():
        f = collection.definition.field(name)
        if f is None or f.type != "relation":
            raise BadRequest(f"expand: '{'.'.join(node.path)}' is not a relation")
        target = load(conn, collection.project, str(f.collection))
        statements += 1
        ids: set[Any] = set()
        for item in items:
            value = item.get(name)
            if value is None:
                continue
            ids.update(value if f.multiple else [value])
        related: dict[Any, dict[str, Any]] = {}
        if ids:
            query = select(*target.table.c).where(target.table.c.id.in_(ids))
            rule = rule_clause(target, principal, "view")
            if rule is not None:
                query = query.where(rule)
            related = {row.id: dict(row._mapping) for row in conn.execute(query)}
            statements += 1
        if node.children and related:
            statements += _expand(conn, target, principal, list(related.values()), node.children)
        for item in items:
            value = item.get(name)
            holder = item.setdefault("expand", {})
            if f.multiple:
                holder[name] = [related[i] for i in (value or []) if i in related]
            else:
                holder[name] = related.get(value) if value is not None else None
    return statements
