"""Schemathesis against the project's own OpenAPI document, on the real WSGI app in-process.

Every generated request must get a response the document describes: no 5xx, a documented
status, the documented content type, headers and body schema. The project covers every field
type and relations (single and multiple), and holds records before fuzzing starts, so lists,
expansions and updates answer with real data.

Bounded: 25 examples per operation (positive and negative data), derandomized, no example
database. Left out on purpose: PUT and DELETE /collections/{name} (they would rewrite or drop
the schema under the other operations; test_openapi.py checks their responses). Key revoke and
rotate get generated ids or keys made for them, never the key the fuzzer authenticates with.

Inputs that once reached server bugs the fuzzer found (NUL characters, JSON Postgres cannot
store, datetimes outside years 1-9999 in UTC, overlong key lifetimes, malformed batch ids) have
regression tests at the end of this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cairn.app import create_app
from cairn.config import Settings
from cairn.openapi.api import bp as openapi_bp
from cairn.runtime import Runtime
from tests.conftest import auth
from tests.factories import apply_yaml, make_key, make_project

FUZZ_PROJECT = """
collections:
  - name: authors
    fields:
      name: {type: text, required: true, min_length: 1, max_length: 80}
      email: {type: email, unique: true, max_length: 200}
      site: {type: url}
      best: {type: relation, collection: posts, on_delete: set_null}
  - name: posts
    fields:
      title: {type: text, required: true, max_length: 200, pattern: "[A-Za-z]"}
      body: {type: text}
      status: {type: select, values: [draft, published], default: draft}
      score: {type: number, min: 0, max: 100}
      views: {type: integer, default: 0, min: 0}
      published: {type: boolean, default: false}
      due: {type: date}
      posted_at: {type: datetime}
      meta: {type: json}
      settings: {type: json, required: true, default: {}}
      link: {type: url}
      tags: {type: select, values: [a, b, c], multiple: true}
      author: {type: relation, collection: authors, on_delete: set_null}
      reviewers: {type: relation, collection: authors, multiple: true, on_delete: set_null}
    indexes: [{fields: [status, posted_at]}]
