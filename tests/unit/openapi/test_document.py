"""build_document without a server: the OpenAPI 3.1 document of collections built in memory."""

from __future__ import annotations

import re
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
from rq.job import JobStatus

from cairn import durations
from cairn.db import named
from cairn.errors import Invalid
from cairn.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from cairn.jobs.service import STATUSES as JOB_STATUSES
from cairn.jobs.service import JobView
from cairn.openapi import document as document_module
from cairn.openapi.document import (
    COLLECTION_SUFFIXES,
    FIXED_SCHEMAS,
    RECORD_VERBS,
    build_document,
    fixed_json_schemas,
    pascal,
    record_operation_ids,
)
from cairn.records.collection import Collection, build
from cairn.schedules import service as schedule_service
from cairn.schedules.service import ACTIONS as SCHEDULE_ACTIONS
from cairn.schema.definitions import NAME, load_collection
from cairn.tenancy.service import Project
from cairn.webhooks import service as webhook_service
from cairn.webhooks.service import EVENT_TYPES as WEBHOOK_EVENTS

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


# -- webhooks, schedules, jobs ------------------------------------------------------------

READ = {401, 403, 404, 429, 503}
WRITE = {400, 401, 403, 404, 409, 413, 415, 422, 429, 503}

# (path, method) → (operationId, tag, success status, success schema, error statuses)
ADMIN_OPERATIONS: dict[tuple[str, str], tuple[str, str, str, str | None, set[int]]] = {
    ("/webhooks", "get"): ("webhooksList", "Webhooks", "200", "WebhookList", READ),
    ("/webhooks", "post"): ("webhooksCreate", "Webhooks", "201", "WebhookIssued", WRITE),
    ("/webhooks/{webhook_id}", "get"): ("webhooksGet", "Webhooks", "200", "Webhook", READ),
    ("/webhooks/{webhook_id}", "patch"): ("webhooksUpdate", "Webhooks", "200", "Webhook", WRITE),
    ("/webhooks/{webhook_id}", "delete"): ("webhooksDelete", "Webhooks", "204", None, READ),
    ("/webhooks/{webhook_id}/deliveries", "get"): (
        "webhooksDeliveries",
        "Webhooks",
        "200",
        "WebhookDeliveryList",
        READ | {400},
    ),
    ("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", "post"): (
        "webhooksRedeliver",
        "Webhooks",
        "202",
        None,
        READ | {422},
    ),
    ("/schedules", "get"): ("schedulesList", "Schedules", "200", "ScheduleList", READ),
    ("/schedules", "post"): ("schedulesCreate", "Schedules", "201", "Schedule", WRITE),
    ("/schedules/{schedule_id}", "get"): ("schedulesGet", "Schedules", "200", "Schedule", READ),
    ("/schedules/{schedule_id}", "patch"): (
        "schedulesUpdate",
        "Schedules",
        "200",
        "Schedule",
        WRITE,
    ),
    ("/schedules/{schedule_id}", "delete"): ("schedulesDelete", "Schedules", "204", None, READ),
    ("/schedules/{schedule_id}/runs", "get"): (
        "schedulesRuns",
        "Schedules",
        "200",
        "ScheduleRunList",
        READ,
    ),
    ("/jobs", "get"): ("jobsList", "Jobs", "200", "JobList", READ | {422}),
    ("/jobs/{job_id}", "get"): ("jobsGet", "Jobs", "200", "Job", READ),
    ("/jobs/{job_id}/retry", "post"): ("jobsRetry", "Jobs", "202", "Job", READ | {422}),
    ("/audit", "get"): ("auditList", "Audit log", "200", "AuditEntryList", READ | {400}),
}


@pytest.mark.parametrize(("path", "method"), list(ADMIN_OPERATIONS))
def test_admin_operations(document: dict[str, Any], path: str, method: str) -> None:
    operation_id, tag, success, schema, errors = ADMIN_OPERATIONS[(path, method)]
    operation = document["paths"][path][method]
    assert (operation["operationId"], operation["tags"]) == (operation_id, [tag])
    statuses = {int(s) for s in operation["responses"]}
    assert statuses == {int(success)} | errors
    assert 403 in statuses  # admin keys only
    for status in errors:
        name = operation["responses"][str(status)]["$ref"].rsplit("/", 1)[-1]
        assert document["components"]["responses"][name]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    response = operation["responses"][success]
    if schema is None:
        assert "content" not in response
    else:
        assert response["content"] == {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        }
    body = {"post": "Input", "patch": "Patch"}.get(method)
    if "requestBody" in operation:
        assert body is not None and operation["requestBody"]["required"] is True
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith(body)
    else:
        assert path.endswith(("/redeliver", "/retry")) or body is None


