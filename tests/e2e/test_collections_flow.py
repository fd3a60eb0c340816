"""The collections issue's "done when", as a user does it: a YAML file with three related
collections, `cairn apply`, then records over HTTP against a real `cairn serve`."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psycopg

from tests.e2e.serve import ServeProcess, run_cli

PROJECT_FILE = """
collections:
  - name: authors
    fields:
      name: {type: text, required: true}
  - name: posts
    fields:
      title: {type: text, required: true}
      status: {type: select, values: [draft, published], default: draft}
      score: {type: number}
      author: {type: relation, collection: authors, on_delete: restrict}
    indexes: [{fields: [status, created_at]}]
  - name: comments
    fields:
      post: {type: relation, collection: posts, on_delete: cascade, required: true}
      text: {type: text, required: true}
"""


def wait_until_dispatched(data_dir: Path, expected: int, timeout: float = 30) -> bool:
    """Read the outbox as the superuser of the embedded Postgres (tests only)."""
    dsn = f"host={data_dir / 'postgres'} dbname=cairn user=postgres"
    deadline = time.time() + timeout
    while time.time() < deadline:
        with psycopg.connect(dsn) as conn:
            total, dispatched = conn.execute(
                "SELECT count(*), count(dispatched_at) FROM cairn.events"
            ).fetchone() or (0, 0)
        if total >= expected and total == dispatched:
            return True
        time.sleep(0.3)
    return False


def test_apply_then_use_the_api(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServeProcess(data)
    server.start()
    try:
        key = server.bootstrap_key()
        assert key
        (tmp_path / "cairn.yaml").write_text(PROJECT_FILE)
        applied = run_cli(data, "apply", str(tmp_path / "cairn.yaml"), "--project", "default")
        assert applied.returncode == 0, applied.stderr
        assert "+ create collection comments" in applied.stdout

        base = f"{server.base}/api/v1/projects/default/collections"
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=10) as http:
            ann = http.post(f"{base}/authors/records", json={"name": "Ann"}).json()
            ids = []
            for i in range(5):
                created = http.post(
                    f"{base}/posts/records",
                    json={
                        "title": f"p{i}",
                        "score": i,
                        "author": ann["id"],
                        "status": "published" if i % 2 else "draft",
                    },
                )
                assert created.status_code == 201, created.text
                ids.append(created.json()["id"])
            http.post(f"{base}/comments/records", json={"post": ids[1], "text": "hi"})

            page = http.get(
                f"{base}/posts/records",
                params={
                    "filter": 'status = "published"',
                    "sort": "-score",
                    "limit": 1,
                    "expand": "author",
                    "count": "true",
                },
            ).json()
            assert page["total"] == 2 and page["items"][0]["title"] == "p3"
            assert page["items"][0]["expand"]["author"]["name"] == "Ann"
            second = http.get(
                f"{base}/posts/records",
                params={
                    "filter": 'status = "published"',
                    "sort": "-score",
                    "limit": 1,
                    "cursor": page["next_cursor"],
                },
            ).json()
            assert [p["title"] for p in second["items"]] == ["p1"] and second["next_cursor"] is None

            one = http.get(f"{base}/posts/records/{ids[1]}")
            stale = http.patch(
                f"{base}/posts/records/{ids[1]}", json={"score": 9}, headers={"If-Match": '"7"'}
            )
            assert stale.status_code == 412
            assert stale.headers["content-type"] == "application/problem+json"
            ok = http.patch(
                f"{base}/posts/records/{ids[1]}",
                json={"score": 9},
                headers={"If-Match": one.headers["ETag"]},
            )
            assert ok.status_code == 200 and ok.json()["version"] == 2

            restricted = http.delete(f"{base}/authors/records/{ann['id']}")
            assert restricted.status_code == 409
            assert http.delete(f"{base}/posts/records/{ids[1]}").status_code == 204
            assert http.get(f"{base}/comments/records").json()["items"] == []
        # The worker `cairn serve` runs dispatches every event the writes produced.
        assert wait_until_dispatched(data, expected=9)
    finally:
        assert server.stop() == 0
