"""POST /batch: up to 100 writes in one transaction, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.http.test_app import assert_problem
from tests.integration.records.conftest import Api

POSTS = "/collections/posts/records"
NO_SUCH = f"{POSTS}/01890000-0000-7000-8000-000000000000"


def batch(api: Api, operations: Any, **headers: str) -> Any:
    return api.client.post(
        f"/api/v1/projects/{api.project.slug}/batch",
        json={"operations": operations},
        headers={**api.headers, **headers},
    )


def test_all_operations_run_in_order(api: Api) -> None:
    post = api.made("posts", {"title": "existing"})
    gone = api.made("posts", {"title": "doomed"})
    response = batch(
        api,
        [
            {"method": "POST", "path": "/collections/authors/records", "body": {"name": "Ann"}},
            {
                "method": "PATCH",
                "path": f"/collections/posts/records/{post['id']}",
                "body": {"views": 7},
                "if_match": '"1"',
            },
            {"method": "DELETE", "path": f"/collections/posts/records/{gone['id']}"},
        ],
    )
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 200, 204]
    assert results[0]["body"]["name"] == "Ann" and results[1]["body"]["views"] == 7
    assert results[2]["body"] is None
    assert api.get("posts", gone["id"]).status_code == 404


@pytest.mark.parametrize(
    ("failing", "status", "field"),
    [
        ({"method": "POST", "path": POSTS, "body": {"title": 5}}, 422, "title"),
        ({"method": "POST", "path": "/collections/nope/records", "body": {}}, 404, None),
        ({"method": "PATCH", "path": NO_SUCH, "body": {"views": 1}}, 404, None),
        (
            {
                "method": "POST",
                "path": "/collections/authors/records",
                "body": {"name": "dup", "email": "a@example.com"},
            },
            409,
            "email",
        ),
    ],
)
def test_one_failure_rolls_everything_back(
    api: Api, failing: dict[str, Any], status: int, field: str | None
) -> None:
    api.made("authors", {"name": "first", "email": "a@example.com"})
    before = api.get("authors").get_json()["items"]
    response = batch(
        api,
        [
            {"method": "POST", "path": "/collections/authors/records", "body": {"name": "kept?"}},
            {"method": "POST", "path": POSTS, "body": {"title": "kept?"}},
            failing,
        ],
    )
    problem = assert_problem(response, status)
    assert problem["operation"] == 2
    assert str(problem["detail"]).startswith(f"operation 2 ({failing['method']} ")
    if field:
        assert field in problem["errors"]  # type: ignore[operator]
    assert api.get("authors").get_json()["items"] == before
    assert api.get("posts").get_json()["items"] == []


def test_a_failed_if_match_is_412_for_the_batch(api: Api) -> None:
    post = api.made("posts", {"title": "t"})
    response = batch(
        api,
        [
            {
                "method": "PATCH",
                "path": f"/collections/posts/records/{post['id']}",
                "body": {"views": 2},
                "if_match": '"9"',
            }
        ],
    )
    assert assert_problem(response, 412)["operation"] == 0


@pytest.mark.parametrize(
    ("operations", "key"),
    [
        ([], "operations"),
        ([{"method": "POST", "path": POSTS}] * 101, "operations"),
        ("nope", "operations"),
        ([{"method": "GET", "path": POSTS}], "operations.0.method"),
        ([{"method": "POST", "path": "/api-keys"}], "operations.0.path"),
        ([{"method": "POST", "path": NO_SUCH}], "operations.0.path"),
        ([{"method": "PATCH", "path": POSTS}], "operations.0.path"),
        ([{"method": "POST", "path": POSTS, "body": []}], "operations.0.body"),
        ([{"method": "POST", "path": POSTS, "extra": 1}], "operations.0.extra"),
        ([1], "operations.0"),
    ],
)
def test_malformed_batches_are_422_and_run_nothing(api: Api, operations: Any, key: str) -> None:
    problem = assert_problem(batch(api, operations), 422)
    assert key in problem["errors"]  # type: ignore[operator]
    assert api.get("posts").get_json()["items"] == []


def test_batch_with_an_idempotency_key_runs_once(api: Api) -> None:
    ops = [{"method": "POST", "path": POSTS, "body": {"title": "t"}}]
    first = batch(api, ops, **{"Idempotency-Key": "b-1"})
    again = batch(api, ops, **{"Idempotency-Key": "b-1"})
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert len(api.get("posts").get_json()["items"]) == 1


def test_batch_needs_a_write_key(runtime: Any, api: Api, api_for: Any) -> None:
    from tests.factories import make_key

    reader = api_for(make_key(runtime, api.project, scope="read"))
    ops = [{"method": "POST", "path": POSTS, "body": {"title": "t"}}]
    assert_problem(batch(reader, ops), 403)
