"""cairn_sdk.filters: typed fields build the server's filter language. Every expression is
checked against the server's own parser and compiler (no database): what the SDK writes is
what the server reads, strings survive any content, and precedence mistakes fail loudly."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cairn.records import filter as server
from cairn.records.filter import Comparison, Not, Value, compile_expression, parse
from cairn_sdk import filters
from cairn_sdk.filters import (
    AUTH_ID,
    NOW,
    BoolField,
    DateField,
    DateTimeField,
    Expr,
    Field,
    IdField,
    JsonField,
    MultiRelationField,
    MultiSelectField,
    RelationField,
    SelectField,
    TextField,
    all_of,
    any_of,
    quote,
)
from tests.unit.records.test_filter import FIELDS, MACROS


class R:
    """Filter fields over the columns of the server's filter tests."""

    id = IdField("id")
    title = TextField("title")
    status = SelectField[Literal["draft", "published"]]("status")
    count = Field[int]("count")
    score = Field[float]("score")
    published = BoolField("published")
    due = DateField("due")
    posted_at = DateTimeField("posted_at")
    data = JsonField("data")
    author = RelationField("author")
    owner = IdField("owner")
    tags = MultiSelectField[Literal["a", "b"]]("tags")
    readers = MultiRelationField("readers")


U1 = "0190a4c4-1111-7000-8000-000000000001"


@dataclass(frozen=True)
class Record:
    id: str


def compiles(expr: Expr) -> None:
    """The server parses and compiles the text against typed columns."""
    compile_expression(str(expr), FIELDS, MACROS)


@pytest.mark.parametrize(
    ("expr", "text"),
    [
        (R.count == 3, "count = 3"),
        (R.count != 3, "count != 3"),
        (R.score > 1.5, "score > 1.5"),
        (R.score >= 10, "score >= 10"),
        (R.score < -2, "score < -2"),
        (R.score <= 1e-05, "score <= 1e-05"),
        (R.score.gte(1e20), "score >= 1e+20"),
        (R.count.between(1, 5), "count >= 1 && count <= 5"),
        (R.title.eq("hi"), 'title = "hi"'),
        (R.title.contains("50%_"), 'title ~ "50%_"'),
        (R.title.not_contains("x"), 'title !~ "x"'),
        (R.title > "m", 'title > "m"'),
        (R.status.eq("draft"), 'status = "draft"'),
        (R.status.one_of("draft", "published"), 'status = "draft" || status = "published"'),
        (R.published == True, "published = true"),  # noqa: E712
        (R.published.is_false(), "published = false"),
        (R.title.eq(None), "title = null"),
        (R.title.is_null(), "title = null"),
        (R.data.is_not_null(), "data != null"),
        (R.due.eq(date(2024, 5, 1)), 'due = "2024-05-01"'),
        (R.due.eq(datetime(2024, 5, 1, 23, 0, tzinfo=UTC)), 'due = "2024-05-01"'),
        (R.due.lt("2024-06-01"), 'due < "2024-06-01"'),
        (
            R.posted_at.gte(datetime(2024, 5, 1, 12, tzinfo=UTC)),
            'posted_at >= "2024-05-01T12:00:00+00:00"',
        ),
        (R.posted_at < NOW, "posted_at < @now"),
        (R.owner == AUTH_ID, "owner = @request.auth.id"),
        (R.author.eq(U1), f'author = "{U1}"'),
        (R.author.eq(uuid.UUID(U1)), f'author = "{U1}"'),
        (R.author.eq(Record(U1)), f'author = "{U1}"'),
        (R.tags.contains("a"), 'tags = "a"'),
        (R.tags.not_contains("b"), 'tags != "b"'),
        (R.readers.contains(Record(U1)), f'readers = "{U1}"'),
        (R.id.ne(U1), f'id != "{U1}"'),
    ],
)
def test_comparisons(expr: Expr, text: str) -> None:
    assert str(expr) == text
    compiles(expr)


def test_combinators_and_precedence() -> None:
    a, b, c = R.count == 1, R.count == 2, R.count == 3
    assert str(a & b & c) == "count = 1 && count = 2 && count = 3"
    assert str(a | b | c) == "count = 1 || count = 2 || count = 3"
    assert str((a | b) & c) == "(count = 1 || count = 2) && count = 3"
    assert str(a | (b & c)) == "count = 1 || count = 2 && count = 3"
    assert str(a & (b | c)) == "count = 1 && (count = 2 || count = 3)"
    assert str(~a) == "!(count = 1)"
    assert str(~(a | b) & c) == "!(count = 1 || count = 2) && count = 3"
    assert str(all_of(a, b | c)) == "count = 1 && (count = 2 || count = 3)"
    assert str(any_of(a & b, c)) == "count = 1 && count = 2 || count = 3"
    assert all_of(a) is a
    raw = Expr.raw('title ~ "x" || count = 1')
    assert str(raw & a) == '(title ~ "x" || count = 1) && count = 1'
    # The server reads the same structure the Python expression has.
    assert parse(str((a | b) & ~c)) == parse("(count = 1 || count = 2) && !(count = 3)")
    tree = parse(str(~a))
    assert isinstance(tree, Not) and isinstance(tree.operand, Comparison)
    for expr in (a & b, (a | b) & ~c, any_of(a, b, c & a), R.status.one_of("draft")):
        compiles(expr)
    assert a == (R.count == 1) and hash(a) == hash(R.count == 1) and a != b
    assert repr(a) == "Expr('count = 1')" and repr(R.count) == "Field('count')"


def test_precedence_mistakes_fail_instead_of_building_another_filter() -> None:
    with pytest.raises(TypeError, match="parenthes"):
        _ = R.score >= 10 & R.status.eq("draft")  # type: ignore[operator]
    with pytest.raises(TypeError, match="parenthes"):
        _ = R.title == "x" | R.count.eq(1)  # type: ignore[operator]
    with pytest.raises(TypeError, match="not a bool"):
        _ = (R.count == 1) and (R.count == 2)
    with pytest.raises(TypeError, match="not a bool"):
        _ = 1 < R.score < 5
    with pytest.raises(TypeError, match="not a bool"):
        _ = not R.published.is_true()
    with pytest.raises(TypeError, match="not a bool"):
        bool(R.count)
    with pytest.raises(TypeError):
        (R.count == 1) & "count = 2"  # type: ignore[operator]


def test_values_the_language_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        R.score.eq(float("nan"))
    with pytest.raises(ValueError, match="finite"):
        R.score.gt(float("inf"))
    with pytest.raises(ValueError, match="NUL"):
        R.title.eq("a\x00b")
    with pytest.raises(TypeError):
        R.author.eq(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Expr.raw("  ")
    with pytest.raises(ValueError):
        all_of()
    with pytest.raises(ValueError):
        filters.Macro("now")


@given(st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=200))
def test_any_string_round_trips_through_the_server_parser(text: str) -> None:
    for expr in (R.title.eq(text), R.title.contains(text)):
        tree = parse(str(expr))
        assert isinstance(tree, Comparison) and tree.right == Value(text, "string")
    # The SDK quotes exactly as the server's own helper does.
    assert quote(text) == server.quote(text)


@given(
    st.one_of(
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
    )
)
def test_numbers_round_trip(number: Any) -> None:
    tree = parse(str(R.score.eq(number)))
    assert isinstance(tree, Comparison) and isinstance(tree.right, Value)
    assert tree.right.value == number
