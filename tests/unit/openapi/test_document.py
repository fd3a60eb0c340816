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
from cairn.auth.principal import Principal
from cairn.db import named
from cairn.errors import Invalid
from cairn.http import tenant
from cairn.http.pagination import DEFAULT_LIMIT, MAX_LIMIT
from cairn.jobs.service import STATUSES as JOB_STATUSES
from cairn.jobs.service import JobView
from cairn.openapi import document as document_module
from cairn.openapi.document import (
    COLLECTION_SUFFIXES,
    FIXED_SCHEMAS,
    RECORD_VERBS,
    USER_SCHEMAS,
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
from cairn.users import providers as provider_service
from cairn.users import service as users_service
from cairn.users.providers import PRESETS
from cairn.users.service import user_fields
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
    ("get", "/{id}"): {400, 401, 404, 429, 503},
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
    assert _parameter_names(document, one, "get") == {"id", "fields", "expand"}
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


def test_security_is_bearer_everywhere_but_the_end_user_endpoints(
    document: dict[str, Any],
) -> None:
    assert document["security"] == [{"bearerAuth": []}]
    schemes = document["components"]["securitySchemes"]
    scheme = schemes["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "ck_" in scheme["description"]
    assert (schemes["sessionAuth"]["scheme"], schemes["sessionAuth"]["bearerFormat"]) == (
        "bearer",
        "cs_…",
    )
    assert {k: schemes["sessionCookie"][k] for k in ("type", "in", "name")} == {
        "type": "apiKey",
        "in": "cookie",
        "name": "cairn_session",
    }
    assert {k: schemes["csrfToken"][k] for k in ("type", "in", "name")} == {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
    }
    own = {
        (path, method): operation.get("security")
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters" and "security" in operation
    }
    assert own == {(path, method): row[5] for (path, method), row in AUTH_OPERATIONS.items()}


def test_session_cookie_names_match_the_server() -> None:
    assert (
        document_module.SESSION_COOKIE,
        document_module.CSRF_COOKIE,
        document_module.CSRF_HEADER,
    ) == (tenant.SESSION_COOKIE, tenant.CSRF_COOKIE, tenant.CSRF_HEADER)


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
    ("/users", "get"): ("usersList", "Users", "200", "UserList", READ | {400}),
    ("/users", "post"): ("usersCreate", "Users", "201", "User", WRITE),
    ("/users/{user_id}", "get"): ("usersGet", "Users", "200", "User", READ),
    ("/users/{user_id}", "patch"): ("usersUpdate", "Users", "200", "User", WRITE),
    ("/users/{user_id}", "delete"): ("usersDelete", "Users", "204", None, READ),
    ("/users/{user_id}/logout", "post"): ("usersLogout", "Users", "200", "SessionsEnded", READ),
    ("/auth/providers", "get"): (
        "providersList",
        "OAuth providers",
        "200",
        "AuthProviderList",
        READ | {400},
    ),
    ("/auth/providers", "post"): (
        "providersCreate",
        "OAuth providers",
        "201",
        "AuthProvider",
        WRITE,
    ),
    ("/auth/providers/{provider_id}", "get"): (
        "providersGet",
        "OAuth providers",
        "200",
        "AuthProvider",
        READ,
    ),
    ("/auth/providers/{provider_id}", "put"): (
        "providersReplace",
        "OAuth providers",
        "200",
        "AuthProvider",
        WRITE,
    ),
    ("/auth/providers/{provider_id}", "delete"): (
        "providersDelete",
        "OAuth providers",
        "204",
        None,
        READ,
    ),
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
    assert "security" not in operation  # the document's: an (admin) API key
    body = {"post": "Input", "patch": "Patch", "put": "Input"}.get(method)
    if "requestBody" in operation:
        assert body is not None and operation["requestBody"]["required"] is True
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith(body)
    else:
        assert path.endswith(("/redeliver", "/retry", "/logout")) or body is None


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
    assert len(fixed) == len(set(fixed)) == 57
    documented = {row[0] for row in [*ADMIN_OPERATIONS.values(), *AUTH_OPERATIONS.values()]}
    assert documented <= set(fixed)
    assert not [i for i in fixed if collection_made.match(i)]
    assert all(collection_made.match(i) for i in record_operation_ids("webhooks").values())


def test_no_fixed_component_ends_in_a_collection_suffix() -> None:
    names = set(schemas(build_document(PROJECT, [])))
    assert names == set(FIXED_SCHEMAS) | set(fixed_json_schemas()) | set(USER_SCHEMAS)
    assert not [n for n in names if n.endswith(COLLECTION_SUFFIXES)]


def test_collections_named_like_the_admin_resources_keep_apart() -> None:
    names = ["webhooks", "webhook", "schedules", "schedule", "jobs", "job", "deliveries"]
    names += ["users", "session", "sessions", "auth_provider", "signup", "auth", "providers"]
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
    assert {"usersList", "authSignup", "listUsers", "createSession", "getAuthProvider"} <= set(ids)
    assert schemas(built)["Webhook"]["properties"]["url"] == {"type": "string"}
    assert "WebhookRecord" in schemas(built) and "ScheduleRecord" in schemas(built)
    assert "UsersRecord" in schemas(built) and "email" in schemas(built)["User"]["properties"]
    assert (
        "SessionRecord" in schemas(built) and "current" in schemas(built)["Session"]["properties"]
    )


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


# -- end users, OAuth providers ---------------------------------------------------------------

BODY = {400, 404, 413, 415, 429, 503}  # a public endpoint's with a JSON body
MINE_READ = {401, 404, 503}
MINE_WRITE = {400, 401, 403, 404, 413, 415, 503}
PUBLIC: list[dict[str, list[str]]] = []
SESSION_READ = [{"sessionAuth": []}, {"sessionCookie": []}]
SESSION_WRITE = [{"sessionAuth": []}, {"sessionCookie": [], "csrfToken": []}]
SIGNED_UP = {
    "oneOf": [
        {"$ref": "#/components/schemas/SignedIn"},
        {"$ref": "#/components/schemas/VerificationPending"},
    ]
}

# (path, method) → (operationId, tag, success status, success schema, error statuses, security)
AUTH_OPERATIONS: dict[
    tuple[str, str],
    tuple[str, str, str, str | dict[str, Any] | None, set[int], list[dict[str, list[str]]]],
] = {
    ("/auth/signup", "post"): (
        "authSignup",
        "Auth",
        "201",
        SIGNED_UP,
        BODY | {403, 409, 422},
        PUBLIC,
    ),
    ("/auth/login", "post"): ("authLogin", "Auth", "200", "SignedIn", BODY | {401, 403}, PUBLIC),
    ("/auth/logout", "post"): (
        "authLogout",
        "Auth",
        "204",
        None,
        {401, 403, 404, 503},
        SESSION_WRITE,
    ),
    ("/auth/me", "get"): ("authMe", "Auth", "200", "User", MINE_READ, SESSION_READ),
    ("/auth/me", "patch"): (
        "authMeUpdate",
        "Auth",
        "200",
        "User",
        MINE_WRITE | {422},
        SESSION_WRITE,
    ),
    ("/auth/password", "post"): (
        "authPasswordChange",
        "Auth",
        "204",
        None,
        MINE_WRITE | {422},
        SESSION_WRITE,
    ),
    ("/auth/email-change", "post"): (
        "authEmailChange",
        "Auth",
        "202",
        None,
        MINE_WRITE | {409, 422},
        SESSION_WRITE,
    ),
    ("/auth/email-change/confirm", "get"): (
        "authEmailChangeConfirmLink",
        "Auth",
        "200",
        "UserResult",
        {404, 409, 422, 429, 503},
        PUBLIC,
    ),
    ("/auth/email-change/confirm", "post"): (
        "authEmailChangeConfirm",
        "Auth",
        "200",
        "UserResult",
        BODY | {409, 422},
        PUBLIC,
    ),
    ("/auth/password-reset", "post"): (
        "authPasswordReset",
        "Auth",
        "202",
        None,
        BODY | {422},
        PUBLIC,
    ),
    ("/auth/password-reset/confirm", "post"): (
        "authPasswordResetConfirm",
        "Auth",
        "200",
        "UserResult",
        BODY | {422},
        PUBLIC,
    ),
    ("/auth/verify-email", "post"): ("authVerifyEmail", "Auth", "202", None, BODY | {422}, PUBLIC),
    ("/auth/verify-email/confirm", "get"): (
        "authVerifyEmailConfirmLink",
        "Auth",
        "200",
        "UserResult",
        {404, 422, 429, 503},
        PUBLIC,
    ),
    ("/auth/verify-email/confirm", "post"): (
        "authVerifyEmailConfirm",
        "Auth",
        "200",
        "UserResult",
        BODY | {422},
        PUBLIC,
    ),
    ("/auth/sessions", "get"): (
        "authSessionsList",
        "Auth",
        "200",
        "SessionList",
        MINE_READ,
        SESSION_READ,
    ),
    ("/auth/sessions/{session_id}", "delete"): (
        "authSessionsRevoke",
        "Auth",
        "204",
        None,
        {401, 403, 404, 503},
        SESSION_WRITE,
    ),
    ("/auth/oauth/{provider}/authorize", "get"): (
        "authOauthAuthorize",
        "Auth",
        "302",
        None,
        {404, 422, 429, 502, 503},
        PUBLIC,
    ),
    ("/auth/oauth/{provider}/callback", "get"): (
        "authOauthCallback",
        "Auth",
        "302",
        None,
        {400, 404, 429, 503},
        PUBLIC,
    ),
}


@pytest.mark.parametrize(("path", "method"), list(AUTH_OPERATIONS))
def test_auth_operations(document: dict[str, Any], path: str, method: str) -> None:
    operation_id, tag, success, schema, errors, security = AUTH_OPERATIONS[(path, method)]
    operation = document["paths"][path][method]
    assert (operation["operationId"], operation["tags"]) == (operation_id, [tag])
    assert operation["security"] == security
    statuses = {int(s) for s in operation["responses"]}
    assert statuses == {int(success)} | errors
    # Rate-limited per client address: exactly the endpoints that need no credential.
    assert (429 in statuses) is (security == PUBLIC)
    for status in errors:
        name = operation["responses"][str(status)]["$ref"].rsplit("/", 1)[-1]
        assert document["components"]["responses"][name]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
    response = operation["responses"][success]
    if schema is None:
        assert "content" not in response
    else:
        expected = {"$ref": f"#/components/schemas/{schema}"} if isinstance(schema, str) else schema
        assert response["content"] == {"application/json": {"schema": expected}}
    has_body = "requestBody" in operation
    assert has_body is (method in ("post", "patch") and path not in ("/auth/logout",))
    if has_body:
        assert operation["requestBody"]["required"] is True


def test_auth_parameters_and_headers(document: dict[str, Any]) -> None:
    authorize, callback = "/auth/oauth/{provider}/authorize", "/auth/oauth/{provider}/callback"
    assert _parameter_names(document, authorize, "get") == {"provider", "redirect_to"}
    assert _parameter_names(document, callback, "get") == {
        "provider",
        "state",
        "code",
        "error",
        "error_description",
    }
    for path in ("/auth/verify-email/confirm", "/auth/email-change/confirm"):
        assert _parameter_names(document, path, "get") == {"token"}
        assert _parameter_names(document, path, "post") == set()
    assert _parameter_names(document, "/auth/sessions/{session_id}", "delete") == {"session_id"}
    assert _parameter_names(document, "/users", "get") == {"search", "limit", "cursor"}
    assert _parameter_names(document, "/users/{user_id}/logout", "post") == {"user_id"}
    assert _parameter_names(document, "/auth/providers", "get") == {"limit", "cursor"}
    assert _parameter_names(document, "/auth/providers/{provider_id}", "put") == {"provider_id"}
    parameters = document["components"]["parameters"]
    assert parameters["RedirectTo"]["required"] is True
    assert parameters["MailedToken"]["required"] is True
    assert parameters["MailedToken"]["schema"]["maxLength"] == 100
    assert _header_names(document, "/auth/signup", "post", "201") == {
        "X-Request-ID",
        "Cache-Control",
        "Set-Cookie",
    }
    assert _header_names(document, "/auth/login", "post", "200") == {
        "X-Request-ID",
        "Cache-Control",
        "Set-Cookie",
    }
    for path in (authorize, callback):
        assert _header_names(document, path, "get", "302") == {
            "X-Request-ID",
            "Location",
            "Cache-Control",
            "Set-Cookie",
        }
    assert _header_names(document, "/users", "post", "201") == {"X-Request-ID", "Location"}
    assert _header_names(document, "/auth/providers", "post", "201") == {"X-Request-ID", "Location"}
    assert _header_names(document, "/users", "get", "200") == {"X-Request-ID", "Link"}
    headers = document["components"]["headers"]
    assert headers["Redirect"]["required"] and headers["NoStore"]["required"]
    assert not headers["SessionNoStore"]["required"] and not headers["SetCookie"]["required"]
    assert document["components"]["responses"]["BadGateway"]["content"]


USERS_PROJECT = Project(
    uuid.uuid4(),
    "club",
    "Club",
    "prj_users",
    datetime(2024, 1, 1, tzinfo=UTC),
    user_fields={
        "fields": {
            "display_name": {"type": "text", "max_length": 80},
            "handle": {"type": "text", "required": True, "pattern": "[a-z]+"},
            "age": {"type": "integer", "min": 0},
            "plan": {
                "type": "select",
                "values": ["free", "pro"],
                "required": True,
                "default": "free",
            },
            "born": {"type": "date"},
            "tags": {"type": "select", "values": ["a", "b"], "multiple": True},
        }
    },
)
PROFILE = list(USERS_PROJECT.user_fields["fields"])
OWN = ["id", "email", "verified", "disabled", "created_at", "updated_at", "last_login_at"]


@pytest.fixture(scope="module")
def users_document() -> dict[str, Any]:
    built = build_document(USERS_PROJECT, [collection("notes", {"x": {"type": "text"}})])
    validate(built)
    return built


def test_the_user_schema_carries_the_profile_fields(users_document: dict[str, Any]) -> None:
    user = schemas(users_document)["User"]
    assert list(user["properties"]) == [*OWN, *PROFILE]
    # Stored as JSON, not in typed columns: a profile value may be missing or null.
    assert sorted(user["required"]) == sorted(OWN)
    properties = user["properties"]
    assert properties["handle"] == {"type": ["string", NULL]}  # no write-only pattern
    assert properties["plan"] == {"type": ["string", NULL], "enum": ["free", "pro", None]}
    assert properties["age"] == {"type": ["integer", NULL], "format": "int64"}
    assert properties["born"] == {"type": ["string", NULL], "format": "date"}
    assert properties["last_login_at"]["type"] == ["string", NULL]
    assert "additionalProperties" not in user
    # With no profile fields, only the user's own.
    assert list(schemas(build_document(PROJECT, []))["User"]["properties"]) == OWN


def test_the_bodies_with_profile_fields(users_document: dict[str, Any]) -> None:
    found = schemas(users_document)
    signup, create = found["SignupInput"], found["UserInput"]
    patch, profile = found["UserPatch"], found["ProfilePatch"]
    assert list(signup["properties"]) == ["email", "password", *PROFILE]
    assert sorted(signup["required"]) == ["email", "handle", "password"]
    assert list(create["properties"]) == ["email", "password", "verified", *PROFILE]
    assert sorted(create["required"]) == ["email", "handle"]
    assert create["properties"]["password"]["type"] == ["string", NULL]
    assert list(patch["properties"]) == ["email", "password", "verified", "disabled", *PROFILE]
    assert list(profile["properties"]) == PROFILE
    for body in (signup, create, patch, profile):
        assert body["additionalProperties"] is False
    assert "required" not in patch and "required" not in profile
    assert signup["properties"]["plan"]["default"] == "free"
    assert "default" not in profile["properties"]["plan"]
    assert signup["properties"]["password"] == {"type": "string", "minLength": 8, "maxLength": 256}
    assert signup["properties"]["email"] == {"type": "string", "format": "email", "maxLength": 320}
    assert profile["properties"]["handle"] == {"type": "string", "pattern": "^(?:[a-z]+)"}


def test_the_version_follows_the_profile_fields(users_document: dict[str, Any]) -> None:
    fewer = Project(
        **{
            **USERS_PROJECT.__dict__,
            "user_fields": {"fields": {"handle": {"type": "text", "required": True}}},
        }
    )
    notes = [collection("notes", {"x": {"type": "text"}})]
    assert build_document(fewer, notes)["info"]["version"] != users_document["info"]["version"]
    assert build_document(USERS_PROJECT, notes) == users_document


class _Accepted(Exception):
    """Raised by the fakes below: the service got past its validation to the database."""


class _Untouchable:
    """A connection (or a hasher) whose first use means the input was accepted."""

    def __getattr__(self, name: str) -> Any:
        raise _Accepted


def _accepted(call: Any, *args: Any, **kwargs: Any) -> bool:
    try:
        call(*args, **kwargs)
    except _Accepted:
        return True
    except Invalid:
        return False
    raise AssertionError("neither accepted nor refused")


_KIT = users_service.UserAuth(
    hasher=_Untouchable(),  # type: ignore[arg-type]
    session_pepper=b"",
    token_pepper=b"",
    smtp_configured=False,
)
_NOWHERE: Any = _Untouchable()
DROP = object()  # a change that removes the key


def _changed(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = {**base, **change}
    return {k: v for k, v in out.items() if v is not DROP}


SIGNUP = {"email": "ada@example.com", "password": "correct horse battery", "handle": "ada"}
# body change → (the server accepts it, the schema does). They differ only where JSON Schema
# cannot say it: common passwords, the password being the email.
SIGNUP_CHANGES: list[tuple[dict[str, Any], bool, bool]] = [
    ({}, True, True),
    ({"display_name": None, "age": 0, "plan": "pro", "born": "2000-01-31"}, True, True),
    ({"tags": ["a", "b"]}, True, True),
    ({"display_name": "x" * 81}, False, False),
    ({"age": -1}, False, False),
    ({"age": 1.5}, False, False),
    ({"plan": None}, False, False),
    ({"plan": "gold"}, False, False),
    ({"born": "2000-02-31"}, False, False),
    ({"tags": ["a", "a"]}, False, False),
    ({"tags": None}, False, False),
    ({"handle": None}, False, False),
    ({"handle": "ADA"}, False, False),
    ({"handle": DROP}, False, False),
    ({"email": DROP}, False, False),
    ({"password": DROP}, False, False),
    ({"email": 5}, False, False),
    ({"email": "not-an-email"}, False, False),
    ({"email": "a" * 310 + "@example.com"}, False, False),
    ({"password": "short"}, False, False),
    ({"password": "x" * 257}, False, False),
    ({"password": 12345678}, False, False),
    ({"verified": True}, False, False),
    ({"surprise": 1}, False, False),
    ({"password": "password1"}, False, True),
    ({"password": "ada@example.com"}, False, True),
]


@pytest.mark.parametrize(("change", "server", "schema"), SIGNUP_CHANGES)
def test_signup_input_agrees_with_the_server(
    users_document: dict[str, Any], change: dict[str, Any], server: bool, schema: bool
) -> None:
    body = _changed(SIGNUP, change)
    accepted = _accepted(users_service.signup, _NOWHERE, _KIT, USERS_PROJECT, body)
    assert (accepted, _validator(users_document, "SignupInput").is_valid(body)) == (server, schema)


def _admin_create(body: dict[str, Any]) -> None:
    """What POST /users does with a body (cairn.users.admin_api.create_user)."""
    own = {"email", "password", "verified"}
    users_service.create_user(
        _NOWHERE,
        _KIT,
        USERS_PROJECT,
        email=body.get("email"),
        password=body.get("password"),
        profile={k: v for k, v in body.items() if k not in own},
        actor="operator",
        verified=body.get("verified", False) is True,
    )


@pytest.mark.parametrize(
    ("change", "accepted"),
    [
        ({}, True),
        ({"password": DROP}, True),
        ({"password": None, "verified": True}, True),
        ({"handle": DROP}, False),
        ({"disabled": True}, False),
        ({"password": "short"}, False),
        ({"age": "3"}, False),
        ({"email": DROP}, False),
    ],
)
def test_user_input_agrees_with_the_server(
    users_document: dict[str, Any], change: dict[str, Any], accepted: bool
) -> None:
    body = _changed(SIGNUP, change)
    schema = _validator(users_document, "UserInput").is_valid(body)
    assert (_accepted(_admin_create, body), schema) == (accepted, accepted)


PATCHES: list[tuple[dict[str, Any], bool]] = [
    ({}, True),
    ({"display_name": None, "age": 3, "handle": "x"}, True),
    ({"tags": ["b"]}, True),
    ({"age": -1}, False),
    ({"plan": None}, False),
    ({"handle": None}, False),
    ({"handle": "X"}, False),
    ({"born": "yesterday"}, False),
    ({"x": 1}, False),
]


@pytest.mark.parametrize(
    ("body", "accepted"),
    [*PATCHES, ({"email": "b@example.com"}, False), ({"disabled": True}, False)],
)
def test_profile_patch_agrees_with_the_server(
    users_document: dict[str, Any], body: dict[str, Any], accepted: bool
) -> None:
    server = _accepted(users_service.update_profile, _NOWHERE, USERS_PROJECT, uuid.uuid4(), body)
    schema = _validator(users_document, "ProfilePatch").is_valid(body)
    assert (server, schema) == (accepted, accepted)


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        *PATCHES,
        ({"email": "b@example.com", "verified": True, "disabled": False}, True),
        ({"email": "nope"}, False),
        ({"email": None}, False),
        ({"verified": "yes"}, False),
        ({"disabled": None}, False),
    ],
)
def test_user_patch_agrees_with_the_server(
    users_document: dict[str, Any], body: dict[str, Any], accepted: bool
) -> None:
    admin = Principal(kind="operator", project_id=USERS_PROJECT.id, scope="admin")
    server = _accepted(
        users_service.admin_update, _NOWHERE, _KIT, USERS_PROJECT, admin, uuid.uuid4(), body
    )
    schema = _validator(users_document, "UserPatch").is_valid(body)
    assert (server, schema) == (accepted, accepted)


def test_the_user_fields_are_the_services() -> None:
    names = [f.name for f in user_fields(USERS_PROJECT).fields]
    assert names == PROFILE


PROVIDER = {
    "name": "corp",
    "discovery_url": "https://id.example.com/.well-known/openid-configuration",
    "client_id": "cairn",
    "client_secret": "s3cret",
}
GITHUB = {"name": "gh", "preset": "github", "client_id": "x", "client_secret": "y"}
# body → (the server accepts it, the schema does); they differ only where JSON Schema cannot
# say it: an OpenID Connect provider's scopes must include openid.
PROVIDER_BODIES: list[tuple[dict[str, Any], bool, bool]] = [
    (PROVIDER, True, True),
    ({**PROVIDER, "scopes": ["openid", "email", "openid"]}, True, True),
    ({**PROVIDER, "discovery_url": "HTTP://localhost:8080/x"}, True, True),
    (GITHUB, True, True),
    ({**GITHUB, "preset": "google", "scopes": ["openid"]}, True, True),
    ({**GITHUB, "scopes": ["read:user"]}, True, True),
    ({**PROVIDER, "scopes": ["email"]}, False, True),
    ({**PROVIDER, "scopes": ["a b"]}, False, False),
    ({**PROVIDER, "scopes": [""]}, False, False),
    ({**PROVIDER, "scopes": "openid"}, False, False),
    ({**PROVIDER, "preset": "github"}, False, False),
    ({**GITHUB, "preset": "gitlab"}, False, False),
    (_changed(PROVIDER, {"discovery_url": DROP}), False, False),
    ({**PROVIDER, "discovery_url": None}, False, False),
    ({**PROVIDER, "discovery_url": "ftp://example.com/x"}, False, False),
    ({**PROVIDER, "discovery_url": 5}, False, False),
    ({**PROVIDER, "name": "Corp"}, False, False),
    ({**PROVIDER, "name": "c" * 64}, False, False),
    (_changed(PROVIDER, {"name": DROP}), False, False),
    ({**PROVIDER, "client_id": ""}, False, False),
    ({**PROVIDER, "client_id": "  "}, False, False),
    ({**PROVIDER, "client_id": "x" * 256}, False, False),
    (_changed(PROVIDER, {"client_id": DROP}), False, False),
    ({**PROVIDER, "client_secret": ""}, False, False),
    ({**PROVIDER, "client_secret": " \t"}, False, False),
    ({**PROVIDER, "client_secret": "x" * 1025}, False, False),
    ({**PROVIDER, "client_secret": 5}, False, False),
    ({**PROVIDER, "surprise": 1}, False, False),
]


@pytest.mark.parametrize(("body", "server", "schema"), PROVIDER_BODIES)
def test_provider_bodies_agree_with_the_server(
    document: dict[str, Any], body: dict[str, Any], server: bool, schema: bool
) -> None:
    def create(raw: dict[str, Any]) -> None:  # a new provider also needs its secret
        if provider_service.load_provider(raw).client_secret is None:
            raise Invalid(errors={"client_secret": ["required for a new provider"]})
        raise _Accepted

    def replace(raw: dict[str, Any]) -> None:
        provider_service.load_provider(raw)
        raise _Accepted

    assert (_accepted(create, body), _validator(document, "AuthProviderInput").is_valid(body)) == (
        server,
        schema,
    )
    replaced = _validator(document, "AuthProviderReplaceInput").is_valid(body)
    assert (_accepted(replace, body), replaced) == (server, schema)
    without = _changed(body, {"client_secret": DROP})
    if server and schema:  # the secret may be left out of a replacement only
        assert _accepted(replace, without)
        assert _validator(document, "AuthProviderReplaceInput").is_valid(without)
        assert not _accepted(create, without)
        assert not _validator(document, "AuthProviderInput").is_valid(without)


def test_provider_schemas(document: dict[str, Any]) -> None:
    found = schemas(document)
    provider = found["AuthProvider"]
    assert "client_secret" not in provider["properties"]
    assert provider["properties"]["preset"]["enum"] == list(PRESETS)
    assert sorted(provider["required"]) == sorted(
        ["id", "name", "client_id", "scopes", "version", "created_at", "updated_at", "callback_url"]
    )
    assert found["AuthProviderInput"]["properties"]["client_secret"]["writeOnly"] is True
    page = found["AuthProviderList"]["properties"]
    assert page["items"]["items"] == {"$ref": "#/components/schemas/AuthProvider"}
    assert page["next_cursor"]["type"] == ["string", NULL]
    session = found["Session"]
    assert sorted(session["required"]) == sorted(
        ["id", "created_at", "last_seen_at", "expires_at", "method", "ip", "user_agent", "current"]
    )
    assert found["SessionList"]["required"] == ["items"]
    assert found["SignedIn"]["properties"]["token"]["pattern"] == "^cs_"
    assert found["VerificationPending"]["properties"]["verification_sent"] == {
        "const": True,
        "description": found["VerificationPending"]["properties"]["verification_sent"][
            "description"
        ],
    }
