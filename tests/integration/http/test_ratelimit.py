"""Rate limits on the data API: per credential, per project, 429 with the right headers,
and still served when Redis is down."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask.testing import FlaskClient

from cairn.app import create_app
from cairn.config import Settings, load_settings
from cairn.errors import ConfigError, Invalid
from cairn.runtime import Runtime
from cairn.tenancy.service import Project, load_limits
from tests.conftest import auth
from tests.factories import apply_yaml, make_key, make_project
from tests.integration.http.test_app import assert_problem

NOTES = "collections: [{name: notes, fields: {t: {type: text}}}]"


def limited(runtime: Runtime, rate: str) -> Project:
    project = make_project(runtime)
    apply_yaml(runtime, project, NOTES)
    with runtime.db.owner() as conn:
        from cairn.tenancy.service import set_limits

        set_limits(conn, project, {"data": rate})
    return project


def url(project: Project) -> str:
    return f"/api/v1/projects/{project.slug}/collections/notes/records"


def test_over_the_project_limit_is_429_per_credential(
    client: FlaskClient, runtime: Runtime
) -> None:
    project = limited(runtime, "3/minute")
    key, other_key = make_key(runtime, project), make_key(runtime, project)
    for _ in range(3):
        ok = client.get(url(project), headers=auth(key))
        assert ok.status_code == 200
        assert "RateLimit-Limit" not in ok.headers  # stating the budget costs a Redis call
    refused = client.get(url(project), headers=auth(key))
    problem = assert_problem(refused, 429)
    assert refused.headers["RateLimit-Limit"] == "3"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Reset"] == refused.headers["Retry-After"]
    assert problem["title"] == "Too Many Requests"
    # Another credential of the project, and another project, have their own budgets.
    assert client.get(url(project), headers=auth(other_key)).status_code == 200
    elsewhere = limited(runtime, "3/minute")
    assert client.get(url(elsewhere), headers=auth(make_key(runtime, elsewhere))).status_code == 200
    # Batch counts against the same data budget.
    batch = client.post(
        f"/api/v1/projects/{project.slug}/batch", json={"operations": []}, headers=auth(key)
    )
    assert_problem(batch, 429)


@pytest.fixture
def strict_app(settings: Settings) -> Iterator[tuple[FlaskClient, Runtime]]:
    own = replace(settings, rate_limit_data="2/minute")
    rt = Runtime(own)
    try:
        yield create_app(own, rt).test_client(), rt
    finally:
        rt.close()


def test_the_default_limit_applies_without_a_declaration(
    strict_app: tuple[FlaskClient, Runtime],
) -> None:
    client, rt = strict_app
    project = make_project(rt)
    apply_yaml(rt, project, NOTES)
    key = make_key(rt, project)
    assert [client.get(url(project), headers=auth(key)).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]


@pytest.fixture
def redis_down_app(settings: Settings) -> Iterator[tuple[FlaskClient, Runtime]]:
    own = replace(settings, redis_url="unix:///nonexistent/redis.sock", rate_limit_data="2/minute")
    rt = Runtime(own)
    try:
        yield create_app(own, rt).test_client(), rt
    finally:
        rt.close()


def test_with_redis_down_limits_fall_back_to_memory(
    redis_down_app: tuple[FlaskClient, Runtime],
) -> None:
    client, rt = redis_down_app
    project = make_project(rt)
    apply_yaml(rt, project, NOTES)
    key = make_key(rt, project)
    statuses = [client.get(url(project), headers=auth(key)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # served, and still limited (in process memory)


@pytest.mark.parametrize(
    "raw", [{"data": "lots"}, {"data": 5}, {"writes": "1/second"}, "600/minute"]
)
def test_bad_limits_are_refused(raw: object) -> None:
    with pytest.raises(Invalid):
        load_limits(raw)


def test_a_bad_default_stops_the_start() -> None:
    with pytest.raises(ConfigError, match=r"^CAIRN_RATE_LIMIT_DATA: 'often' is not a rate"):
        load_settings({"CAIRN_RATE_LIMIT_DATA": "often"})
