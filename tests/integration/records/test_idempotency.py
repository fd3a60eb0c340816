"""Idempotency-Key on record writes and batch."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text

from cairn.idempotency import service as idempotency
from cairn.runtime import Runtime
from tests.factories import make_key
from tests.integration.http.test_app import assert_problem
from tests.integration.records.conftest import Api


def count(api: Api, collection: str = "posts") -> int:
    return len(api.get(collection, query="limit=500").get_json()["items"])


def test_a_repeated_create_returns_the_first_response(api: Api) -> None:
    first = api.create("posts", {"title": "once"}, **{"Idempotency-Key": "k-1"})
    again = api.create("posts", {"title": "once"}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert count(api) == 1


def test_same_key_with_another_body_is_422_and_runs_nothing(api: Api) -> None:
    api.create("posts", {"title": "once"}, **{"Idempotency-Key": "k-2"})
    problem = assert_problem(
        api.create("posts", {"title": "twice"}, **{"Idempotency-Key": "k-2"}), 422
    )
    assert "Idempotency-Key" in problem["errors"]  # type: ignore[operator]
    assert count(api) == 1


def test_key_order_in_the_body_does_not_matter(api: Api) -> None:
    api.create("posts", {"title": "t", "views": 1}, **{"Idempotency-Key": "k-3"})
    again = api.create("posts", {"views": 1, "title": "t"}, **{"Idempotency-Key": "k-3"})
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_patch_and_delete_are_idempotent(api: Api) -> None:
    post = api.made("posts", {"title": "t", "views": 1})
    one = api.patch("posts", post["id"], {"views": 2}, **{"Idempotency-Key": "p-1"})
    two = api.patch("posts", post["id"], {"views": 2}, **{"Idempotency-Key": "p-1"})
    assert one.get_json()["version"] == two.get_json()["version"] == 2
    assert api.delete("posts", post["id"], **{"Idempotency-Key": "d-1"}).status_code == 204
    replay = api.delete("posts", post["id"], **{"Idempotency-Key": "d-1"})
    assert replay.status_code == 204 and replay.headers["Idempotent-Replayed"] == "true"


def test_failures_are_not_stored_so_a_fixed_retry_runs(api: Api) -> None:
    assert_problem(api.create("posts", {"title": 5}, **{"Idempotency-Key": "f-1"}), 422)
    retry = api.create("posts", {"title": 5}, **{"Idempotency-Key": "f-1"})
    assert_problem(retry, 422)  # ran again (not replayed), failed again
    assert "Idempotent-Replayed" not in retry.headers


def test_keys_are_per_credential(runtime: Runtime, api: Api, api_for: Any) -> None:
    other = api_for(make_key(runtime, api.project, scope="admin"))
    api.create("posts", {"title": "mine"}, **{"Idempotency-Key": "shared"})
    theirs = other.create("posts", {"title": "mine"}, **{"Idempotency-Key": "shared"})
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert count(api) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey"])
def test_bad_keys_are_400(api: Api, key: str) -> None:
    response = api.client.post(
        api.url("posts"), json={"title": "t"}, headers={**api.headers, "Idempotency-Key": key}
    )
    assert_problem(response, 400)
    assert count(api) == 0


def test_concurrent_duplicates_run_once(runtime: Runtime, api: Api, app: Any) -> None:
    barrier = threading.Barrier(4)
    statuses: list[tuple[int, str | None]] = []

    def send() -> None:
        client = app.test_client()
        barrier.wait()
        r = client.post(
            api.url("posts"),
            json={"title": "race"},
            headers={**api.headers, "Idempotency-Key": "race-1"},
        )
        statuses.append((r.status_code, r.headers.get("Idempotent-Replayed")))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses, key=str) == [(201, "true")] * 3 + [(201, None)]
    assert count(api) == 1


def test_expired_keys_are_purged_and_reusable(runtime: Runtime, api: Api) -> None:
    api.create("posts", {"title": "old"}, **{"Idempotency-Key": "e-1"})
    with runtime.db.tenant(api.project.id) as conn:
        conn.execute(text("UPDATE cairn.idempotency_keys SET expires_at = now() - interval '1 s'"))
    again = api.create("posts", {"title": "old"}, **{"Idempotency-Key": "e-1"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    with runtime.db.tenant(api.project.id) as conn:
        conn.execute(text("UPDATE cairn.idempotency_keys SET expires_at = now() - interval '1 s'"))
        assert idempotency.purge_expired(conn, api.project.id) == 1
        assert conn.execute(text("SELECT count(*) FROM cairn.idempotency_keys")).scalar() == 0