def test_admin_parameters_and_headers(document: dict[str, Any]) -> None:
    assert _parameter_names(document, "/webhooks/{webhook_id}", "patch") == {"webhook_id"}
    assert _parameter_names(document, "/webhooks/{webhook_id}/deliveries", "get") == {
        "webhook_id",
        "limit",
        "cursor",
    }
    redeliver = "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"
    assert _parameter_names(document, redeliver, "post") == {"webhook_id", "delivery_id"}
    assert _parameter_names(document, "/schedules/{schedule_id}/runs", "get") == {"schedule_id"}
    assert _parameter_names(document, "/jobs", "get") == {"status"}
    assert _parameter_names(document, "/jobs/{job_id}/retry", "post") == {"job_id"}
    parameters = document["components"]["parameters"]
    assert parameters["JobStatus"]["schema"]["enum"] == list(JOB_STATUSES)
    for name in ("WebhookId", "DeliveryId", "ScheduleId"):
        assert parameters[name]["schema"] == {"type": "string", "format": "uuid"}
    assert _header_names(document, "/webhooks", "post", "201") == {
        "X-Request-ID",
        "Location",
        "Cache-Control",
    }
    assert "Cache-Control" in _header_names(document, "/webhooks/{webhook_id}", "patch", "200")
    assert _header_names(document, "/schedules", "post", "201") == {"X-Request-ID", "Location"}
    deliveries = "/webhooks/{webhook_id}/deliveries"
    assert _header_names(document, deliveries, "get", "200") == {"X-Request-ID", "Link"}


def test_webhook_schemas(document: dict[str, Any]) -> None:
    found = schemas(document)
    webhook = found["Webhook"]
    fields_ = ["id", "name", "url", "events", "collections", "enabled", "created_at", "updated_at"]
    assert sorted(webhook["required"]) == sorted(fields_)
    assert "secret" not in webhook["properties"]
    assert webhook["properties"]["events"]["items"]["enum"] == list(WEBHOOK_EVENTS)
    issued = found["WebhookIssued"]
    assert sorted(issued["required"]) == sorted(fields_)  # the secret is optional
    assert issued["properties"]["secret"]["type"] == "string"
    create, patch = found["WebhookInput"], found["WebhookPatch"]
    assert create["required"] == ["name", "url", "events"] and "required" not in patch
    assert create["additionalProperties"] is False and patch["additionalProperties"] is False
    assert (
        set(create["properties"])
        == set(patch["properties"])
        == {
            "name",
            "url",
            "events",
            "collections",
            "enabled",
            "secret",
        }
    )
    assert create["properties"]["secret"]["minLength"] == 24
    delivery = found["WebhookDelivery"]
    assert delivery["properties"]["attempts_log"]["items"] == {
        "$ref": "#/components/schemas/WebhookAttempt"
    }
    assert delivery["properties"]["status"]["enum"] == ["pending", "succeeded", "failed"]
    assert sorted(found["WebhookAttempt"]["required"]) == sorted(
        ["attempt", "started_at", "duration_ms", "status_code", "error", "response_excerpt"]
    )
    page = found["WebhookDeliveryList"]["properties"]
    assert page["next_cursor"]["type"] == ["string", NULL]
    assert found["WebhookList"]["properties"]["next_cursor"]["type"] == NULL


def test_schedule_schemas(document: dict[str, Any]) -> None:
    found = schemas(document)
    action = found["ScheduleAction"]
    kinds = {
        "purge": "SchedulePurgeAction",
        "export": "ScheduleExportAction",
        "webhook": "ScheduleWebhookAction",
    }
    assert list(kinds) == list(SCHEDULE_ACTIONS)
    assert action["oneOf"] == [{"$ref": f"#/components/schemas/{n}"} for n in kinds.values()]
    assert action["discriminator"]["propertyName"] == "type"
    for kind, name in kinds.items():
        assert found[name]["properties"]["type"] == {"const": kind}
        assert found[name]["additionalProperties"] is False
    assert found["SchedulePurgeAction"]["required"] == ["type", "collection", "older_than"]
    secret = found["ScheduleWebhookAction"]["properties"]["secret"]
    assert secret["writeOnly"] is True
    schedule = found["Schedule"]
    assert sorted(schedule["required"]) == sorted(
        [
            "id",
            "name",
            "cron",
            "timezone",
            "action",
            "enabled",
            "next_run_at",
            "last_run_at",
            "last_status",
            "last_error",
        ]
    )
    assert found["ScheduleInput"]["required"] == ["name", "cron", "action"]
    assert found["ScheduleInput"]["properties"]["timezone"]["default"] == "UTC"
    assert "required" not in found["SchedulePatch"]
    run = found["ScheduleRun"]["properties"]
    assert run["status"]["enum"] == ["queued", "running", "succeeded", "failed"]
    assert found["ScheduleRunList"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/ScheduleRun"
    }


