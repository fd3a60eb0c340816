"""The app skeleton: health, readiness, metrics, the error envelope, request ids, body rules."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cairn.app import create_app
from cairn.auth.keys import IssuedKey
from cairn.config import Settings
from cairn.logs import JsonFormatter
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import auth

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "request_id"}


def assert_problem(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.mimetype == "application/problem+json"  # type: ignore[attr-defined]
    body = response.get_json(force=True)  # type: ignore[attr-defined]
    assert set(body) >= PROBLEM_KEYS and body["status"] == status
    # What a leak would look like: driver text, a traceback, our schema names, echoed SQL.
    # (Details may quote the caller's own input, which is not a leak.)
    text = json.dumps(body).lower()
    for marker in ("traceback", "psycopg", "sqlalchemy", "prj_", "[sql:", "cairn.api_keys"):
        assert marker not in text, body
    return body  # type: ignore[no-any-return]


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_when_everything_is_up(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "db": "ok", "redis": "ok"}


@pytest.fixture
def broken_app(settings: Settings, request: pytest.FixtureRequest) -> Iterator[FlaskClient]:
    broken = replace(settings, **request.param)
    rt = Runtime(broken)
    try:
        yield create_app(broken, rt).test_client()
    finally:
        rt.close()


@pytest.mark.parametrize(
    ("broken_app", "down"),
    [
        ({"app_database_url": "postgresql://nobody@/cairn?host=/nonexistent"}, "db"),
        ({"redis_url": "unix:///nonexistent/redis.sock"}, "redis"),
    ],
    indirect=["broken_app"],
)
def test_readyz_is_503_when_a_dependency_is_down(broken_app: FlaskClient, down: str) -> None:
    response = broken_app.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    body = response.get_json()
    assert body["status"] == "unavailable" and body[down] == "unavailable"
    up = ({"db", "redis"} - {down}).pop()
    assert body[up] == "ok"


def test_metrics_are_prometheus_text(client: FlaskClient) -> None:
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert 'cairn_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "cairn_http_request_duration_seconds_bucket" in text


def test_unknown_route_is_a_problem(client: FlaskClient) -> None:
    body = assert_problem(client.get("/no/such/thing"), 404)
    assert body["instance"] == "/no/such/thing"


def test_wrong_method_is_a_problem_with_allow(client: FlaskClient) -> None:
    response = client.delete("/healthz")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.fixture
def exploding_app(settings: Settings, runtime: Runtime) -> Flask:
    app = create_app(settings, runtime)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals: SELECT * FROM cairn.api_keys password=hunter2")

    return app


def test_unexpected_errors_are_500_without_internals(exploding_app: Flask) -> None:
    body = assert_problem(exploding_app.test_client().get("/boom"), 500)
    assert "hunter2" not in json.dumps(body) and "secret internals" not in json.dumps(body)


def test_request_id_is_generated_echoed_and_logged(client: FlaskClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger("cairn.access")
    access.addHandler(handler)
    old_level = access.level
    access.setLevel(logging.INFO)
    try:
        given = client.get("/healthz", headers={"X-Request-ID": "trace-abc.123"})
        generated = client.get("/healthz")
        hostile = client.get("/healthz", headers={"X-Request-ID": "x injected; " + "y" * 200})
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
    assert given.headers["X-Request-ID"] == "trace-abc.123"
    assert len(generated.headers["X-Request-ID"]) == 32
    assert (
        hostile.headers["X-Request-ID"] != "x" and "injected" not in hostile.headers["X-Request-ID"]
    )
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines] == [
        "trace-abc.123",
        generated.headers["X-Request-ID"],
        hostile.headers["X-Request-ID"],
    ]
    assert lines[0]["status"] == 200 and lines[0]["path"] == "/healthz"


def test_problem_carries_the_request_id(client: FlaskClient) -> None:
    body = assert_problem(client.get("/nope", headers={"X-Request-ID": "rid-1"}), 404)
    assert body["request_id"] == "rid-1"


def keys_url(project: Project) -> str:
    return f"/api/v1/projects/{project.slug}/api-keys"


def test_body_too_large_is_413(
    client: FlaskClient, settings: Settings, project: Project, admin_key: IssuedKey
) -> None:
    big = json.dumps({"scope": "read", "name": "x" * settings.max_body_bytes})
    response = client.post(
        keys_url(project), data=big, content_type="application/json", headers=auth(admin_key)
    )
    assert_problem(response, 413)


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("scope=read", "application/x-www-form-urlencoded", 415),
        ('{"scope": "read"}', "text/plain", 415),
        ('{"scope": "read"', "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ("", "application/json", 400),
        ('{"scope": "read", "surprise": 1}', "application/json", 422),
    ],
)
def test_bad_bodies(
    client: FlaskClient,
    project: Project,
    admin_key: IssuedKey,
    data: str,
    content_type: str,
    status: int,
) -> None:
    response = client.post(
        keys_url(project), data=data, content_type=content_type, headers=auth(admin_key)
    )
    assert_problem(response, status)


@pytest.mark.parametrize(
    "broken_app",
    [{"app_database_url": "postgresql://nobody@/cairn?host=/nonexistent"}],
    indirect=True,
)
def test_database_down_during_a_request_is_503(broken_app: FlaskClient, project: Project) -> None:
    # The project directory lookup is the first query; it cannot reach the database.
    response = broken_app.get(f"/api/v1/projects/{project.slug}/api-keys")
    body = assert_problem(response, 503)
    assert response.headers["Retry-After"]
    assert "nonexistent" not in json.dumps(body)
