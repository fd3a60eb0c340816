"""Schedules: declared, ticking exactly once with two schedulers (the clock is driven, not
waited for), running their actions, and listed with next/last run."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, text, update
from standardwebhooks.webhooks import Webhook as Verifier

from cairn.auth.keys import IssuedKey
from cairn.errors import Invalid
from cairn.jobs import context
from cairn.runtime import Runtime
from cairn.schedules import service, tasks
from cairn.schedules.models import schedules
from cairn.tenancy.service import Project
from tests.conftest import CairnCli, auth
from tests.factories import apply_yaml, insert_rows, run_queued
from tests.integration.http.test_app import assert_problem
from tests.integration.webhooks.receiver import Receiver

MINUTE = "* * * * *"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"name": "x", "cron": "every minute", "action": {"type": "export", "collection": "c"}},
            "cron",
        ),
        (
            {"name": "x", "cron": "61 * * * *", "action": {"type": "export", "collection": "c"}},
            "cron",
        ),
        (
            {
                "name": "x",
                "cron": MINUTE,
                "timezone": "Mars/Base",
                "action": {"type": "export", "collection": "c"},
            },
            "timezone",
        ),
        ({"name": "x", "cron": MINUTE, "action": {"type": "nuke"}}, "action.type"),
        (
            {
                "name": "x",
                "cron": MINUTE,
                "action": {"type": "purge", "collection": "c", "older_than": "soon"},
            },
            "action.older_than",
        ),
        (
            {
                "name": "x",
                "cron": MINUTE,
                "action": {"type": "purge", "collection": "c", "older_than": "1d", "filter": "a ="},
            },
            "action.filter",
        ),
        (
            {"name": "x", "cron": MINUTE, "action": {"type": "webhook", "url": "ftp://x"}},
            "action.url",
        ),
        ({"name": "Bad", "cron": MINUTE, "action": {"type": "export", "collection": "c"}}, "name"),
        (
            {"name": "x", "cron": MINUTE, "action": {"type": "export", "collection": "c"}, "x": 1},
            "x",
        ),
    ],
)
def test_bad_schedules_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        service.load_schedule(data)
    assert field in caught.value.errors


def test_ticks_follow_the_schedules_time_zone() -> None:
    berlin = service.ScheduleDef(
        "n", "0 3 * * *", "Europe/Berlin", {"type": "export", "collection": "c"}
    )
    # 03:00 in Berlin is 02:00 UTC in winter and 01:00 UTC in summer (DST).
    assert service.next_tick(berlin, datetime(2030, 1, 10, tzinfo=UTC)) == datetime(
        2030, 1, 10, 2, tzinfo=UTC
    )
    assert service.next_tick(berlin, datetime(2030, 7, 10, tzinfo=UTC)) == datetime(
        2030, 7, 10, 1, tzinfo=UTC
    )


def _save(runtime: Runtime, project: Project, **definition: Any) -> service.Schedule:
    with runtime.db.tenant(project.id) as conn:
        return service.save_schedule(
            conn,
            runtime.webhook_box,
            project.id,
            service.load_schedule({"name": "every-minute", "cron": MINUTE, **definition}),
            actor="operator",
            allow_private=True,
        )


def _set_next(runtime: Runtime, project: Project, schedule_id: UUID, when: datetime) -> None:
    with runtime.db.tenant(project.id) as conn:
        conn.execute(
            update(schedules)
            .where(schedules.c.project_id == project.id, schedules.c.id == schedule_id)
            .values(next_run_at=when)
        )


def _runs(runtime: Runtime, project: Project) -> list[Any]:
    with runtime.db.tenant(project.id) as conn:
        return list(
            conn.execute(text("SELECT * FROM cairn.schedule_runs ORDER BY tick")).mappings()
        )


def test_every_minute_fires_once_per_tick_with_two_schedulers(
    runtime: Runtime, project: Project
) -> None:
    apply_yaml(runtime, project, "collections: [{name: c, fields: {a: {type: text}}}]")
    schedule = _save(runtime, project, action={"type": "export", "collection": "c"})
    _set_next(runtime, project, schedule.id, T0)
    context.use(runtime)
    for minute in range(3):
        now = T0 + timedelta(minutes=minute, seconds=5)
        barrier = threading.Barrier(2)

        def scheduler(now: datetime = now, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            tasks.tick_schedules(now)

        threads = [threading.Thread(target=scheduler) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        # One scheduler claims the tick, the other finds it taken: one run per tick so far.
        assert len(_runs(runtime, project)) == minute + 1
    ticks = [r["tick"] for r in _runs(runtime, project)]
    assert ticks == [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    with runtime.db.tenant(project.id) as conn:
        assert service.get_schedule(conn, project.id, schedule.id).next_run_at == T0 + timedelta(
            minutes=3
        )


def test_many_due_schedules_are_claimed_in_three_statements_once_each(
    runtime: Runtime, project: Project
) -> None:
    apply_yaml(runtime, project, "collections: [{name: c, fields: {a: {type: text}}}]")
    for i in range(6):
        schedule = _save(
            runtime, project, name=f"s{i}", action={"type": "export", "collection": "c"}
        )
        _set_next(runtime, project, schedule.id, T0)
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(args[2])

    with runtime.db.tenant(project.id) as conn:
        event.listen(conn, "before_cursor_execute", note)
        claimed = service.claim_due(conn, project.id, T0 + timedelta(seconds=5))
        event.remove(conn, "before_cursor_execute", note)
    assert len(claimed) == 6
    assert len(statements) == 3  # find the due ones, claim their runs, move them on
    # Two schedulers at the next tick: every schedule fires once, neither deadlocks.
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def scheduler() -> None:
        barrier.wait()
        with runtime.db.tenant(project.id) as conn:
            counts.append(len(service.claim_due(conn, project.id, T0 + timedelta(minutes=1))))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(counts) == [0, 6]
    assert len(_runs(runtime, project)) == 12


def test_missed_ticks_are_not_replayed(runtime: Runtime, project: Project) -> None:
    apply_yaml(runtime, project, "collections: [{name: c, fields: {a: {type: text}}}]")
    schedule = _save(runtime, project, action={"type": "export", "collection": "c"})
    _set_next(runtime, project, schedule.id, T0)
    context.use(runtime)
    tasks.tick_schedules(T0 + timedelta(hours=5))  # one catch-up run, not 300
    tasks.tick_schedules(T0 + timedelta(hours=5, seconds=30))
    assert [r["tick"] for r in _runs(runtime, project)] == [T0]
    with runtime.db.tenant(project.id) as conn:
        assert service.get_schedule(conn, project.id, schedule.id).next_run_at == T0 + timedelta(
            hours=5, minutes=1
        )


def test_purge_deletes_old_matching_records(runtime: Runtime, project: Project) -> None:
    apply_yaml(runtime, project, "collections: [{name: posts, fields: {status: {type: text}}}]")
    old = datetime.now(UTC) - timedelta(days=100)
    insert_rows(
        runtime,
        project,
        "posts",
        [
            {"status": "draft", "created_at": old},
            {"status": "published", "created_at": old},
            {"status": "draft", "created_at": datetime.now(UTC)},
        ],
    )
    schedule = _save(
        runtime,
        project,
        action={
            "type": "purge",
            "collection": "posts",
            "older_than": "90d",
            "filter": 'status = "draft"',
        },
    )
    _set_next(runtime, project, schedule.id, datetime.now(UTC) - timedelta(seconds=1))
    context.use(runtime)
    tasks.tick_schedules()
    run_queued(runtime)
    [run] = _runs(runtime, project)
    assert run["status"] == "succeeded" and run["result"]["deleted"] == 1
    with runtime.db.tenant(project.id) as conn:
        left = (
            conn.execute(text(f'SELECT status FROM "{project.schema_name}".posts ORDER BY status'))
            .scalars()
            .all()
        )
        last = service.get_schedule(conn, project.id, schedule.id)
    assert left == ["draft", "published"]
    assert last.last_status == "succeeded" and last.last_run_at is not None


def test_export_writes_json_lines(runtime: Runtime, project: Project) -> None:
    apply_yaml(runtime, project, "collections: [{name: notes, fields: {text: {type: text}}}]")
    insert_rows(runtime, project, "notes", [{"text": f"n{i}"} for i in range(3)])
    schedule = _save(runtime, project, action={"type": "export", "collection": "notes"})
    _set_next(runtime, project, schedule.id, datetime.now(UTC) - timedelta(seconds=1))
    context.use(runtime)
    tasks.tick_schedules()
    run_queued(runtime)
    [run] = _runs(runtime, project)
    path = Path(run["result"]["path"])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(line["text"] for line in lines) == ["n0", "n1", "n2"]
    assert path.is_relative_to(Path(runtime.settings.data_dir))


def test_webhook_action_posts_a_signed_tick_and_failures_are_recorded(
    runtime: Runtime, project: Project
) -> None:
    receiver = Receiver()
    receiver.start()
    try:
        schedule = _save(
            runtime,
            project,
            action={"type": "webhook", "url": receiver.url, "secret": "whsec_" + "ZZ" * 20},
        )
        _set_next(runtime, project, schedule.id, datetime.now(UTC) - timedelta(seconds=1))
        context.use(runtime)
        tasks.tick_schedules()
        run_queued(runtime)
        [got] = receiver.received
        body = Verifier("whsec_" + "ZZ" * 20).verify(
            got.body, {k.lower(): v for k, v in got.headers.items()}
        )
        assert body["type"] == "schedule.tick" and body["schedule"] == "every-minute"
        receiver.script = [500]
        _set_next(runtime, project, schedule.id, datetime.now(UTC) - timedelta(seconds=1))
        tasks.tick_schedules(datetime.now(UTC) + timedelta(seconds=2))
        run_queued(runtime)
        with runtime.db.tenant(project.id) as conn:
            last = service.get_schedule(conn, project.id, schedule.id)
        assert last.last_status == "failed" and "500" in (last.last_error or "")
    finally:
        receiver.stop()


def test_a_run_is_not_run_twice(runtime: Runtime, project: Project) -> None:
    apply_yaml(runtime, project, "collections: [{name: c, fields: {a: {type: text}}}]")
    schedule = _save(runtime, project, action={"type": "export", "collection": "c"})
    _set_next(runtime, project, schedule.id, T0)
    context.use(runtime)
    tasks.tick_schedules(T0)
    assert tasks.run_schedule(str(project.id), str(schedule.id), T0.isoformat()) == "succeeded"
    assert tasks.run_schedule(str(project.id), str(schedule.id), T0.isoformat()) == "already run"


def test_api_and_cli(
    client: FlaskClient, project: Project, admin_key: IssuedKey, cairn: CairnCli
) -> None:
    base = f"/api/v1/projects/{project.slug}/schedules"
    body = {
        "name": "nightly",
        "cron": "0 3 * * *",
        "timezone": "Europe/Berlin",
        "action": {"type": "webhook", "url": "http://127.0.0.1:9/tick", "secret": "s" * 30},
    }
    created = client.post(base, json=body, headers=auth(admin_key))
    assert created.status_code == 201, created.get_json()
    schedule = created.get_json()
    assert schedule["next_run_at"] and schedule["last_run_at"] is None
    assert "secret" not in schedule["action"] and "secret_sealed" not in schedule["action"]
    problem = assert_problem(
        client.post(base, json={**body, "name": "bad", "cron": "nope"}, headers=auth(admin_key)),
        422,
    )
    assert "cron" in problem["errors"]  # type: ignore[operator]
    assert_problem(client.post(base, json=body, headers=auth(admin_key)), 409)
    patched = client.patch(
        f"{base}/{schedule['id']}", json={"enabled": False}, headers=auth(admin_key)
    )
    assert patched.get_json()["enabled"] is False and patched.get_json()["next_run_at"] is None
    assert (
        client.get(f"{base}/{schedule['id']}/runs", headers=auth(admin_key)).get_json()["items"]
        == []
    )
    listed = cairn("schedules", "list", "-p", project.slug, "--json")
    assert [s["name"] for s in json.loads(listed.stdout)["items"]] == ["nightly"]
    assert "NEXT_RUN_AT" in cairn("schedules", "list", "-p", project.slug).stdout
    assert client.delete(f"{base}/{schedule['id']}", headers=auth(admin_key)).status_code == 204
    assert_problem(client.get(f"{base}/{schedule['id']}", headers=auth(admin_key)), 404)


def test_a_schedule_whose_host_is_gone_can_still_be_paused(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    schedule = _save(runtime, project, action={"type": "webhook", "url": "http://127.0.0.1:9/t"})
    gone = "http://receiver.invalid/tick"  # .invalid never resolves (RFC 6761)
    with runtime.db.tenant(project.id) as conn:
        conn.execute(
            text(
                "UPDATE cairn.schedules"
                " SET action = jsonb_set(action, '{url}', to_jsonb(CAST(:u AS text)))"
            ),
            {"u": gone},
        )
    one = f"/api/v1/projects/{project.slug}/schedules/{schedule.id}"
    paused = client.patch(one, json={"enabled": False}, headers=auth(admin_key))
    assert paused.status_code == 200, paused.get_json()
    assert (paused.get_json()["enabled"], paused.get_json()["action"]["url"]) == (False, gone)
    moved = client.patch(
        one,
        json={"action": {"type": "webhook", "url": "http://other.invalid/x"}},
        headers=auth(admin_key),
    )
    assert "does not resolve" in assert_problem(moved, 422)["errors"]["action.url"][0]  # type: ignore[index]
    assert client.get(one, headers=auth(admin_key)).get_json()["action"]["url"] == gone
