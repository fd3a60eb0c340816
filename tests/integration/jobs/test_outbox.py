"""Record events: written with the change, handed to RQ after commit, never lost."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from rq import Queue
from sqlalchemy import text

from cairn.app import create_app
from cairn.auth.keys import IssuedKey
from cairn.config import Settings
from cairn.jobs import context, tasks
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import auth
from tests.factories import apply_yaml, make_key, make_project, run_queued
from tests.integration.jobs.redis_server import RedisServer

NOTES = """
collections:
  - name: notes
    fields:
      text: {type: text, required: true}
      public: {type: boolean, default: false}
    rules: {list: "", view: "", create: "public = true", update: "", delete: ""}
"""


def events(runtime: Runtime, project: Project) -> list[Any]:
    with runtime.db.tenant(project.id) as conn:
        return list(
            conn.execute(text("SELECT * FROM cairn.events ORDER BY occurred_at, id")).mappings()
        )


@pytest.fixture
def notes(runtime: Runtime, project: Project) -> Project:
    apply_yaml(runtime, project, NOTES)
    return project


def url(project: Project, suffix: str = "") -> str:
    return f"/api/v1/projects/{project.slug}/collections/notes/records{suffix}"


def test_every_change_writes_one_event_in_the_same_statement(
    client: FlaskClient, runtime: Runtime, notes: Project, admin_key: IssuedKey
) -> None:
    created = client.post(url(notes), json={"text": "a"}, headers=auth(admin_key)).get_json()
    client.patch(url(notes, f"/{created['id']}"), json={"text": "b"}, headers=auth(admin_key))
    client.delete(url(notes, f"/{created['id']}"), headers=auth(admin_key))
    found = events(runtime, notes)
    assert [(e["type"], e["record_version"]) for e in found] == [
        ("record.created", 1),
        ("record.updated", 2),
        ("record.deleted", 2),
    ]
    assert {str(e["record_id"]) for e in found} == {created["id"]}
    assert found[0]["payload"]["text"] == "a" and found[1]["payload"]["text"] == "b"
    assert found[2]["payload"]["text"] == "b"  # a deletion carries the record as it was
    assert all(e["collection"] == "notes" for e in found)


def test_failed_and_refused_writes_leave_no_event(
    client: FlaskClient, runtime: Runtime, notes: Project, admin_key: IssuedKey
) -> None:
    writer = make_key(runtime, notes, scope="write")
    assert client.post(url(notes), json={"text": 5}, headers=auth(admin_key)).status_code == 422
    denied = client.post(url(notes), json={"text": "x"}, headers=auth(writer))
    assert denied.status_code == 403  # the create rule wants public = true
    batch = client.post(
        f"/api/v1/projects/{notes.slug}/batch",
        json={
            "operations": [
                {"method": "POST", "path": "/collections/notes/records", "body": {"text": "ok"}},
                {"method": "POST", "path": "/collections/notes/records", "body": {"text": 1}},
            ]
        },
        headers=auth(admin_key),
    )
    assert batch.status_code == 422
    assert events(runtime, notes) == []


def test_committed_events_are_handed_to_the_queue_and_dispatched(
    client: FlaskClient, runtime: Runtime, notes: Project, admin_key: IssuedKey
) -> None:
    created = client.post(
        url(notes), json={"text": "private note text"}, headers=auth(admin_key)
    ).get_json()
    [event] = events(runtime, notes)
    queue = Queue("default", connection=runtime.redis)
    job = queue.fetch_job(f"event-{event['id']}")
    assert job is not None and job.args == (str(notes.id), str(event["id"]))
    assert created["text"] not in str(job.args) + str(job.kwargs)  # ids only, no record data
    run_queued(runtime)
    [event] = events(runtime, notes)
    assert event["dispatched_at"] is not None
    # Dispatching again changes nothing (duplicates from the sweeper are harmless).
    assert tasks.dispatch_event(str(notes.id), str(event["id"])) is False


@pytest.fixture
def outage(
    tmp_path: Path, settings: Settings
) -> Iterator[tuple[RedisServer, Runtime, FlaskClient]]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    own = replace(settings, redis_url=server.url)
    runtime = Runtime(own)
    try:
        yield server, runtime, create_app(own, runtime).test_client()
    finally:
        runtime.close()
        server.stop()


def test_a_redis_outage_loses_no_event(
    outage: tuple[RedisServer, Runtime, FlaskClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, runtime, client = outage
    project = make_project(runtime)
    apply_yaml(runtime, project, NOTES)
    key = make_key(runtime, project)
    server.stop()
    ids = []
    for i in range(5):
        response = client.post(url(project), json={"text": f"n{i}"}, headers=auth(key))
        assert response.status_code == 201  # the write is acknowledged with Redis down
        ids.append(response.get_json()["id"])
    assert client.get("/readyz").status_code == 503
    assert [e["dispatched_at"] for e in events(runtime, project)] == [None] * 5
    server.start()
    runtime.redis.connection_pool.disconnect()
    monkeypatch.setattr(tasks, "SWEEP_AFTER", tasks.SWEEP_AFTER * 0)
    context.use(runtime)
    assert tasks.sweep_outbox() >= 5
    run_queued(runtime)
    found = events(runtime, project)
    assert sorted(str(e["record_id"]) for e in found) == sorted(ids)
    assert all(e["dispatched_at"] is not None for e in found)


def test_the_sweeper_leaves_fresh_and_dispatched_events_alone(
    client: FlaskClient, runtime: Runtime, notes: Project, admin_key: IssuedKey
) -> None:
    client.post(url(notes), json={"text": "a"}, headers=auth(admin_key))
    run_queued(runtime)
    client.post(url(notes), json={"text": "fresh"}, headers=auth(admin_key))
    context.use(runtime)
    before = Queue("default", connection=runtime.redis).count
    tasks.sweep_outbox()  # the fresh one is younger than SWEEP_AFTER
    assert Queue("default", connection=runtime.redis).count == before


def test_cairn_worker_burst_runs_queued_jobs(
    client: FlaskClient, runtime: Runtime, notes: Project, admin_key: IssuedKey, env: dict[str, str]
) -> None:
    assert client.post(url(notes), json={"text": "a"}, headers=auth(admin_key)).status_code == 201
    result = subprocess.run(
        [sys.executable, "-m", "cairn", "worker", "--burst", "--queues", "default"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    written = events(runtime, notes)
    assert written and all(e["dispatched_at"] is not None for e in written)


def test_worker_refuses_unknown_queues(cairn: Any) -> None:
    result = cairn("worker", "--queues", "default,nope")
    assert result.exit_code == 1 and "queues: choose from default, webhooks, email" in result.stderr
