from __future__ import annotations

from typing import Any

import pytest

from cairn.errors import Invalid
from cairn.schema.definitions import load_collection


def errors_of(data: Any) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as caught:
        load_collection(data)
    return caught.value.errors


@pytest.mark.parametrize(
    ("fields", "path", "message"),
    [
        ({"created_at": {"type": "datetime"}}, "fields.created_at", "reserved"),
        ({"owner": {"type": "text"}}, "fields.owner", "reserved"),
        ({"order": {"type": "text"}}, "fields.order", "SQL keyword"),
        ({"Title": {"type": "text"}}, "fields.Title", "lower-case"),
        ({"x" * 64: {"type": "text"}}, "fields." + "x" * 64, "at most 63"),
        ({"pg_x": {"type": "text"}}, "fields.pg_x", "reserved by Postgres"),
        ({"a": "text"}, "fields.a", "must be an object"),
        ({"a": {}}, "fields.a.type", "must be one of"),
        ({"a": {"type": "text", "min": 1}}, "fields.a.min", "not an option of text"),
        ({"a": {"type": "text", "required": "yes"}}, "fields.a.required", "must be a bool"),
        ({"a": {"type": "text", "max_length": -1}}, "fields.a.max_length", "≥ 0"),
        (
            {"a": {"type": "text", "min_length": 5, "max_length": 2}},
            "fields.a.min_length",
            "max_length",
        ),
        ({"a": {"type": "text", "pattern": "("}}, "fields.a.pattern", "regular expression"),
        ({"a": {"type": "integer", "min": 5, "max": 1}}, "fields.a.min", "greater than max"),
        ({"a": {"type": "integer", "default": 1.5}}, "fields.a.default", "integer"),
        ({"a": {"type": "number", "min": "0"}}, "fields.a.min", "must be a number"),
        ({"a": {"type": "select"}}, "fields.a.values", "list of non-empty strings"),
        ({"a": {"type": "select", "values": ["x", "x"]}}, "fields.a.values", "repeat"),
        ({"a": {"type": "select", "values": ["x"], "default": "y"}}, "fields.a.default", "one of"),
        (
            {"a": {"type": "select", "values": ["x"], "multiple": True, "unique": True}},
            "fields.a.unique",
            "multiple",
        ),
        ({"a": {"type": "relation"}}, "fields.a.collection", "related collection"),
        (
            {"a": {"type": "relation", "collection": "b", "on_delete": "nuke"}},
            "fields.a.on_delete",
            "restrict, set_null, cascade",
        ),
        (
            {
                "a": {
                    "type": "relation",
                    "collection": "b",
                    "on_delete": "set_null",
                    "required": True,
                }
            },
            "fields.a.on_delete",
            "required",
        ),
        ({"a": {"type": "boolean", "unique": True}}, "fields.a.unique", "not an option"),
        ({"a": {"type": "date", "default": "2024-13-01"}}, "fields.a.default", "real date"),
        ({"a": {"type": "datetime", "default": "noon"}}, "fields.a.default", "RFC 3339"),
        ({"a": {"type": "email", "default": "nope"}}, "fields.a.default", "email"),
    ],
)
def test_bad_fields(fields: dict[str, Any], path: str, message: str) -> None:
    errors = errors_of({"name": "things", "fields": fields})
    assert path in errors, errors
    assert any(message in m for m in errors[path]), errors[path]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"name": "t", "surprise": 1}, "surprise"),
        ({"name": "t", "fields": []}, "fields"),
        ({"name": "t", "indexes": [{"fields": ["nope"]}]}, "indexes.0.fields"),
        ({"name": "t", "indexes": [{"fields": []}]}, "indexes.0.fields"),
        (
            {"name": "t", "indexes": [{"fields": ["created_at"], "unique": "no"}]},
            "indexes.0.unique",
        ),
        (
            {"name": "t", "fields": {"j": {"type": "json"}}, "indexes": [{"fields": ["j"]}]},
            "indexes.0.fields",
        ),
        ({"name": "t", "rules": {"list": 5}}, "rules.list"),
        ({"name": "t", "rules": {"read": ""}}, "rules.read"),
        ({"name": "t", "indexes": [{"fields": ["id"]}, {"fields": ["id"]}]}, "indexes"),
    ],
)
def test_bad_collections(data: dict[str, Any], path: str) -> None:
    assert path in errors_of(data)


def test_every_problem_is_reported_at_once() -> None:
    errors = errors_of({"name": "BAD", "fields": {"id": {"type": "text"}, "x": {"type": "no"}}})
    assert {"name", "fields.id", "fields.x.type"} <= set(errors)


def test_canonical_dump_omits_defaults_and_keeps_order() -> None:
    loaded = load_collection(
        {
            "name": "posts",
            "fields": {
                "z": {"type": "text", "required": False, "unique": False},
                "a": {"type": "select", "values": ["x", "y"], "multiple": True, "default": ["x"]},
                "d": {"type": "date", "default": "2024-05-01"},
            },
            "rules": {"list": "", "view": None},
        }
    )
    assert loaded.to_dict() == {
        "name": "posts",
        "fields": {
            "z": {"type": "text"},
            "a": {"type": "select", "default": ["x"], "values": ["x", "y"], "multiple": True},
            "d": {"type": "date", "default": "2024-05-01"},
        },
        "rules": {"list": ""},
    }
    assert load_collection(loaded.to_dict()) == loaded