def test_job_schemas(document: dict[str, Any]) -> None:
    job = schemas(document)["Job"]
    assert sorted(job["required"]) == sorted(JobView.__dataclass_fields__)
    assert set(job["properties"]["status"]["enum"]) == {s.value for s in JobStatus}
    assert set(JOB_STATUSES) <= set(job["properties"]["status"]["enum"])
    assert job["properties"]["retries_left"]["type"] == ["integer", NULL]


def test_patterns_match_the_services() -> None:
    assert named.NAMED.pattern == document_module.RESOURCE_NAME  # webhooks' and schedules'
    documented = re.compile(document_module.DURATION_PATTERN)
    for text in ["30d", " 1 s ", "999999999w", "0d", "1y", "d", "1.5h", "10", "-1d", "1dd"]:
        assert bool(documented.match(text)) == bool(durations._DURATION.match(text)), text


def test_fixed_operation_ids_cannot_collide_with_a_collection(document: dict[str, Any]) -> None:
    collection_made = re.compile(rf"^({'|'.join(RECORD_VERBS)})[A-Z]")
    fixed = [
        op["operationId"]
        for path, item in build_document(PROJECT, [])["paths"].items()
        for key, op in item.items()
        if key != "parameters"
    ]
    assert len(fixed) == len(set(fixed)) == 28
    assert not [i for i in fixed if collection_made.match(i)]
    assert all(collection_made.match(i) for i in record_operation_ids("webhooks").values())


def test_no_fixed_component_ends_in_a_collection_suffix() -> None:
    names = set(schemas(build_document(PROJECT, [])))
    assert names == set(FIXED_SCHEMAS) | set(fixed_json_schemas())
    assert not [n for n in names if n.endswith(COLLECTION_SUFFIXES)]


def test_collections_named_like_the_admin_resources_keep_apart() -> None:
    names = ["webhooks", "webhook", "schedules", "schedule", "jobs", "job", "deliveries"]
    built = build_document(PROJECT, [collection(n, {"x": {"type": "text"}}) for n in names])
    validate(built)
    ids = [
        op["operationId"]
        for item in built["paths"].values()
        for k, op in item.items()
        if k != "parameters"
    ]
    assert len(ids) == len(set(ids))
    assert {"webhooksList", "schedulesRuns", "jobsRetry", "listWebhooks", "getJob"} <= set(ids)
    assert schemas(built)["Webhook"]["properties"]["url"] == {"type": "string"}
    assert "WebhookRecord" in schemas(built) and "ScheduleRecord" in schemas(built)


