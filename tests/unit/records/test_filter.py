"""The filter language, parsed and compiled to PostgreSQL text without a database.

Each case asserts the exact SQL and the bound parameters, so a value that leaked into the SQL
text, a lost parenthesis or a changed operator fails here.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from cairn.errors import BadRequest
from cairn.records.fields import FieldRef, FieldType
from cairn.records.filter import (
    MAX_COMPARISONS,
    MAX_DEPTH,
    MAX_EXPRESSION_LENGTH,
    And,
    Comparison,
    Field,
    FilterError,
    Macro,
    Not,
    Or,
    Value,
    compile_expression,
    parse,
    validate_expression,
)

RECORDS = sa.Table(
    "records",
    sa.MetaData(),
    sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
    sa.Column("title", pg.TEXT),
    sa.Column("status", pg.TEXT),
    sa.Column("contact", pg.TEXT),
    sa.Column("site", pg.TEXT),
    sa.Column("count", pg.BIGINT),
    sa.Column("score", pg.DOUBLE_PRECISION),
    sa.Column("published", pg.BOOLEAN),
    sa.Column("due", pg.DATE),
    sa.Column("posted_at", pg.TIMESTAMP(timezone=True)),
    sa.Column("data", pg.JSONB),
    sa.Column("author", pg.UUID(as_uuid=True)),
    sa.Column("owner", pg.UUID(as_uuid=True)),
    sa.Column("tags", pg.ARRAY(pg.TEXT)),
    sa.Column("readers", pg.ARRAY(pg.UUID(as_uuid=True))),
    sa.Column("created_at", pg.TIMESTAMP(timezone=True), nullable=False),
)

FIELD_TYPES: dict[str, FieldType] = {
    "id": "uuid",
    "title": "text",
    "status": "select",
    "contact": "email",
    "site": "url",
    "count": "integer",
    "score": "number",
    "published": "boolean",
    "due": "date",
    "posted_at": "datetime",
    "data": "json",
    "author": "relation",
    "owner": "uuid",
    "tags": "select",
    "readers": "relation",
    "created_at": "datetime",
}
MULTIPLE = {"tags", "readers"}
FIELDS = {
    name: FieldRef(name, type_, RECORDS.c[name], name in MULTIPLE)
    for name, type_ in FIELD_TYPES.items()
}

U1 = uuid.UUID("0190a4c4-1111-7000-8000-000000000001")
NOW = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
MACROS: dict[str, object] = {
    "@now": NOW,
    "@request.auth.id": str(U1),
    "@request.auth.verified": True,
    "@request.body.q": "50%_",
    "@request.body.count": 7,
    "@request.body.score": 2.5,
    "@request.body.text_count": "7",
    "@request.body.missing": None,
}
ANONYMOUS: dict[str, object] = {**MACROS, "@request.auth.id": ""}


def sql(expression: str, macros: dict[str, object] | None = None) -> tuple[str, dict[str, Any]]:
    compiled = compile_expression(expression, FIELDS, macros).compile(dialect=pg.dialect())
    return " ".join(str(compiled).split()), dict(compiled.params)


def fails(expression: str, macros: dict[str, object] | None = None) -> FilterError:
    with pytest.raises(FilterError) as caught:
        compile_expression(expression, FIELDS, macros)
    return caught.value


P1 = "%(param_1)s"
P2 = "%(param_2)s"
P3 = "%(param_3)s"

# --- parsing ------------------------------------------------------------------------------------


def eq(name: str, value: Any, kind: str = "number") -> Comparison:
    return Comparison(Field(name), "=", Value(value, kind))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ('title = "x"', eq("title", "x", "string")),
        ("title = 'x'", eq("title", "x", "string")),
        (r'title = "say \"hi\""', eq("title", 'say "hi"', "string")),
        (r"title = 'it\'s'", eq("title", "it's", "string")),
        (r'title = "back\\slash"', eq("title", "back\\slash", "string")),
        ('title = "it\'s"', eq("title", "it's", "string")),
        ('title = "naïve ✓"', eq("title", "naïve ✓", "string")),
        ("count = 42", eq("count", 42)),
        ("count = -42", eq("count", -42)),
        ("score = 1.5", eq("score", 1.5)),
        ("score = -2.5e3", eq("score", -2500.0)),
        ("published = true", eq("published", True, "boolean")),
        ("published = false", eq("published", False, "boolean")),
        ("title = null", eq("title", None, "null")),
        ("truth = 1", eq("truth", 1)),
        ("_private1 = 1", eq("_private1", 1)),
        (
            "owner = @request.auth.id",
            Comparison(Field("owner"), "=", Macro("@request.auth.id")),
        ),
        ("@now > posted_at", Comparison(Macro("@now"), ">", Field("posted_at"))),
        ("a = b", Comparison(Field("a"), "=", Field("b"))),
        *[
            (f"a {op} 1", Comparison(Field("a"), op, Value(1, "number")))  # type: ignore[arg-type]
            for op in ("=", "!=", ">", ">=", "<", "<=", "~", "!~")
        ],
        ("a=1&&b=2", And((eq("a", 1), eq("b", 2)))),
        ("  a =\n1\t&&   b= 2 ", And((eq("a", 1), eq("b", 2)))),
        ("a = 1 || b = 2 && c = 3", Or((eq("a", 1), And((eq("b", 2), eq("c", 3)))))),
        ("(a = 1 || b = 2) && c = 3", And((Or((eq("a", 1), eq("b", 2))), eq("c", 3)))),
        ("a = 1 && b = 2 || c = 3", Or((And((eq("a", 1), eq("b", 2))), eq("c", 3)))),
        ("a = 1 && b = 2 && c = 3", And((eq("a", 1), eq("b", 2), eq("c", 3)))),
        ("!a = 1 && b = 2", And((Not(eq("a", 1)), eq("b", 2)))),
        ("!(a = 1 && b = 2)", Not(And((eq("a", 1), eq("b", 2))))),
        ("!!a = 1", Not(Not(eq("a", 1)))),
        ("((a = 1))", eq("a", 1)),
    ],
)
def test_parse(text: str, tree: object) -> None:
    assert parse(text) == tree


def test_parse_is_cached_by_text() -> None:
    text = 'title = "cached" && count > 1'
    assert parse(text) is parse(text)


def test_positions_are_one_based_offsets() -> None:
    tree = parse('title = "x" && count > 1')
    assert isinstance(tree, And)
    second = tree.operands[1]
    assert isinstance(second, Comparison) and isinstance(second.right, Value)
    assert (second.position, second.right.position) == (16, 24)


# --- compilation: one row per operator and field type -------------------------------------------

SQL_CASES: list[tuple[str, str, dict[str, Any]]] = [
    # text-like fields
    ('title = "hello"', f"records.title = {P1}::VARCHAR", {"param_1": "hello"}),
    (
        'title != "hello"',
        f"records.title != {P1}::VARCHAR OR records.title IS NULL",
        {"param_1": "hello"},
    ),
    ('title > "m"', f"records.title > {P1}::VARCHAR", {"param_1": "m"}),
    ('title >= "m"', f"records.title >= {P1}::VARCHAR", {"param_1": "m"}),
    ('title < "m"', f"records.title < {P1}::VARCHAR", {"param_1": "m"}),
    ('title <= "m"', f"records.title <= {P1}::VARCHAR", {"param_1": "m"}),
    ('title ~ "Hello"', f"records.title ILIKE {P1}::VARCHAR ESCAPE '\\'", {"param_1": "%Hello%"}),
    (
        'title !~ "hello"',
        f"records.title NOT ILIKE {P1}::VARCHAR ESCAPE '\\' OR records.title IS NULL",
        {"param_1": "%hello%"},
    ),
    (
        r'title ~ "50%_off\\"',
        f"records.title ILIKE {P1}::VARCHAR ESCAPE '\\'",
        {"param_1": r"%50\%\_off\\%"},
    ),
    ('title ~ ""', f"records.title ILIKE {P1}::VARCHAR ESCAPE '\\'", {"param_1": "%%"}),
    ('status = "draft"', f"records.status = {P1}::VARCHAR", {"param_1": "draft"}),
    ('contact = "a@b.io"', f"records.contact = {P1}::VARCHAR", {"param_1": "a@b.io"}),
    ('site ~ "example"', f"records.site ILIKE {P1}::VARCHAR ESCAPE '\\'", {"param_1": "%example%"}),
    # integer
    ("count = 3", f"records.count = {P1}::BIGINT", {"param_1": 3}),
    ("count != 3", f"records.count != {P1}::BIGINT OR records.count IS NULL", {"param_1": 3}),
    ("count > -2", f"records.count > {P1}::BIGINT", {"param_1": -2}),
    ("count >= 0", f"records.count >= {P1}::BIGINT", {"param_1": 0}),
    ("count < 10", f"records.count < {P1}::BIGINT", {"param_1": 10}),
    ("count <= 10", f"records.count <= {P1}::BIGINT", {"param_1": 10}),
    (
        "count = 9223372036854775807",
        f"records.count = {P1}::BIGINT",
        {"param_1": 9223372036854775807},
    ),
    # number: ints are accepted and bound as floats
    ("score = 1.5", f"records.score = {P1}", {"param_1": 1.5}),
    ("score >= 10", f"records.score >= {P1}", {"param_1": 10.0}),
    ("score < -2.5e1", f"records.score < {P1}", {"param_1": -25.0}),
    # boolean
    ("published = true", f"records.published = {P1}", {"param_1": True}),
    (
        "published != false",
        f"records.published != {P1} OR records.published IS NULL",
        {"param_1": False},
    ),
    # date and datetime
    ('due = "2024-05-01"', f"records.due = {P1}::DATE", {"param_1": date(2024, 5, 1)}),
    ('due < "2024-02-29"', f"records.due < {P1}::DATE", {"param_1": date(2024, 2, 29)}),
    (
        'posted_at >= "2024-05-01T10:00:00Z"',
        f"records.posted_at >= {P1}::TIMESTAMP WITH TIME ZONE",
        {"param_1": datetime(2024, 5, 1, 10, tzinfo=UTC)},
    ),
    (
        'posted_at < "2024-05-01T10:00:00"',
        f"records.posted_at < {P1}::TIMESTAMP WITH TIME ZONE",
        {"param_1": datetime(2024, 5, 1, 10, tzinfo=UTC)},
    ),
    (
        'posted_at > "2024-05-01T12:00:00.5+02:00"',
        f"records.posted_at > {P1}::TIMESTAMP WITH TIME ZONE",
        {"param_1": datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=timezone(timedelta(hours=2)))},
    ),
    (
        'posted_at >= "2024-05-01"',
        f"records.posted_at >= {P1}::TIMESTAMP WITH TIME ZONE",
        {"param_1": datetime(2024, 5, 1, tzinfo=UTC)},
    ),
    # uuid and relation; `id` is NOT NULL, so its negation needs no IS NULL arm
    (f'id = "{U1}"', f"records.id = {P1}::UUID", {"param_1": U1}),
    (f"id != '{U1}'", f"records.id != {P1}::UUID", {"param_1": U1}),
    (f'author = "{U1}"', f"records.author = {P1}::UUID", {"param_1": U1}),
    (f'author = "{U1.hex.upper()}"', f"records.author = {P1}::UUID", {"param_1": U1}),
    # null
    ("title = null", "records.title IS NULL", {}),
    ("title != null", "records.title IS NOT NULL", {}),
    ("null = title", "records.title IS NULL", {}),
    ("data = null", "records.data IS NULL", {}),
    ("data != null", "records.data IS NOT NULL", {}),
    ("tags = null", "records.tags IS NULL", {}),
    ("!(count = null)", "records.count IS NOT NULL", {}),
    # multiple fields: contains, served by a GIN index
    ('tags = "red"', f"records.tags @> {P1}::TEXT[]", {"param_1": ["red"]}),
    (
        'tags != "red"',
        f"NOT (records.tags @> {P1}::TEXT[]) OR records.tags IS NULL",
        {"param_1": ["red"]},
    ),
    (f'readers = "{U1}"', f"records.readers @> {P1}::UUID[]", {"param_1": [U1]}),
    # a field on the right is mirrored
    ("10 <= count", f"records.count >= {P1}::BIGINT", {"param_1": 10}),
    ("10 > count", f"records.count < {P1}::BIGINT", {"param_1": 10}),
    ('"x" = title', f"records.title = {P1}::VARCHAR", {"param_1": "x"}),
    ('"x" != title', f"records.title != {P1}::VARCHAR OR records.title IS NULL", {"param_1": "x"}),
    # field against field
    ("count < score", "records.count < records.score", {}),
    ("title = status", "records.title = records.status", {}),
    ("author = owner", "records.author = records.owner", {}),
    ("due >= due", "records.due >= records.due", {}),
    (
        "title != status",
        "records.title != records.status OR records.title IS NULL OR records.status IS NULL",
        {},
    ),
    ("id != owner", "records.id != records.owner OR records.owner IS NULL", {}),
    # literal against literal: bound parameters, never SQL text
    ("1 = 1", f"{P1}::BIGINT = {P2}::BIGINT", {"param_1": 1, "param_2": 1}),
    ("1 < 2.5", f"{P1} < {P2}", {"param_1": 1.0, "param_2": 2.5}),
    ('"a" != "b"', f"{P1}::VARCHAR != {P2}::VARCHAR", {"param_1": "a", "param_2": "b"}),
    (
        '"Hay" ~ "a"',
        f"{P1}::VARCHAR ILIKE {P2}::VARCHAR ESCAPE '\\'",
        {"param_1": "Hay", "param_2": "%a%"},
    ),
    ("null = null", "true", {}),
    ("true != null", "true", {}),
    # precedence, grouping and negation (negations are pushed down to the comparisons)
    (
        "count = 1 || count = 2 && count = 3",
        f"records.count = {P1}::BIGINT OR records.count = {P2}::BIGINT "
        f"AND records.count = {P3}::BIGINT",
        {"param_1": 1, "param_2": 2, "param_3": 3},
    ),
    (
        "(count = 1 || count = 2) && count = 3",
        f"(records.count = {P1}::BIGINT OR records.count = {P2}::BIGINT) "
        f"AND records.count = {P3}::BIGINT",
        {"param_1": 1, "param_2": 2, "param_3": 3},
    ),
    (
        "count = 1 && count = 2 || count = 3",
        f"records.count = {P1}::BIGINT AND records.count = {P2}::BIGINT "
        f"OR records.count = {P3}::BIGINT",
        {"param_1": 1, "param_2": 2, "param_3": 3},
    ),
    (
        "!(published = true)",
        f"records.published != {P1} OR records.published IS NULL",
        {"param_1": True},
    ),
    ("!!(published = true)", f"records.published = {P1}", {"param_1": True}),
    ("!(id = '" + str(U1) + "')", f"records.id != {P1}::UUID", {"param_1": U1}),
    (
        "!(count > 1)",
        f"records.count <= {P1}::BIGINT OR records.count IS NULL",
        {"param_1": 1},
    ),
    (
        '!(title ~ "a")',
        f"records.title NOT ILIKE {P1}::VARCHAR ESCAPE '\\' OR records.title IS NULL",
        {"param_1": "%a%"},
    ),
    ('!(title !~ "a")', f"records.title ILIKE {P1}::VARCHAR ESCAPE '\\'", {"param_1": "%a%"}),
    (
        '!(count = 1 || title = "x")',
        f"(records.count != {P1}::BIGINT OR records.count IS NULL) "
        f"AND (records.title != {P2}::VARCHAR OR records.title IS NULL)",
        {"param_1": 1, "param_2": "x"},
    ),
    (
        "!(count = 1 && published = true)",
        f"records.count != {P1}::BIGINT OR records.count IS NULL "
        f"OR records.published != {P2} OR records.published IS NULL",
        {"param_1": 1, "param_2": True},
    ),
]


@pytest.mark.parametrize(("expression", "expected_sql", "params"), SQL_CASES)
def test_compile(expression: str, expected_sql: str, params: dict[str, Any]) -> None:
    assert sql(expression) == (expected_sql, params)


# --- macros -------------------------------------------------------------------------------------

MACRO_CASES: list[tuple[str, dict[str, object], str, dict[str, Any]]] = [
    ("owner = @request.auth.id", MACROS, f"records.owner = {P1}::UUID", {"param_1": U1}),
    (
        "owner != @request.auth.id",
        MACROS,
        f"records.owner != {P1}::UUID OR records.owner IS NULL",
        {"param_1": U1},
    ),
    ("@request.auth.id = owner", MACROS, f"records.owner = {P1}::UUID", {"param_1": U1}),
    # a server value that already is a UUID
    (
        "author = @request.auth.id",
        {**MACROS, "@request.auth.id": U1},
        f"records.author = {P1}::UUID",
        {"param_1": U1},
    ),
    ("readers = @request.auth.id", MACROS, f"records.readers @> {P1}::UUID[]", {"param_1": [U1]}),
    # an anonymous caller's empty id matches nothing, and its negation matches everything
    ("owner = @request.auth.id", ANONYMOUS, "false", {}),
    ("owner != @request.auth.id", ANONYMOUS, "true", {}),
    ("!(owner = @request.auth.id)", ANONYMOUS, "true", {}),
    ("readers = @request.auth.id", ANONYMOUS, "false", {}),
    (
        'owner = @request.auth.id || status = "public"',
        ANONYMOUS,
        f"records.status = {P1}::VARCHAR",
        {"param_1": "public"},
    ),
    ('owner = @request.auth.id && status = "public"', ANONYMOUS, "false", {}),
    (
        '@request.auth.id != ""',
        ANONYMOUS,
        f"{P1}::VARCHAR != {P2}::VARCHAR",
        {"param_1": "", "param_2": ""},
    ),
    ("@request.auth.id = null", ANONYMOUS, "false", {}),
    ("@request.body.missing = null", MACROS, "true", {}),
    ("@request.auth.verified = true", MACROS, f"{P1} = {P2}", {"param_1": True, "param_2": True}),
    (
        "@request.body.count > 5",
        MACROS,
        f"{P1}::BIGINT > {P2}::BIGINT",
        {"param_1": 7, "param_2": 5},
    ),
    (
        '@now > "2024-01-01T00:00:00Z"',
        MACROS,
        f"{P1}::TIMESTAMP WITH TIME ZONE > {P2}::TIMESTAMP WITH TIME ZONE",
        {"param_1": NOW, "param_2": datetime(2024, 1, 1, tzinfo=UTC)},
    ),
    # a macro value of the wrong type (a server value, not the caller's literal) never raises
    ("count = @request.body.text_count", MACROS, "false", {}),
    ("count != @request.body.text_count", MACROS, "true", {}),
    ("count = @request.body.missing", MACROS, "false", {}),
    ("count = @request.body.score", MACROS, "false", {}),
    ("title ~ @request.body.count", MACROS, "false", {}),
    ("title !~ @request.body.count", MACROS, "true", {}),
    ("@request.body.text_count = 7", MACROS, "false", {}),
    ("count = @request.body.count", MACROS, f"records.count = {P1}::BIGINT", {"param_1": 7}),
    ("score < @request.body.count", MACROS, f"records.score < {P1}", {"param_1": 7.0}),
    (
        "title ~ @request.body.q",
        MACROS,
        f"records.title ILIKE {P1}::VARCHAR ESCAPE '\\'",
        {"param_1": r"%50\%\_%"},
    ),
    (
        "posted_at < @now",
        MACROS,
        f"records.posted_at < {P1}::TIMESTAMP WITH TIME ZONE",
        {"param_1": NOW},
    ),
    ("due = @now", MACROS, f"records.due = {P1}::DATE", {"param_1": date(2024, 5, 1)}),
]


@pytest.mark.parametrize(("expression", "macros", "expected_sql", "params"), MACRO_CASES)
def test_compile_macros(
    expression: str, macros: dict[str, object], expected_sql: str, params: dict[str, Any]
) -> None:
    assert sql(expression, macros) == (expected_sql, params)


def test_now_defaults_to_the_current_time() -> None:
    before = datetime.now(UTC)
    _, params = sql("posted_at < @now", {})
    assert before <= params["param_1"] <= datetime.now(UTC)


def test_naive_now_is_taken_as_utc() -> None:
    _, params = sql("posted_at < @now", {"@now": datetime(2024, 5, 1, 12)})
    assert params == {"param_1": datetime(2024, 5, 1, 12, tzinfo=UTC)}


# --- errors -------------------------------------------------------------------------------------

ERROR_CASES: list[tuple[str, str]] = [
    # names
    ('titel = "x"', r"^unknown field 'titel'; did you mean 'title'\?$"),
    ("zzz = 1", r"^unknown field 'zzz'$"),
    ('author.name = "x"', r"field path 'author.name' .*filter on a relation by id"),
    ("owner = @request.auth.nope", r"^unknown macro '@request.auth.nope' at position 9$"),
    ("@x = 1", r"^unknown macro '@x' at position 1$"),
    # wrong literal types, one per field type
    ("title = 1", r"^field 'title' is text; 1 is not$"),
    ("status = true", r"^field 'status' is a select; true is not$"),
    ("contact = 1.5", r"^field 'contact' is an email; 1.5 is not$"),
    ("site = false", r"^field 'site' is a url; false is not$"),
    ('score = "abc"', r'^field \'score\' is a number; "abc" is not$'),
    ("score = true", r"^field 'score' is a number; true is not$"),
    ("count = 1.5", r"^field 'count' is an integer; 1.5 is not$"),
    ('count = "1"', r'^field \'count\' is an integer; "1" is not$'),
    ("count = 9223372036854775808", r"^field 'count' is an integer; \d+ is out of range$"),
    ("count = 1e999", r"^number 1e999 at position 9 is out of range$"),
    ('published = "true"', r"^field 'published' is a boolean"),
    ("published = 1", r"^field 'published' is a boolean \(true or false\); 1 is not$"),
    ('due = "2024-5-1"', r"^field 'due' is a date \(YYYY-MM-DD\); \"2024-5-1\" is not$"),
    ('due = "2024-02-30"', r"^field 'due' is a date"),
    ('due = "2024-05-01T10:00:00Z"', r"^field 'due' is a date"),
    ("due = 20240501", r"^field 'due' is a date"),
    ('posted_at > "yesterday"', r"^field 'posted_at' is a datetime \(ISO 8601\)"),
    ('posted_at > "2024-13-01T00:00:00Z"', r"^field 'posted_at' is a datetime"),
    ('id = "nope"', r'^field \'id\' is a uuid; "nope" is not$'),
    ("author = 5", r"^field 'author' is a relation \(a record id\); 5 is not$"),
    ("tags = 5", r"^field 'tags' is a select; 5 is not$"),
    ('readers = "x"', r"^field 'readers' is a relation"),
    # json: only null tests
    ('data = "x"', r"^field 'data' is json; it can only be compared with null"),
    ("data != 1", r"^field 'data' is json"),
    ('data ~ "x"', r"^field 'data' is json"),
    ("data = title", r"^field 'data' is json"),
    ("data = @request.auth.id", r"^field 'data' is json"),
    # operators that do not apply
    ("published > true", r"^field 'published' is a boolean.*cannot be compared with '>'$"),
    ("published <= false", r"cannot be compared with '<='$"),
    (f'id < "{U1}"', r"^field 'id' is a uuid; it cannot be compared with '<'$"),
    (f'author >= "{U1}"', r"^field 'author' is a relation"),
    ('tags > "a"', r"^field 'tags' holds several values; it cannot be compared with '>'$"),
    ('tags ~ "a"', r"^'~' does not apply to field 'tags', which holds several values"),
    ('tags !~ "a"', r"^'!~' does not apply to field 'tags'"),
    ("count ~ 1", r"^'~' only applies to text; field 'count' is an integer$"),
    (f'id ~ "{U1}"', r"^'~' only applies to text; field 'id' is a uuid$"),
    ('"x" ~ title', r"^'~' needs the field on its left"),
    ("title ~ status", r"^the right side of '~' must be a text value, not field 'status'$"),
    ("title ~ 5", r"^field 'title' is text; 5 is not$"),
    ("count = title", r"^field 'count' is an integer and field 'title' is text"),
    ("due = posted_at", r"^field 'due' is a date .* they cannot be compared$"),
    ("tags = title", r"^field 'tags' holds several values"),
    ("published < published", r"^field 'published' is a boolean"),
    ("title = @now", r"^field 'title' is text; @now is a datetime$"),
    ('1 = "a"', r'^1 and "a" are of different types; they cannot be compared$'),
    ("1 ~ 1", r"^'~' only applies to text$"),
    ('@now > "soon"', r'^"soon" is not a datetime'),
    # null
    ("title > null", r"^null can only be compared with = or !=$"),
    ("title ~ null", r"^null can only be compared with = or !=$"),
    ("title !~ null", r"^null can only be compared with = or !=$"),
    ("null < 1", r"^null can only be compared with = or !=$"),
    # syntax, with positions
    (
        'title = "a" && && count = 1',
        r"^unexpected '&&' at position 16; expected a field, a value, '!' or '\('$",
    ),
    ('title = "a" || || count = 1', r"^unexpected '\|\|' at position 16"),
    ('title = "abc', r"^unterminated string starting at position 9$"),
    ("title = 'abc", r"^unterminated string starting at position 9$"),
    (r'title = "abc\"', r"^unterminated string starting at position 9$"),
    (r'title = "a\nb"', r"^unknown escape '\\n' at position 11"),
    ("title", r"^unexpected end of expression; expected an operator$"),
    ("title =", r"^unexpected end of expression; expected a field or a value$"),
    ("(title = 'a'", r"^unexpected end of expression; expected '\)'$"),
    ("title = 'a')", r"^unexpected '\)' at position 12; expected the end of the expression$"),
    ("title == 'a'", r"^unexpected '=' at position 8"),
    (
        "title = 'a' title = 'b'",
        r"^unexpected 'title' at position 13; expected '&&', '\|\|' or the end of the expression$",
    ),
    ("title = 'a' and count = 1", r"^unexpected 'and' at position 13"),
    ("() ", r"^unexpected '\)' at position 2"),
    ("title = 1.", r"^unexpected character '\.' at position 10$"),
    ("count = .5", r"^unexpected character '\.' at position 9$"),
    ("title = TRUE", r"^unknown field 'TRUE'$"),
    ("title ! = 'a'", r"^unexpected '!' at position 7"),
    ("@ = 1", r"^'@' at position 1 must start a macro"),
    ("title = #", r"^unexpected character '#' at position 9$"),
    ("", r"^the expression is empty$"),
    (" \n\t ", r"^the expression is empty$"),
    # injection attempts: never reach SQL, they do not even parse
    ("title; DROP = 1", r"^unexpected character ';' at position 6$"),
    ("title = 'x' OR 1 = 1", r"^unexpected 'OR' at position 13"),
    ("title = 'x' -- comment", r"^unexpected character '-' at position 13$"),
    ("title/**/= 'x'", r"^unexpected character '/' at position 6$"),
    ("title = 'x'; DELETE FROM records", r"^unexpected character ';' at position 12$"),
    ('"title" = 1', r'^"title" and 1 are of different types'),
    ("pg_sleep(10) = 1", r"^unexpected '\(' at position 9"),
    ("posts.title = 'x'", r"field path 'posts.title' .* is not supported"),
]


@pytest.mark.parametrize(("expression", "message"), ERROR_CASES)
def test_errors(expression: str, message: str) -> None:
    error = fails(expression, MACROS)
    assert re.search(message, error.detail), error.detail
    assert isinstance(error, BadRequest) and error.status == 400
    assert not re.search(r"records\.|%\(|VARCHAR|BIGINT|ILIKE|SELECT", error.detail)


def test_too_long_is_rejected_before_parsing() -> None:
    # Invalid from its first character: only a length check that runs first names the length.
    text = ";" + "x" * MAX_EXPRESSION_LENGTH
    with pytest.raises(FilterError, match=r"^expression is 4097 characters long; at most 4096"):
        parse(text)


def test_longest_allowed_expression_parses() -> None:
    text = "count = 1" + " " * (MAX_EXPRESSION_LENGTH - len("count = 1"))
    assert parse(text) == eq("count", 1)


@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        ("(" * MAX_DEPTH + "a = 1" + ")" * MAX_DEPTH, True),
        ("(" * (MAX_DEPTH + 1) + "a = 1" + ")" * (MAX_DEPTH + 1), False),
        ("!" * MAX_DEPTH + "a = 1", True),
        ("!" * (MAX_DEPTH + 1) + "a = 1", False),
        # each level of `x || (y && (…))` adds two
        ("a = 1 || (" * 8 + "a = 1" + ")" * 8, True),
        ("a = 1 || (" * 9 + "a = 1" + ")" * 9, False),
        # far past any recursion limit: refused while parsing, not by a RecursionError
        ("(" * 2000 + "a = 1" + ")" * 2000, False),
        ("!" * 4000 + "a = 1", False),
    ],
)
def test_depth_bound(text: str, allowed: bool) -> None:
    if allowed:
        parse(text)
    else:
        with pytest.raises(FilterError, match=r"^expression is nested too deeply"):
            parse(text)


@pytest.mark.parametrize(
    ("count", "allowed"), [(MAX_COMPARISONS, True), (MAX_COMPARISONS + 1, False)]
)
def test_comparison_bound(count: int, allowed: bool) -> None:
    flat = " && ".join(["a = 1"] * count)
    if allowed:
        parse(flat)
    else:
        with pytest.raises(FilterError, match=rf"^expression has {count} comparisons; at most 64"):
            parse(flat)


def test_no_lark_exception_escapes() -> None:
    # A spread of malformed inputs: every one must surface as a FilterError.
    for text in ["(", ")", "!", "&&", "a", "a =", "= 1", "'", '"', "a = 'x", "1", "@", "a.b.", "~"]:
        with pytest.raises(FilterError):
            parse(text)


# --- injection: values are bound, never rendered -------------------------------------------------

INJECTIONS = [
    "x'; DROP TABLE records; --",
    "' OR '1'='1",
    "\\'; SELECT pg_sleep(10); --",
    "%' OR 1=1 --",
    "$$; DROP TABLE records; $$",
]


@pytest.mark.parametrize("payload", INJECTIONS)
@pytest.mark.parametrize("operator", ["=", "!=", "~", "!~", ">"])
def test_injected_values_are_bound_parameters(payload: str, operator: str) -> None:
    quoted = '"' + payload.replace("\\", "\\\\").replace('"', '\\"') + '"'
    text, params = sql(f"title {operator} {quoted}")
    assert payload not in text
    assert "DROP" not in text and "pg_sleep" not in text and "OR '1'" not in text
    assert any(payload in str(value) or _unescaped(value) == payload for value in params.values())


def _unescaped(pattern: object) -> str:
    text = str(pattern)[1:-1]
    return re.sub(r"\\(.)", r"\1", text)


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injected_macro_values_are_bound_parameters(payload: str) -> None:
    text, params = sql("title = @request.body.q", {"@request.body.q": payload})
    assert payload not in text and params == {"param_1": payload}


# --- validate_expression -------------------------------------------------------------------------

RULE_MACROS = ["@request.auth.id", "@request.body.title"]


@pytest.mark.parametrize(
    "rule",
    [
        "owner = @request.auth.id",
        'owner = @request.auth.id || status = "public"',
        "title = @request.body.title && posted_at <= @now",
        "due < @now",
        '@request.auth.id != ""',
        "readers = @request.auth.id",
        "count > 3 && !(data = null)",
    ],
)
def test_validate_accepts(rule: str) -> None:
    validate_expression(rule, FIELDS, RULE_MACROS)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("owner = @request.auth.email", r"^unknown macro '@request.auth.email'"),
        ("ownr = @request.auth.id", r"^unknown field 'ownr'; did you mean 'owner'\?$"),
        ('count = "x"', r"^field 'count' is an integer"),
        ("title = @now", r"^field 'title' is text; @now is a datetime$"),
        ("data = @request.auth.id", r"^field 'data' is json"),
        ("count ~ @request.body.title", r"^'~' only applies to text"),
        ("published > @request.body.title", r"^field 'published' is a boolean"),
        ("owner = @request.auth.id &&", r"^unexpected end of expression"),
    ],
)
def test_validate_rejects(rule: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        validate_expression(rule, FIELDS, RULE_MACROS)
