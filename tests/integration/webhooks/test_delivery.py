"""Webhook deliveries end to end: declared webhook → record change → signed POST to a real
receiver; retries with growing delays; failure and redelivery; Retry-After; SSRF; a worker
killed mid-delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from rq import Queue, SimpleWorker
from rq.scheduler import RQScheduler
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from cairn.auth.keys import IssuedKey
from cairn.jobs import context, tasks
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn.webhooks import delivery
from tests.conftest import auth
from tests.factories import apply_yaml, run_queued
from tests.integration.webhooks.receiver import Receiver

SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="
NOTES = "collections: [{name: notes, fields: {text: {type: text}}}]"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()


@pytest.fixture
def hooked(
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    admin_key: IssuedKey,
    receiver: Receiver,
) -> dict[str, Any]:
    apply_yaml(runtime, project, NOTES)
    response = client.post(
        f"/api/v1/projects/{project.slug}/webhooks",
        json={
            "name": "notify",
            "url": receiver.url,
            "events": ["record.created", "record.updated"],
            "collections": ["notes"],
            "secret": SECRET,
        },
        headers=auth(admin_key),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def create_note(client: FlaskClient, project: Project, key: IssuedKey, text_: str = "hi") -> Any:
    url = f"/api/v1/projects/{project.slug}/collections/notes/records"
    response = client.post(url, json={"text": text_}, headers=auth(key))
    assert response.status_code == 201
    return response.get_json()


def drain(runtime: Runtime, project: Project | None = None, *, within: float = 20.0) -> None:
    """Run queued and scheduled jobs until the project has no delivery still pending (other
    projects' retries may stay scheduled: only this project's deliveries are waited for)."""
    context.use(runtime)
    queues = [Queue(n, connection=runtime.redis) for n in ("default", "webhooks")]
    scheduler = RQScheduler(queues, connection=runtime.redis)
    # A worker killed by an earlier test may still hold the queues' scheduler locks.
    for q in queues:
        runtime.redis.delete(RQScheduler.get_locking_key(q.name))
    try:
        deadline = time.monotonic() + within  # retries are scheduled whole seconds ahead
        while time.monotonic() < deadline:
            scheduler.acquire_locks()  # the scheduler only moves jobs of queues it locked
            scheduler.enqueue_scheduled_jobs()
            SimpleWorker(queues, connection=runtime.redis).work(burst=True)
            if project is None or _settled(runtime, project):
                return
            time.sleep(0.2)
    finally:
        scheduler.release_locks()
    raise AssertionError("the project's deliveries never settled")


def _settled(runtime: Runtime, project: Project) -> bool:
    with runtime.db.tenant(project.id) as conn:
        pending = conn.execute(
            text("SELECT count(*) FROM cairn.deliveries WHERE status = 'pending'")
        ).scalar_one()
        events_left = conn.execute(
            text("SELECT count(*) FROM cairn.events WHERE dispatched_at IS NULL")
        ).scalar_one()
    return pending == 0 and events_left == 0


def deliveries(runtime: Runtime, project: Project) -> list[Any]:
    with runtime.db.tenant(project.id) as conn:
        return list(
            conn.execute(text("SELECT * FROM cairn.deliveries ORDER BY created_at")).mappings()
        )


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    delays: list[float] = []
    original = delivery.backoff

    def recorded(attempt: int) -> float:
        delays.append(original(attempt))
        return delays[-1]

    monkeypatch.setattr(delivery, "BASE_DELAY_SECONDS", 0.05)
    monkeypatch.setattr(delivery, "backoff", recorded)
    return delays


def test_a_signed_delivery_reaches_the_receiver(
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    admin_key: IssuedKey,
    receiver: Receiver,
    hooked: dict[str, Any],
) -> None:
    note = create_note(client, project, admin_key, "hello")
    drain(runtime, project)
    [got] = receiver.received
    payload = Verifier(SECRET).verify(got.body, {k.lower(): v for k, v in got.headers.items()})
    assert payload["type"] == "record.created"
    assert payload["data"]["record"]["text"] == "hello"
    assert payload["data"]["record_id"] == note["id"] and payload["data"]["collection"] == "notes"
    [row] = deliveries(runtime, project)
    assert got.headers["webhook-id"] == str(row["id"])
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("succeeded", 1, 200)
    with pytest.raises(WebhookVerificationError):  # a tampered body does not verify
        Verifier(SECRET).verify(
            got.body.replace("hello", "HELLO"), {k.lower(): v for k, v in got.headers.items()}
        )


def test_two_failures_then_success_is_exactly_three_attempts_with_growing_delays(
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    admin_key: IssuedKey,
    receiver: Receiver,
    hooked: dict[str, Any],
    fast_retries: list[float],
) -> None:
    receiver.script = [500, 503, 200]
    create_note(client, project, admin_key)
    drain(runtime, project)
    assert len(receiver.received) == 3
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # receivers can dedupe
    assert len(fast_retries) == 2 and fast_retries[1] > fast_retries[0]
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    assert all(g >= d * 0.9 for g, d in zip(gaps, fast_retries, strict=True))
    [row] = deliveries(runtime, project)
    assert (row["status"], row["attempts"]) == ("succeeded", 3)


def test_a_receiver_that_always_fails_ends_failed_and_can_be_redelivered(
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    admin_key: IssuedKey,
    receiver: Receiver,
    hooked: dict[str, Any],
    fast_retries: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 3)
    receiver.script = [500]
    create_note(client, project, admin_key)
    drain(runtime, project)
    [row] = deliveries(runtime, project)
    assert (row["status"], row["attempts"], len(receiver.received)) == ("failed", 3, 3)
    base = f"/api/v1/projects/{project.slug}/webhooks/{hooked['id']}/deliveries"
    listed = client.get(base, headers=auth(admin_key)).get_json()["items"]
    assert [a["status_code"] for a in listed[0]["attempts_log"]] == [500, 500, 500]
    assert all(a["response_excerpt"] == "ok" for a in listed[0]["attempts_log"])
    receiver.script = [200]
    assert client.post(f"{base}/{row['id']}/redeliver", headers=auth(admin_key)).status_code == 202
    drain(runtime, project)
    [row] = deliveries(runtime, project)
    assert (row["status"], row["attempts"]) == ("succeeded", 4)
    again = client.post(f"{base}/{row['id']}/redeliver", headers=auth(admin_key))
    assert again.status_code == 202  # a succeeded delivery can be sent again too


def test_retry_after_is_honoured_and_4xx_is_final(
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    admin_key: IssuedKey,
    receiver: Receiver,
    hooked: dict[str, Any],
    fast_retries: list[float],
) -> None:
    receiver.script = [(429, {"Retry-After": "1"}), 400]
    create_note(client, project, admin_key)
    started = time.monotonic()
    drain(runtime, project)
    assert len(receiver.received) == 2
    assert receiver.received[1].at - receiver.received[0].at >= 0.9  # waited Retry-After
    assert time.monotonic() - started >= 0.9
    [row] = deliveries(runtime, project)
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("failed", 2, 400)


def test_private_targets_are_refused_at_delivery_time(
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    admin_key: IssuedKey,
    receiver: Receiver,
    hooked: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, webhook_allow_private=False))
    create_note(client, project, admin_key)
    drain(runtime, project)
    assert receiver.received == []
    [row] = deliveries(runtime, project)
    assert row["status"] == "failed" and row["last_error"].startswith("refused:")


def test_a_worker_killed_mid_delivery_leads_to_a_retry(
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    admin_key: IssuedKey,
    receiver: Receiver,
    hooked: dict[str, Any],
    env: dict[str, str],
) -> None:
    receiver.script = [("sleep", 30), 200]
    create_note(client, project, admin_key)
    run_queued(runtime)  # dispatch: the delivery is now queued on `webhooks`
    worker = subprocess.Popen(
        [sys.executable, "-m", "cairn", "worker", "--queues", "webhooks"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so the kill takes the forked work horse too, like a pod's
    )
    try:
        deadline = time.time() + 30
        while not receiver.received and time.time() < deadline:
            time.sleep(0.1)
        assert receiver.received, "the worker never started the delivery"
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its work horse, mid-request
        worker.wait(10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    [row] = deliveries(runtime, project)
    assert (row["status"], row["attempts"]) == ("pending", 1)  # claimed, never recorded
    with runtime.db.tenant(project.id) as conn:  # time passes: the lease runs out
        conn.execute(
            text("UPDATE cairn.deliveries SET next_attempt_at = now() - interval '1 hour'")
        )
    assert tasks.sweep_outbox() >= 1
    receiver.script = [200]
    drain(runtime, project)
    [row] = deliveries(runtime, project)
    assert (row["status"], row["attempts"]) == ("succeeded", 2)
    assert receiver.received[-1].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]


def test_events_and_collections_filter_what_is_delivered(
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    admin_key: IssuedKey,
    receiver: Receiver,
    hooked: dict[str, Any],
) -> None:
    note = create_note(client, project, admin_key)
    url = f"/api/v1/projects/{project.slug}/collections/notes/records/{note['id']}"
    client.delete(url, headers=auth(admin_key))  # record.deleted: not subscribed
    drain(runtime, project)
    assert [r.body.count("record.created") for r in receiver.received] == [1]
