"""Compiled filters executed by real Postgres against a real typed table.

The table lives in a fresh schema created inside one owner transaction that is rolled back at the
end, so nothing outlives the module.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection, text
from sqlalchemy.dialects import postgresql as pg

from cairn.records.fields import FieldRef, FieldType
from cairn.records.filter import compile_expression
from cairn.runtime import Runtime


def rid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


ALICE = uuid.UUID("0190a4c4-aaaa-7000-8000-00000000000a")
BOB = uuid.UUID("0190a4c4-bbbb-7000-8000-00000000000b")
NOW = datetime(2024, 6, 15, 12, tzinfo=UTC)

FIELD_TYPES: dict[str, FieldType] = {
    "id": "uuid",
    "title": "text",
    "status": "select",
    "count": "integer",
    "score": "number",
    "published": "boolean",
    "due": "date",
    "posted_at": "datetime",
    "data": "json",
    "owner": "relation",
    "tags": "select",
    "readers": "relation",
}
MULTIPLE = {"tags", "readers"}

ROWS: list[dict[str, Any]] = [
    {
        "id": rid(1),
        "title": "Hello world",
        "status": "draft",
        "count": 1,
        "score": 1.5,
        "published": True,
        "due": date(2024, 5, 1),
        "posted_at": datetime(2024, 5, 1, 10, tzinfo=UTC),
        "data": {"a": 1},
        "owner": ALICE,
        "tags": ["red", "blue"],
        "readers": [ALICE],
    },
    {
        "id": rid(2),
        "title": "50% off",
        "status": "published",
        "count": 10,
        "score": 10.0,
        "published": False,
        "due": date(2024, 6, 1),
        "posted_at": datetime(2024, 6, 1, tzinfo=UTC),
        "data": None,
        "owner": BOB,
        "tags": ["blue"],
        "readers": [ALICE, BOB],
    },
    {
        "id": rid(3),
        "title": "under_score",
        "status": "published",
        "count": -5,
        "score": -2.5,
        "published": True,
        "due": date(2023, 12, 31),
        "posted_at": datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC),
        "data": {"b": 2},
        "owner": ALICE,
        "tags": [],
        "readers": [],
    },
    {
        "id": rid(4),
        "title": "back\\slash",
        "status": "archived",
        "count": 0,
        "score": 0.0,
        "published": None,
        "due": None,
        "posted_at": None,
        "data": None,
        "owner": None,
        "tags": None,
        "readers": None,
    },
    {
        "id": rid(5),
        "title": None,
        "status": None,
        "count": None,
        "score": None,
        "published": False,
        "due": date(2024, 6, 15),
        "posted_at": datetime(2024, 6, 15, 11, 59, 59, tzinfo=UTC),
        "data": {},
        "owner": BOB,
        "tags": ["green"],
        "readers": [BOB],
    },
    {
        "id": rid(6),
        "title": "HELLO again",
        "status": "draft",
        "count": 100,
        "score": 99.9,
        "published": True,
        "due": date(2025, 1, 1),
        "posted_at": datetime(2030, 1, 1, tzinfo=UTC),
        "data": {"c": [1]},
        "owner": ALICE,
        "tags": ["red"],
        "readers": [BOB],
    },
    {
        "id": rid(7),
        "title": "50 percent",
        "status": "draft",
        "count": 50,
        "score": 50.0,
        "published": False,
        "due": date(2024, 6, 16),
        "posted_at": datetime(2024, 6, 15, 12, 0, 1, tzinfo=UTC),
        "data": None,
        "owner": BOB,
        "tags": ["Red"],
        "readers": None,
    },
    {
        "id": rid(8),
        "title": "",
        "status": "published",
        "count": 10,
        "score": 10.5,
        "published": True,
        "due": date(2024, 6, 14),
        "posted_at": datetime(2024, 6, 15, 14, tzinfo=UTC),
        "data": {"d": None},
        "owner": None,
        "tags": ["blue", "green"],
        "readers": [ALICE],
    },
    {
        "id": rid(9),
        "title": 'it\'s "quoted"',
        "status": "published",
        "count": 9,
        "score": 9.0,
        "published": False,
        "due": date(2024, 1, 1),
        "posted_at": datetime(2024, 1, 1, tzinfo=UTC),
        "data": None,
        "owner": ALICE,
        "tags": ["red", "green"],
        "readers": [BOB, ALICE],
    },
    {
        "id": rid(10),
        "title": "x'; DROP TABLE records; --",
        "status": "draft",
        "count": 9223372036854775807,
        "score": 1e300,
        "published": True,
        "due": date(2024, 6, 15),
        "posted_at": datetime(2024, 6, 15, 12, tzinfo=UTC),
        "data": None,
        "owner": BOB,
        "tags": None,
        "readers": [],
    },
]
ALL = set(range(1, 11))


class Sandbox:
    def __init__(self, conn: Connection, table: sa.Table) -> None:
        self.conn = conn
        self.table = table
        self.fields = {
            name: FieldRef(name, type_, table.c[name], name in MULTIPLE)
            for name, type_ in FIELD_TYPES.items()
        }

    def ids(self, expression: str, macros: dict[str, object] | None = None) -> set[int]:
        where = compile_expression(expression, self.fields, macros)
        found = self.conn.execute(sa.select(self.table.c.id).where(where)).scalars()
        return {value.int for value in found}


@pytest.fixture(scope="module")
def sandbox(runtime: Runtime) -> Iterator[Sandbox]:
    conn = runtime.db.owner_engine.connect()
    tx = conn.begin()
    try:
        conn.execute(text(f'SET LOCAL ROLE "{runtime.db.owner_role}"'))
        schema = f"filter_{uuid.uuid4().hex[:12]}"
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        table = sa.Table(
            "records",
            sa.MetaData(schema=schema),
            sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
            sa.Column("title", pg.TEXT, index=True),
            sa.Column("status", pg.TEXT),
            sa.Column("count", pg.BIGINT),
            sa.Column("score", pg.DOUBLE_PRECISION),
            sa.Column("published", pg.BOOLEAN),
            sa.Column("due", pg.DATE),
            sa.Column("posted_at", pg.TIMESTAMP(timezone=True)),
            sa.Column("data", pg.JSONB(none_as_null=True)),
            sa.Column("owner", pg.UUID(as_uuid=True)),
            sa.Column("tags", pg.ARRAY(pg.TEXT)),
            sa.Column("readers", pg.ARRAY(pg.UUID(as_uuid=True))),
        )
        table.metadata.create_all(conn)
        conn.execute(table.insert(), ROWS)
        yield Sandbox(conn, table)
    finally:
        tx.rollback()
        conn.close()


CASES: list[tuple[str, set[int]]] = [
    # text: equality, order, contains (case-insensitive; %, _ and \ are literal)
    ('title = "Hello world"', {1}),
    ('title = "hello world"', set()),
    ('title != "Hello world"', ALL - {1}),
    ('title = ""', {8}),
    ('title > "m"', {3, 10}),
    ('title ~ "hello"', {1, 6}),
    ('title ~ "50%"', {2}),
    ('title ~ "50"', {2, 7}),
    ('title ~ "_"', {3}),
    ('title ~ "%"', {2}),
    (r'title ~ "\\"', {4}),
    ('title ~ ""', ALL - {5}),
    ('title !~ "hello"', ALL - {1, 6}),
    ('title !~ "%"', ALL - {2}),
    ("title ~ 'it\\'s \"quoted\"'", {9}),
    ('title = "x\'; DROP TABLE records; --"', {10}),
    ('title ~ "; DROP TABLE"', {10}),
    ('status = "draft"', {1, 6, 7, 10}),
    ('status != "draft"', ALL - {1, 6, 7, 10}),
    # integer and number
    ("count = 10", {2, 8}),
    ("count != 10", ALL - {2, 8}),
    ("count > 9", {2, 6, 7, 8, 10}),
    ("count >= 9", {2, 6, 7, 8, 9, 10}),
    ("count < 0", {3}),
    ("count <= 0", {3, 4}),
    ("count = 9223372036854775807", {10}),
    ("score = 10", {2}),
    ("score > 10", {6, 7, 8, 10}),
    ("score <= -2.5", {3}),
    ("score >= 1e299", {10}),
    ("count < score", {1, 3, 8, 10}),
    ("count = score", {2, 4, 7, 9}),
    # boolean
    ("published = true", {1, 3, 6, 8, 10}),
    ("published = false", {2, 5, 7, 9}),
    ("published != true", {2, 4, 5, 7, 9}),
    ("!(published = true)", {2, 4, 5, 7, 9}),
    ("published = null", {4}),
    # date and datetime
    ('due = "2024-06-15"', {5, 10}),
    ('due < "2024-01-01"', {3}),
    ('due >= "2024-06-15"', {5, 6, 7, 10}),
    ('posted_at = "2024-06-15T12:00:00Z"', {10}),
    ('posted_at = "2024-06-15T14:00:00+02:00"', {10}),
    ('posted_at > "2024-06-15T12:00:00"', {6, 7, 8}),
    ('posted_at < "2024-01-01T00:00:00Z"', {3}),
    ("posted_at = null", {4}),
    # uuid and relation
    (f'id = "{rid(3)}"', {3}),
    (f'id != "{rid(3)}"', ALL - {3}),
    (f'owner = "{ALICE}"', {1, 3, 6, 9}),
    (f'owner != "{ALICE}"', {2, 4, 5, 7, 8, 10}),
    ("owner = null", {4, 8}),
    ("owner != null", ALL - {4, 8}),
    # json: null tests only (a stored JSON value is not SQL NULL)
    ("data = null", {2, 4, 7, 9, 10}),
    ("data != null", {1, 3, 5, 6, 8}),
    # multiple: contains (exact, case-sensitive element match)
    ('tags = "red"', {1, 6, 9}),
    ('tags = "blue"', {1, 2, 8}),
    ('tags != "red"', ALL - {1, 6, 9}),
    ('tags = "red" && tags = "green"', {9}),
    ("tags = null", {4, 10}),
    (f'readers = "{ALICE}"', {1, 2, 8, 9}),
    (f'readers != "{BOB}"', {1, 3, 4, 7, 8, 10}),
    # logic
    ('status = "draft" && count > 10', {6, 7, 10}),
    ('status = "draft" || count = 10', {1, 2, 6, 7, 8, 10}),
    ('status = "archived" || status = "draft" && count > 50', {4, 6, 10}),
    ('(status = "archived" || status = "draft") && count > 50', {6, 10}),
    ('!(status = "draft" || count = 10)', {3, 4, 5, 9}),
    ('!(status = "draft" && published = true)', ALL - {1, 6, 10}),
    ("!!(count = 10)", {2, 8}),
    ("1 = 1", ALL),
    ("1 = 2", set()),
    ('"b" > "a"', ALL),
]


@pytest.mark.parametrize(("expression", "expected"), CASES)
def test_filter_selects_exactly(sandbox: Sandbox, expression: str, expected: set[int]) -> None:
    assert sandbox.ids(expression) == expected


def macros(auth_id: object = "", **body: object) -> dict[str, object]:
    values: dict[str, object] = {"@request.auth.id": auth_id, "@now": NOW}
    values.update({f"@request.body.{name}": value for name, value in body.items()})
    return values


MACRO_CASES: list[tuple[str, dict[str, object], set[int]]] = [
    ("owner = @request.auth.id", macros(str(ALICE)), {1, 3, 6, 9}),
    ("owner = @request.auth.id", macros(ALICE), {1, 3, 6, 9}),
    ("owner != @request.auth.id", macros(str(ALICE)), {2, 4, 5, 7, 8, 10}),
    ("readers = @request.auth.id", macros(str(BOB)), {2, 5, 6, 9}),
    # anonymous: no owner matches the empty id, every row differs from it
    ("owner = @request.auth.id", macros(""), set()),
    ("owner = @request.auth.id", macros(None), set()),
    ("owner != @request.auth.id", macros(""), ALL),
    ("readers = @request.auth.id", macros(""), set()),
    ('owner = @request.auth.id || status = "archived"', macros(""), {4}),
    ('@request.auth.id != "" && owner = @request.auth.id', macros(""), set()),
    ('@request.auth.id != "" && owner = @request.auth.id', macros(str(BOB)), {2, 5, 7, 10}),
    # @now as datetime and as date
    ("posted_at > @now", macros(), {6, 7, 8}),
    ("posted_at <= @now", macros(), {1, 2, 3, 5, 9, 10}),
    ("due = @now", macros(), {5, 10}),
    ("due > @now", macros(), {6, 7}),
    # body values
    ("title ~ @request.body.q", macros(q="50%"), {2}),
    ("title ~ @request.body.q", macros(q="O"), {1, 2, 3, 6, 9, 10}),
    ("count >= @request.body.n", macros(n=50), {6, 7, 10}),
    ("count >= @request.body.n", macros(n="50"), set()),
    ("count < @request.body.n", macros(n="50"), set()),
    ("!(count >= @request.body.n)", macros(n="50"), ALL),
    ("score > @request.body.n", macros(n=10), {6, 7, 8, 10}),
    ("title = @request.body.q", macros(q="x'; DROP TABLE records; --"), {10}),
]


@pytest.mark.parametrize(("expression", "values", "expected"), MACRO_CASES)
def test_filter_with_macros(
    sandbox: Sandbox, expression: str, values: dict[str, object], expected: set[int]
) -> None:
    assert sandbox.ids(expression, values) == expected


def test_table_survives_injection_attempts(sandbox: Sandbox) -> None:
    sandbox.ids('title = "x\'; DROP TABLE records; --" || title ~ "\'); DELETE FROM records;"')
    assert sandbox.ids("1 = 1") == ALL


def test_equality_on_an_indexed_text_column_is_an_index_scan(sandbox: Sandbox) -> None:
    """The column side stays bare (no cast, no function), so its B-tree index serves the filter."""
    conn = sandbox.conn
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        where = compile_expression('title = "Hello world"', sandbox.fields)
        compiled = sa.select(sandbox.table.c.id).where(where).compile(dialect=conn.dialect)
        plan = "\n".join(
            row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        )
    finally:
        conn.execute(text("SET LOCAL enable_seqscan = on"))
    index_name = next(iter(sandbox.table.indexes)).name
    assert "Index" in plan and f"{index_name}" in plan, plan
    assert "Seq Scan" not in plan, plan