def _validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    return Draft202012Validator(
        {**document, "$ref": f"#/components/schemas/{name}"},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


HOOK = {"name": "notify", "url": "https://example.com/x", "events": ["record.created"]}
WEBHOOK_CHANGES: list[tuple[dict[str, Any], bool]] = [
    ({}, True),
    ({"url": "HTTP://example.com:8080/x?y=1"}, True),
    ({"events": ["record.deleted", "record.created"], "collections": ["posts"]}, True),
    ({"enabled": False, "secret": "s" * 24}, True),
    ({"secret": None}, True),
    ({"name": "n" * 63}, True),
    ({"name": "n" * 64}, False),
    ({"name": "Bad"}, False),
    ({"name": "-x"}, False),
    ({"url": "ftp://example.com"}, False),
    ({"url": "http://"}, False),
    ({"url": 5}, False),
    ({"events": []}, False),
    ({"events": ["record.exploded"]}, False),
    ({"events": "record.created"}, False),
    ({"collections": "posts"}, False),
    ({"collections": [1]}, False),
    ({"enabled": "yes"}, False),
    ({"enabled": None}, False),
    ({"secret": "short"}, False),
    ({"secret": 5}, False),
    ({"surprise": 1}, False),
]
WEBHOOK_AGREEMENT = [({**HOOK, **change}, ok) for change, ok in WEBHOOK_CHANGES]


@pytest.mark.parametrize(("body", "accepted"), WEBHOOK_AGREEMENT)
def test_webhook_input_agrees_with_the_server(
    document: dict[str, Any], body: dict[str, Any], accepted: bool
) -> None:
    try:
        webhook_service.load_webhook(body)
        server = True
    except Invalid:
        server = False
    assert (server, _validator(document, "WebhookInput").is_valid(body)) == (accepted, accepted)


def test_webhook_patch_agrees_with_the_server(document: dict[str, Any]) -> None:
    current = webhook_service.load_webhook(HOOK)
    patch = _validator(document, "WebhookPatch")
    for body, accepted in [
        ({}, True),
        ({"enabled": False}, True),
        ({"secret": "s" * 30}, True),
        ({"name": None}, False),
        ({"events": []}, False),
        ({"other": 1}, False),
    ]:
        try:
            webhook_service.load_webhook(body, partial_of=current)
            server = True
        except Invalid:
            server = False
        assert (server, patch.is_valid(body)) == (accepted, accepted), body


PURGE = {"type": "purge", "collection": "posts", "older_than": "30d"}
SCHEDULE = {"name": "nightly", "cron": "0 3 * * *", "action": PURGE}
# body change → (the server accepts it, the schema does). They differ only where JSON Schema
# cannot say it: cron syntax, time zone names, the filter grammar, a zero duration.
SCHEDULE_CHANGES: list[tuple[dict[str, Any], bool, bool]] = [
    ({}, True, True),
    ({"timezone": "Europe/Berlin", "enabled": False}, True, True),
    ({"cron": "@daily"}, True, True),
    ({"cron": "*/5 * * * * 30"}, True, True),
    ({"action": {**PURGE, "filter": 'status = "draft"'}}, True, True),
    ({"action": {**PURGE, "filter": None}}, True, True),
    ({"action": {"type": "export", "collection": "posts"}}, True, True),
    ({"action": {"type": "webhook", "url": "https://example.com/tick"}}, True, True),
    ({"action": {"type": "webhook", "url": "http://x", "secret": "s"}}, False, False),
    ({"action": {"type": "webhook", "url": "http://x", "secret": "s" * 24}}, True, True),
    ({"action": {"type": "webhook", "url": "http://x", "secret": None}}, True, True),
    ({"name": "Nightly"}, False, False),
    ({"cron": 5}, False, False),
    ({"cron": "0 3 * * *" + " " * 120}, False, False),  # the column holds 120
    ({"timezone": 1}, False, False),
    ({"enabled": "no"}, False, False),
    ({"surprise": 1}, False, False),
    ({"action": None}, False, False),
    ({"action": {"type": "explode"}}, False, False),
    ({"action": {"type": "export"}}, False, False),
    ({"action": {"type": "export", "collection": 5}}, False, False),
    ({"action": {**PURGE, "older_than": "30"}}, False, False),
    ({"action": {**PURGE, "older_than": 30}}, False, False),
    ({"action": {**PURGE, "filter": ""}}, False, False),
    ({"action": {**PURGE, "extra": 1}}, False, False),
    ({"action": {"type": "export", "collection": "posts", "older_than": "1d"}}, False, False),
    ({"action": {"type": "webhook", "url": "ftp://x"}}, False, False),
    ({"action": {"type": "webhook", "url": "HTTP://x"}}, True, True),
    ({"action": {"type": "webhook"}}, False, False),
    ({"cron": "every day"}, False, True),
    ({"timezone": "Mars/Olympus"}, False, True),
    ({"action": {**PURGE, "older_than": "0d"}}, False, True),
    ({"action": {**PURGE, "filter": "status ="}}, False, True),
]
SCHEDULE_AGREEMENT = [({**SCHEDULE, **change}, *ok) for change, *ok in SCHEDULE_CHANGES]


@pytest.mark.parametrize(("body", "server", "schema"), SCHEDULE_AGREEMENT)
def test_schedule_input_agrees_with_the_server(
    document: dict[str, Any], body: dict[str, Any], server: bool, schema: bool
) -> None:
    try:
        schedule_service.load_schedule(body)
        accepted = True
    except Invalid:
        accepted = False
    assert (accepted, _validator(document, "ScheduleInput").is_valid(body)) == (server, schema)


def test_stored_actions_conform_without_their_secrets(document: dict[str, Any]) -> None:
    action = _validator(document, "ScheduleAction")
    for body, server, schema in SCHEDULE_AGREEMENT:
        if server and schema:
            loaded = schedule_service.load_schedule(body)
            stored = {**loaded.action, "secret_sealed": "gAAAA..."}
            shown = schedule_service.ScheduleDef(
                loaded.name, loaded.cron, loaded.timezone, stored
            ).to_dict()["action"]
            assert "secret" not in shown and action.is_valid(shown), shown
