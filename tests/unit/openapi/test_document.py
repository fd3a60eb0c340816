"""build_document without a server: the OpenAPI 3.1 document of collections built in memory."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from apispec.ext.marshmallow.field_converter import DEFAULT_FIELD_MAPPING
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from marshmallow import ValidationError
from openapi_spec_validator import validate

from cairn.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from cairn.openapi import document as document_module
from cairn.openapi.document import (
    COLLECTION_SUFFIXES,
    FIXED_SCHEMAS,
    build_document,
    pascal,
    record_operation_ids,
)
from cairn.records.collection import Collection, build
from cairn.schema.definitions import NAME, load_collection
from cairn.tenancy.service import Project

PROJECT = Project(uuid.uuid4(), "shop", "Shop", "prj_test", datetime(2024, 1, 1, tzinfo=UTC))

# Every field type, with and without `required`, with the options each type takes.
POSTS_FIELDS: dict[str, dict[str, Any]] = {
    "title": {"type": "text", "required": True, "min_length": 2, "max_length": 200},
    "code": {"type": "text", "pattern": "[A-Z]{2}"},
    "body": {"type": "text"},
    "email": {"type": "email", "max_length": 100},
    "site": {"type": "url", "required": True},
    "status": {"type": "select", "values": ["draft", "published"], "default": "draft"},
    "kind": {"type": "select", "values": ["x", "y"], "required": True},
    "tags": {"type": "select", "values": ["a", "b"], "multiple": True},
    "score": {"type": "number", "min": 0, "max": 10.5},
    "views": {"type": "integer", "default": 0, "min": 0},
    "rank": {"type": "integer", "required": True},
    "published": {"type": "boolean", "default": False},
    "due": {"type": "date", "default": "2024-05-01"},
    "posted_at": {"type": "datetime"},
    "meta": {"type": "json"},
    "settings": {"type": "json", "required": True},
    "author": {"type": "relation", "collection": "authors"},
    "editor": {"type": "relation", "collection": "authors", "required": True},
    "reviewers": {"type": "relation", "collection": "authors", "multiple": True},
}


def collection(name: str, fields: dict[str, Any], version: int = 1) -> Collection:
    return build(PROJECT, load_collection({"name": name, "fields": fields}), version)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    posts = collection("posts", POSTS_FIELDS, 3)
    authors = collection(
        "authors",
        {
            "name": {"type": "text", "required": True},
            "best": {"type": "relation", "collection": "posts"},
        },
    )
    built = build_document(PROJECT, [posts, authors])
    validate(built)
    return built


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"]
    return found


NULL = "null"
UUID_ = {"format": "uuid"}

# field → (record property, create property, required on create)
FIELD_SHAPES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    (
        "title",
        {"type": "string"},
        {"type": "string", "minLength": 2, "maxLength": 200},
        True,
    ),
    (
        "code",
        {"type": ["string", NULL]},
        {"type": ["string", NULL], "pattern": "^(?:[A-Z]{2})"},
        False,
    ),
    ("body", {"type": ["string", NULL]}, {"type": ["string", NULL]}, False),
    (
        "email",
        {"type": ["string", NULL], "format": "email"},
        {"type": ["string", NULL], "format": "email", "maxLength": 100},
        False,
    ),
    ("site", {"type": "string", "format": "uri"}, {"type": "string", "format": "uri"}, True),
    (
        "status",
        {"type": ["string", NULL], "enum": ["draft", "published", None]},
        {"type": ["string", NULL], "enum": ["draft", "published", None], "default": "draft"},
        False,
    ),
    ("kind", {"type": "string", "enum": ["x", "y"]}, {"type": "string", "enum": ["x", "y"]}, True),
    (
        "tags",
        {
            "type": ["array", NULL],
            "items": {"type": "string", "enum": ["a", "b"]},
            "uniqueItems": True,
        },
        # null is refused on write (marshmallow's List does not allow none), stored as null.
        {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "uniqueItems": True},
        False,
    ),
    (
        "score",
        {"type": ["number", NULL], "format": "double"},
        {"type": ["number", NULL], "format": "double", "minimum": 0, "maximum": 10.5},
        False,
    ),
    (
        "views",
        {"type": ["integer", NULL], "format": "int64"},
        {"type": ["integer", NULL], "format": "int64", "minimum": 0, "default": 0},
        False,
    ),
    ("rank", {"type": "integer", "format": "int64"}, {"type": "integer", "format": "int64"}, True),
    (
        "published",
        {"type": ["boolean", NULL]},
        {"type": ["boolean", NULL], "default": False},
        False,
    ),
    (
        "due",
        {"type": ["string", NULL], "format": "date"},
        {"type": ["string", NULL], "format": "date", "default": "2024-05-01"},
        False,
    ),
    (
        "posted_at",
        {"type": ["string", NULL], "format": "date-time"},
        {"type": ["string", NULL], "format": "date-time"},
        False,
    ),
    ("meta", {}, {}, False),
    (
        "settings",
        {"type": ["object", "array", "string", "number", "boolean"]},
        {"type": ["object", "array", "string", "number", "boolean"]},
        True,
    ),
    (
        "author",
        {"type": ["string", NULL], **UUID_, "description": "the id of records in 'authors'"},
        {"type": ["string", NULL], **UUID_},
        False,
    ),
    (
        "editor",
        {"type": "string", **UUID_, "description": "the id of records in 'authors'"},
        {"type": "string", **UUID_},
        True,
    ),
    (
        "reviewers",
        {
            "type": ["array", NULL],
            "items": {"type": "string", **UUID_},
            "uniqueItems": True,
            "description": "ids of records in 'authors'",
        },
        {"type": ["array", NULL], "items": {"type": "string", **UUID_}, "uniqueItems": True},
        False,
    ),
]


def test_every_declared_field_is_in_the_table() -> None:
    assert [row[0] for row in FIELD_SHAPES] == list(POSTS_FIELDS)


@pytest.mark.parametrize(
    ("name", "record", "create", "required"), FIELD_SHAPES, ids=[r[0] for r in FIELD_SHAPES]
)
def test_field_shapes(
    document: dict[str, Any],
    name: str,
    record: dict[str, Any],
    create: dict[str, Any],
    required: bool,
) -> None:
    found = schemas(document)
    assert found["PostsRecord"]["properties"][name] == record
    assert found["PostsCreate"]["properties"][name] == create
    assert (name in found["PostsCreate"].get("required", [])) is required
    update = {k: v for k, v in create.items() if k != "default"}
    assert found["PostsUpdate"]["properties"][name] == update
    # A list item is a record whose keys may be missing (?fields=).
    assert found["PostsListItem"]["properties"][name] == record


def test_system_fields_and_required_keys(document: dict[str, Any]) -> None:
    record = schemas(document)["PostsRecord"]
    properties = record["properties"]
    assert properties["id"]["format"] == "uuid" and properties["id"]["type"] == "string"
    assert (
        properties["owner"]["type"] == ["string", NULL] and properties["owner"]["format"] == "uuid"
    )
    for name in ("created_at", "updated_at"):
        assert (properties[name]["type"], properties[name]["format"]) == ("string", "date-time")
    assert properties["version"]["type"] == "integer" and properties["version"]["minimum"] == 1
    system = ["id", "created_at", "updated_at", "version", "owner"]
    assert sorted(record["required"]) == sorted([*system, *POSTS_FIELDS])
    assert "required" not in schemas(document)["PostsListItem"]


def test_bodies_refuse_unknown_keys_and_update_requires_nothing(document: dict[str, Any]) -> None:
    found = schemas(document)
    assert found["PostsCreate"]["additionalProperties"] is False
    assert found["PostsUpdate"]["additionalProperties"] is False
    assert "required" not in found["PostsUpdate"]
    assert sorted(found["PostsCreate"]["required"]) == sorted(
        name for name, *_, required in FIELD_SHAPES if required
    )


def test_page_and_expand(document: dict[str, Any]) -> None:
    found = schemas(document)
    page = found["PostsPage"]
    assert sorted(page["required"]) == ["items", "next_cursor"]
    assert page["properties"]["items"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/PostsListItem"},
    }
    assert page["properties"]["next_cursor"]["type"] == ["string", NULL]
    assert page["properties"]["total"]["type"] == "integer"
    expand = found["PostsExpand"]["properties"]
    author = {"$ref": "#/components/schemas/AuthorsRecord"}
    assert expand["author"] == {"anyOf": [author, {"type": NULL}]}
    assert expand["editor"] == {"anyOf": [author, {"type": NULL}]}  # hidden by a rule: null
    assert expand["reviewers"] == {"type": "array", "items": author}
    # relations in a cycle: authors.best → posts
    assert found["AuthorsExpand"]["properties"]["best"]["anyOf"][0] == {
        "$ref": "#/components/schemas/PostsRecord"
    }
    assert found["PostsListItem"]["properties"]["expand"]["$ref"].endswith("/PostsExpand")


RECORD_ERRORS = {
    ("get", ""): {400, 401, 404, 429, 503},
    ("post", ""): {400, 401, 403, 404, 409, 413, 415, 422, 429, 503},
    ("get", "/{id}"): {401, 404, 429, 503},
    ("patch", "/{id}"): {400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503},
    ("delete", "/{id}"): {400, 401, 403, 404, 409, 412, 422, 429, 503},
}


@pytest.mark.parametrize(("method", "suffix"), list(RECORD_ERRORS))
def test_record_operations_document_their_errors(
    document: dict[str, Any], method: str, suffix: str
) -> None:
    operation = document["paths"][f"/collections/posts/records{suffix}"][method]
    errors = {int(s) for s in operation["responses"] if int(s) >= 400}
    assert errors == RECORD_ERRORS[(method, suffix)]
    for status in errors:
        ref = operation["responses"][str(status)]["$ref"]
        response = document["components"]["responses"][ref.rsplit("/", 1)[-1]]
        assert response["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }


def _parameter_names(document: dict[str, Any], path: str, method: str) -> set[str]:
    items = document["paths"][path].get("parameters", []) + document["paths"][path][method].get(
        "parameters", []
    )
    parameters = document["components"]["parameters"]
    return {parameters[p["$ref"].rsplit("/", 1)[-1]]["name"] for p in items}


def _header_names(document: dict[str, Any], path: str, method: str, status: str) -> set[str]:
    return set(document["paths"][path][method]["responses"][status]["headers"])


def test_record_parameters_and_headers(document: dict[str, Any]) -> None:
    base, one = "/collections/posts/records", "/collections/posts/records/{id}"
    assert _parameter_names(document, base, "get") == {
        "filter",
        "sort",
        "limit",
        "cursor",
        "fields",
        "expand",
        "count",
    }
    assert _parameter_names(document, base, "post") == {"Idempotency-Key"}
    assert _parameter_names(document, one, "get") == {"id"}
    assert _parameter_names(document, one, "patch") == {"id", "If-Match", "Idempotency-Key"}
    assert _parameter_names(document, one, "delete") == {"id", "If-Match", "Idempotency-Key"}
    parameters = document["components"]["parameters"]
    assert parameters["Limit"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 500,
        "default": 50,
    }
    assert parameters["Count"]["schema"]["type"] == "boolean"
    assert parameters["IfMatch"]["required"] is False
    assert parameters["IdempotencyKey"]["required"] is False
    assert _header_names(document, base, "get", "200") == {"X-Request-ID", "Link"}
    assert _header_names(document, base, "post", "201") >= {
        "ETag",
        "Location",
        "Idempotent-Replayed",
    }
    assert _header_names(document, one, "get", "200") >= {"ETag"}
    assert _header_names(document, one, "patch", "200") >= {"ETag", "Idempotent-Replayed"}
    headers = document["components"]["headers"]
    assert headers["ETag"]["required"] and headers["Location"]["required"]
    assert not headers["Link"]["required"] and not headers["IdempotentReplayed"]["required"]


def test_limits_match_the_server() -> None:
    assert (document_module.DEFAULT_LIMIT, document_module.MAX_LIMIT) == (
        DEFAULT_LIMIT,
        MAX_LIMIT,
    )


def test_security_is_bearer_everywhere(document: dict[str, Any]) -> None:
    assert document["security"] == [{"bearerAuth": []}]
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "ck_" in scheme["description"]


def test_problem_schema(document: dict[str, Any]) -> None:
    problem = schemas(document)["Problem"]
    assert sorted(problem["required"]) == sorted(
        ["type", "title", "status", "detail", "instance", "request_id"]
    )
    assert problem["additionalProperties"] is True
    assert problem["properties"]["errors"] == {
        "type": "object",
        "description": "validation messages by field (or definition path)",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    }
    assert problem["properties"]["operation"]["type"] == "integer"


def test_batch_schemas(document: dict[str, Any]) -> None:
    found = schemas(document)
    operations = found["BatchRequest"]["properties"]["operations"]
    assert (operations["minItems"], operations["maxItems"]) == (1, 100)
    operation = found["BatchOperation"]
    assert operation["required"] == ["method", "path"]
    assert operation["properties"]["method"]["enum"] == ["POST", "PATCH", "DELETE"]
    assert operation["properties"]["path"]["pattern"].startswith("^/collections/(authors|posts)/")
    result = found["BatchResult"]["properties"]
    assert result["status"]["type"] == "integer" and result["body"]["type"] == ["object", NULL]


def test_admin_schemas_reuse_the_key_schemas(document: dict[str, Any]) -> None:
    found = schemas(document)
    assert found["ApiKeyInput"]["required"] == ["scope"]
    assert found["ApiKeyInput"]["properties"]["scope"]["enum"] == [
        "read",
        "write",
        "service",
        "admin",
    ]
    assert "secret" in found["ApiKeyIssued"]["properties"]
    assert "secret" not in found["ApiKey"]["properties"]
    assert found["ApiKey"]["properties"]["expires_at"]["type"] == ["string", NULL]
    assert found["CollectionDefinition"]["properties"]["fields"]["additionalProperties"] == {
        "$ref": "#/components/schemas/FieldDefinition"
    }


def test_operation_ids(document: dict[str, Any]) -> None:
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for key, operation in item.items()
        if key != "parameters"
    ]
    assert len(ids) == len(set(ids))
    assert set(ids) >= {"listPosts", "createPosts", "getPosts", "updatePosts", "deletePosts"}
    assert set(ids) >= {"apiKeysList", "collectionsPut", "batch", "openapiDocument"}
    assert record_operation_ids("blog_posts") == {
        "list": "listBlogPosts",
        "create": "createBlogPosts",
        "get": "getBlogPosts",
        "update": "updateBlogPosts",
        "delete": "deleteBlogPosts",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("posts", "Posts"),
        ("blog_posts", "BlogPosts"),
        ("v_2", "V_2"),
        ("a__b", "A_B"),
        ("a_", "A_"),
    ],
)
def test_pascal(name: str, expected: str) -> None:
    assert pascal(name) == expected


@given(st.lists(st.from_regex(NAME, fullmatch=True), min_size=2, max_size=2, unique=True))
def test_pascal_never_maps_two_names_to_one(names: list[str]) -> None:
    assert pascal(names[0]) != pascal(names[1])


def test_fixed_names_cannot_collide_with_a_collection() -> None:
    for name in FIXED_SCHEMAS:
        assert not name.endswith(COLLECTION_SUFFIXES), name


@pytest.mark.parametrize(
    "names",
    [
        ["api_key", "problem", "collections", "batch"],
        ["a1", "a_1", "a_b", "a__b"],
        ["open_api_document"],
    ],
)
def test_awkward_collection_names_keep_everything_apart(names: list[str]) -> None:
    built = build_document(PROJECT, [collection(n, {"x": {"type": "text"}}) for n in names])
    validate(built)
    ids = [
        op["operationId"]
        for item in built["paths"].values()
        for k, op in item.items()
        if k != "parameters"
    ]
    assert len(ids) == len(set(ids))
    assert "status" in schemas(built)["Problem"]["properties"]  # the fixed Problem survives
    for n in names:
        assert f"/collections/{n}/records" in built["paths"]
        assert f"{pascal(n)}Record" in schemas(built)


def test_no_collections_and_relations_to_unknown_collections() -> None:
    empty = build_document(PROJECT, [])
    validate(empty)
    assert empty["info"]["x-cairn-collections"] == {}
    dangling = collection("notes", {"ref": {"type": "relation", "collection": "gone"}})
    built = build_document(PROJECT, [dangling])
    validate(built)
    assert schemas(built)["NotesExpand"]["properties"]["ref"]["type"] == ["object", NULL]


def test_a_self_relation() -> None:
    tree = collection("nodes", {"parent": {"type": "relation", "collection": "nodes"}})
    built = build_document(PROJECT, [tree])
    validate(built)
    assert schemas(built)["NodesExpand"]["properties"]["parent"]["anyOf"][0] == {
        "$ref": "#/components/schemas/NodesRecord"
    }


def test_pure_and_deterministic(document: dict[str, Any]) -> None:
    before = dict(DEFAULT_FIELD_MAPPING)
    again = build_document(
        PROJECT,
        [
            collection(
                "authors",
                {
                    "name": {"type": "text", "required": True},
                    "best": {"type": "relation", "collection": "posts"},
                },
            ),
            collection("posts", POSTS_FIELDS, 3),
        ],
    )
    assert again == document  # order of the input does not matter
    assert dict(DEFAULT_FIELD_MAPPING) == before  # apispec's shared mapping is untouched
    assert (
        document["info"]["version"]
        != build_document(PROJECT, [collection("posts", POSTS_FIELDS, 4)])["info"]["version"]
    )


# The request schemas say what the server's own validation says: the same bodies pass and fail.
AGREEMENT: list[tuple[dict[str, Any], bool]] = [
    (
        {
            "title": "ok",
            "site": "https://x.io",
            "kind": "x",
            "rank": 1,
            "settings": {},
            "editor": str(uuid.uuid4()),
        },
        True,
    ),
    (
        {
            "title": "o",
            "site": "https://x.io",
            "kind": "x",
            "rank": 1,
            "settings": {},
            "editor": str(uuid.uuid4()),
        },
        False,
    ),
    (
        {
            "site": "https://x.io",
            "kind": "x",
            "rank": 1,
            "settings": {},
            "editor": str(uuid.uuid4()),
        },
        False,
    ),
]
BASE = {
    "title": "ok",
    "site": "https://x.io",
    "kind": "x",
    "rank": 1,
    "settings": [],
    "editor": str(uuid.uuid4()),
}
AGREEMENT += [
    ({**BASE, **change}, ok)
    for change, ok in [
        ({"code": "AB"}, True),
        ({"code": "ABc"}, True),  # matched at the start only
        ({"code": "xAB"}, False),  # anchored: marshmallow's Regexp uses re.match
        ({"code": None}, True),
        ({"title": None}, False),
        ({"kind": "z"}, False),
        ({"status": None}, True),
        ({"tags": ["a", "b"]}, True),
        ({"tags": ["a", "a"]}, False),
        ({"tags": None}, False),
        ({"tags": ["c"]}, False),
        ({"score": 10.5}, True),
        ({"score": 11}, False),
        ({"score": -1}, False),
        ({"views": 1.5}, False),
        ({"views": True}, False),
        ({"rank": None}, False),
        ({"published": "true"}, False),
        ({"due": "2024-02-30x"}, False),
        ({"due": "2024-02-03"}, True),
        ({"posted_at": "2024-05-01T12:00:00+02:00"}, True),
        ({"meta": [1, {"a": None}]}, True),
        ({"meta": None}, True),
        ({"settings": None}, False),
        ({"email": "a@b.co"}, True),
        ({"email": "x" * 96 + "@b.co"}, False),
        ({"reviewers": [str(uuid.uuid4())]}, True),
        ({"reviewers": "nope"}, False),
        ({"author": "nope"}, False),
        ({"unknown": 1}, False),
        ({"id": str(uuid.uuid4())}, False),
    ]
]


@pytest.mark.parametrize(("body", "accepted"), AGREEMENT)
def test_create_schema_agrees_with_the_server(
    document: dict[str, Any], body: dict[str, Any], accepted: bool
) -> None:
    posts = collection("posts", POSTS_FIELDS, 3)
    try:
        posts.create_schema.load(body)
        server = True
    except ValidationError:
        server = False
    validator = Draft202012Validator(
        {**document, "$ref": "#/components/schemas/PostsCreate"},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    assert (server, validator.is_valid(body)) == (accepted, accepted)
