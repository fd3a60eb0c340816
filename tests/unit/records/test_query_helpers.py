"""Small helpers of the records query service that the admin UI's browser and pickers use:
the reversed order for paging backwards, cursor payloads, and the text search expression."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from cairn.errors import BadRequest
from cairn.records import query
from cairn.records.collection import Collection, build
from cairn.records.filter import Comparison, Field, Or, Value, parse, quote
from cairn.schema.definitions import load_collection
from cairn.tenancy.service import Project


def collection(fields: dict[str, object]) -> Collection:
    project = Project(uuid4(), "shop", "Shop", "p_shop", datetime.now(UTC))
    return build(project, load_collection({"name": "posts", "fields": fields}), 1)


POSTS = collection(
    {
        "title": {"type": "text"},
        "email": {"type": "email"},
        "tags": {"type": "select", "values": ["a"], "multiple": True},
        "n": {"type": "integer"},
    }
)


def test_reversed_sort_flips_every_key_including_the_tie_breaker() -> None:
    keys = query.parse_sort(POSTS, "-n,title")
    assert query.sort_signature(keys) == "-n,title,id"
    assert query.reversed_sort(keys) == "n,-title,-id"
    back = query.parse_sort(POSTS, query.reversed_sort(keys))
    assert query.reversed_sort(back) == query.sort_signature(keys)
    assert query.reversed_sort(query.parse_sort(POSTS, None)) == "created_at,id"


def test_cursor_payloads_belong_to_one_sort() -> None:
    keys = query.parse_sort(POSTS, "title")
    position = query.cursor_position(query.sort_signature(keys), ["x", "id"])
    assert query.cursor_values(position, keys) == ["x", "id"]
    with pytest.raises(BadRequest, match="another sort"):
        query.cursor_values(position, query.parse_sort(POSTS, "-title"))
    with pytest.raises(BadRequest, match="not valid"):
        query.cursor_values({"s": "title,id", "v": "x"}, keys)
    item = {"title": "t", "id": UUID(int=1), "n": 3}
    assert query.position_of(keys, item) == ["t", str(UUID(int=1))]


def test_quote_makes_any_text_one_string_literal() -> None:
    for text in ("plain", 'say "hi"', "it's", "back\\slash", '" || n != "'):
        node = parse(f"title = {quote(text)}")
        assert node == Comparison(Field("title"), "=", Value(text, "string"))


def test_text_search_covers_single_text_fields_or_the_id() -> None:
    assert query.text_search(POSTS, "  ") is None
    expression = query.text_search(POSTS, 'a"b')
    assert expression is not None
    assert parse(expression) == Or(
        (
            Comparison(Field("title"), "~", Value('a"b', "string")),
            Comparison(Field("email"), "~", Value('a"b', "string")),
        )
    )
    some_id = uuid4()
    assert query.text_search(POSTS, f" {some_id} ") == f'id = "{some_id}"'
    numbers = collection({"n": {"type": "integer"}})
    with pytest.raises(BadRequest, match="no text fields"):
        query.text_search(numbers, "x")
    assert query.text_search(numbers, str(some_id)) == f'id = "{some_id}"'