"""

RECORD_OPERATIONS = [
    (method, f"/collections/{collection}/records{suffix}")
    for collection in ("authors", "posts")
    for method, suffix in (
        ("GET", ""),
        ("POST", ""),
        ("GET", "/{id}"),
        ("PATCH", "/{id}"),
        ("DELETE", "/{id}"),
    )
]
OTHER_OPERATIONS = [
    ("GET", "/api-keys"),
    ("POST", "/api-keys"),
    ("GET", "/api-keys/{key_id}"),
    ("DELETE", "/api-keys/{key_id}"),
    ("POST", "/api-keys/{key_id}/rotate"),
    ("GET", "/collections"),
    ("GET", "/collections/{name}"),
    ("POST", "/batch"),
    ("GET", "/openapi.json"),
]
NOT_FUZZED = {("PUT", "/collections/{name}"), ("DELETE", "/collections/{name}")}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Target:
    app: Flask
    schema: Any  # schemathesis' OpenApiSchema
    headers: dict[str, str]
    # Path parameters that name something real, so that half of the cases of an operation
    # on one resource reach it: (method, path) → parameters.
    known: dict[tuple[str, str], dict[str, str]]


@pytest.fixture(scope="module")
def target(settings: Settings, runtime: Runtime) -> Iterator[Target]:
    project = make_project(runtime)
    apply_yaml(runtime, project, FUZZ_PROJECT)
    app = create_app(settings, runtime)
    if "openapi" not in app.blueprints:  # app.py may register it already
        app.register_blueprint(openapi_bp)
    headers = auth(make_key(runtime, project, scope="admin"))
    client = app.test_client()
    base = f"/api/v1/projects/{project.slug}"

    def made(collection: str, body: dict[str, Any]) -> str:
        response = client.post(
            f"{base}/collections/{collection}/records", json=body, headers=headers
        )
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["id"])

    authors = [
        made("authors", {"name": "Ada", "email": "ada@example.com", "site": "https://ada.dev"}),
        made("authors", {"name": "Grace"}),
    ]
    posts = [
        made(
            "posts",
            {
                "title": "Hello",
                "body": "first",
                "status": "published",
                "score": 9.5,
                "views": 3,
                "published": True,
                "due": "2024-05-01",
                "posted_at": "2024-05-01T12:00:00Z",
                "meta": {"k": [1, "x", None]},
                "link": "https://example.com/a",
                "tags": ["a", "c"],
                "author": authors[0],
                "reviewers": authors,
            },
        ),
        made("posts", {"title": "Second"}),
        *(made("posts", {"title": f"Filler {i}", "author": authors[1]}) for i in range(3)),
    ]
    client.patch(
        f"{base}/collections/authors/records/{authors[0]}", json={"best": posts[0]}, headers=headers
    )
    # Keys the fuzzer may revoke and rotate: never the one it authenticates with.
    victim, rotated = (make_key(runtime, project, scope="read") for _ in range(2))
    known = {
        ("GET", "/collections/{name}"): {"name": "posts"},
        ("GET", "/api-keys/{key_id}"): {"key_id": str(victim.key.id)},
        ("DELETE", "/api-keys/{key_id}"): {"key_id": str(victim.key.id)},
        ("POST", "/api-keys/{key_id}/rotate"): {"key_id": str(rotated.key.id)},
    }
    for collection, ids in (("authors", authors), ("posts", posts)):
        path = f"/collections/{collection}/records/{{id}}"
        known[("GET", path)] = known[("PATCH", path)] = {"id": ids[0]}
        known[("DELETE", path)] = {"id": ids[-1]}
    schema = schemathesis.openapi.from_wsgi(f"{base}/openapi.json", app, headers=headers)
    yield Target(app, schema, headers, known)


def test_the_fuzzed_operations_are_the_whole_document(target: Target) -> None:
    documented = {
        (method.upper(), path)
        for path, item in target.schema.raw_schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert documented == set(RECORD_OPERATIONS) | set(OTHER_OPERATIONS) | NOT_FUZZED


def _strategy(target: Target, method: str, path: str) -> st.SearchStrategy[Any]:
    operation = target.schema[path][method]
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    known = target.known.get((method, path))
    if known is not None:
        strategies += [
            operation.as_strategy(generation_mode=mode, path_parameters=known) for mode in modes
        ]
    return st.one_of(strategies)


def _fuzz(target: Target, method: str, path: str) -> None:
    @hypothesis.settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(case=_strategy(target, method, path))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=target.headers, checks=CHECKS)

    run()


@pytest.mark.parametrize(("method", "path"), RECORD_OPERATIONS)
def test_fuzz_records(target: Target, method: str, path: str) -> None:
    _fuzz(target, method, path)


@pytest.mark.parametrize(("method", "path"), OTHER_OPERATIONS)
def test_fuzz_admin_and_service(target: Target, method: str, path: str) -> None:
    _fuzz(target, method, path)


# -- the bugs, pinned -------------------------------------------------------------------


def _send(target: Target, method: str, path: str, **kwargs: Any) -> Any:
    base = target.schema.raw_schema["servers"][0]["url"]
    client = target.app.test_client()
    return client.open(f"{base}{path}", method=method, headers=target.headers, **kwargs)


def _assert_refused(response: Any, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.get_json())
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/collections/posts/records", {"json": {"title": "a\x00b"}}),
        ("POST", "/collections/posts/records", {"json": {"title": "ab", "meta": "x\x00"}}),
        ("POST", "/collections/posts/records", {"json": {"title": "ab", "meta": {"\x00": 1}}}),
        ("POST", "/api-keys", {"json": {"scope": "read", "name": "a\x00"}}),
        (
            "POST",
            "/batch",
            {
                "json": {
                    "operations": [
                        {
                            "method": "POST",
                            "path": "/collections/posts/records",
                            "body": {"title": "a\x00"},
                        }
                    ]
                }
            },
        ),
        ("GET", "/collections/posts/records", {"query_string": {"filter": 'title = "\x00"'}}),
    ],
    ids=["text", "json-value", "json-key", "key-name", "batch", "filter"],
)
def test_a_nul_character_is_refused(
    target: Target, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    _assert_refused(_send(target, method, path, **kwargs), 400, 422)


@pytest.mark.parametrize(
    "raw",
    [
        '{"title": "a\\ud800"}',
        '{"title": "ab", "meta": NaN}',
        '{"title": "ab", "meta": 1e400}',
        '{"title": "ab", "meta": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
    ids=["lone-surrogate", "nan", "overflowing-number", "deep-nesting"],
)
def test_json_the_database_cannot_take_is_refused(target: Target, raw: str) -> None:
    response = _send(
        target, "POST", "/collections/posts/records", data=raw, content_type="application/json"
    )
    _assert_refused(response, 400, 422)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_datetime_outside_years_1_to_9999_in_utc_is_422(target: Target, value: str) -> None:
    response = _send(
        target, "POST", "/collections/posts/records", json={"title": "ab", "posted_at": value}
    )
    _assert_refused(response, 422)


@pytest.mark.parametrize("expires_in", ["3000000d", "999999999d", "999999999w"])
def test_an_api_key_lifetime_past_100_years_is_422(target: Target, expires_in: str) -> None:
    response = _send(target, "POST", "/api-keys", json={"scope": "read", "expires_in": expires_in})
    _assert_refused(response, 422)
    assert "expires_in" in response.get_json()["errors"]


def test_a_batch_path_with_a_non_uuid_id_is_refused(target: Target) -> None:
    operation = {"method": "DELETE", "path": "/collections/posts/records/" + "0" * 36}
    _assert_refused(_send(target, "POST", "/batch", json={"operations": [operation]}), 404, 422)
