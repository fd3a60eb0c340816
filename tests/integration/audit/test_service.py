"""Listing the audit log: filters, newest first, keyset pages, the tenant wall, the plan."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Connection, event, insert, text

from cairn.audit import service
from cairn.audit.models import audit_log
from cairn.db.ids import new_id
from cairn.errors import BadRequest
from cairn.runtime import Runtime
from cairn.tenancy.service import Project

ACTIONS = [
    "api_key.created",
    "api_key.revoked",
    "api_keyring.created",  # shares "api_key" but not "api_key."
    "api_key",  # no dot at all
    "apikey.created",
    "webhook.saved",
    "user.login_failed",
]


def add(conn: Connection, project: Project, action: str, **values: Any) -> UUID:
    """One entry, straight into the table (the app role may insert), so that its time and
    source can be chosen."""
    entry_id = new_id()
    row = {"actor": "operator", "detail": {}, **values}
    conn.execute(insert(audit_log).values(project_id=project.id, id=entry_id, action=action, **row))
    return entry_id


def ids(entries: list[service.AuditEntry]) -> list[UUID]:
    return [e.id for e in entries]


def listed(conn: Connection, project: Project, **filters: Any) -> list[UUID]:
    found, more = service.list_entries(conn, project.id, limit=500, **filters)
    assert not more
    return ids(found)


def test_entries_come_newest_first_with_every_column(
    tenant_conn: Connection, project: Project
) -> None:
    service.record(tenant_conn, project.id, "operator", "api_key.created", "k1", {"scope": "read"})
    tenant_conn.execute(text("SELECT set_config('cairn.source', '203.0.113.9', true)"))
    service.record(tenant_conn, project.id, "key:abc", "api_key.revoked", "k1")
    found, more = service.list_entries(tenant_conn, project.id, limit=10)
    assert not more
    newest, oldest = found
    assert (newest.actor, newest.action, newest.target) == ("key:abc", "api_key.revoked", "k1")
    assert (newest.detail, newest.source) == ({}, "203.0.113.9")
    assert (oldest.action, oldest.detail, oldest.source) == (
        "api_key.created",
        {"scope": "read"},
        None,
    )
    assert newest.id > oldest.id
    assert newest.occurred_at.tzinfo is not None
    assert abs(newest.occurred_at - datetime.now(UTC)) < timedelta(minutes=5)


def test_filters(tenant_conn: Connection, project: Project) -> None:
    made = {a: add(tenant_conn, project, a, actor=f"actor-{i % 2}", target=f"t{i % 3}")
            for i, a in enumerate(ACTIONS)}  # fmt: skip
    newest_first = sorted(made.values(), reverse=True)
    assert listed(tenant_conn, project) == newest_first

    assert listed(tenant_conn, project, action="api_key.created") == [made["api_key.created"]]
    assert listed(tenant_conn, project, action="api_key") == [made["api_key"]]
    assert listed(tenant_conn, project, action="api_key.") == [
        made["api_key.revoked"],
        made["api_key.created"],
    ]
    assert listed(tenant_conn, project, action="user.") == [made["user.login_failed"]]
    assert listed(tenant_conn, project, action="api_key.created.") == []
    assert listed(tenant_conn, project, action="nothing.") == []
    assert listed(tenant_conn, project, action="api") == []  # exact, not a prefix

    by_actor = [made[a] for i, a in enumerate(ACTIONS) if i % 2 == 1]
    assert listed(tenant_conn, project, actor="actor-1") == sorted(by_actor, reverse=True)
    by_target = [made[a] for i, a in enumerate(ACTIONS) if i % 3 == 0]
    assert listed(tenant_conn, project, target="t0") == sorted(by_target, reverse=True)
    # Filters combine with AND, on the prefix path too.
    assert listed(tenant_conn, project, action="api_key.", actor="actor-0") == [
        made["api_key.created"]
    ]
    assert listed(tenant_conn, project, action="api_key.", target="t1") == [made["api_key.revoked"]]
    assert listed(tenant_conn, project, action="webhook.saved", actor="actor-0") == []


def test_since_is_inclusive_and_until_exclusive(tenant_conn: Connection, project: Project) -> None:
    base = datetime(2030, 5, 1, 12, tzinfo=UTC)
    made = [
        add(tenant_conn, project, "x.y", occurred_at=base + timedelta(hours=h)) for h in range(4)
    ]
    at = [base + timedelta(hours=h) for h in range(4)]
    assert listed(tenant_conn, project, since=at[1]) == made[:0:-1]
    assert listed(tenant_conn, project, until=at[2]) == [made[1], made[0]]
    assert listed(tenant_conn, project, since=at[1], until=at[3]) == [made[2], made[1]]
    assert listed(tenant_conn, project, since=at[1], until=at[3], action="x.") == [
        made[2],
        made[1],
    ]
    # Offsets are honoured: 14:00+02:00 is 12:00 UTC.
    plus_two = datetime.fromisoformat("2030-05-01T14:00:00+02:00")
    assert listed(tenant_conn, project, since=plus_two) == made[::-1]


@pytest.mark.parametrize("action", [None, "page.created", "page."])
def test_pages_never_skip_or_repeat(
    tenant_conn: Connection, project: Project, action: str | None
) -> None:
    actions = ["page.created", "page.deleted", "other.thing"]
    for i in range(12):
        add(tenant_conn, project, actions[i % 3])
    expected = listed(tenant_conn, project, action=action)
    seen: list[UUID] = []
    before = None
    pages = 0
    while True:
        found, more = service.list_entries(
            tenant_conn, project.id, action=action, limit=3, before=before
        )
        pages += 1
        seen += ids(found)
        # Entries appended while paging are newer than every page: none of them shows up.
        add(tenant_conn, project, "page.created")
        if not more:
            break
        before = found[-1].id
    assert seen == expected and len(set(seen)) == len(seen)
    assert pages == -(-len(expected) // 3)


def test_a_full_last_page_says_no_more(tenant_conn: Connection, project: Project) -> None:
    made = [add(tenant_conn, project, "a.b") for _ in range(4)]
    first, more = service.list_entries(tenant_conn, project.id, limit=2)
    assert (ids(first), more) == ([made[3], made[2]], True)
    last, more = service.list_entries(tenant_conn, project.id, limit=2, before=first[-1].id)
    assert (ids(last), more) == ([made[1], made[0]], False)


def test_another_projects_entries_never_appear(
    runtime: Runtime, project: Project, other_project: Project
) -> None:
    with runtime.db.tenant(other_project.id) as conn:
        for action in ("api_key.created", "secret.thing"):
            service.record(conn, other_project.id, "operator", action, "theirs")
    with runtime.db.tenant(project.id) as conn:
        service.record(conn, project.id, "operator", "api_key.created", "ours")
    with runtime.db.tenant(project.id) as conn:
        for filters in (
            {},
            {"action": "api_key."},
            {"action": "secret.thing"},
            {"target": "theirs"},
        ):
            found, _ = service.list_entries(conn, project.id, limit=50, **filters)
            assert {e.target for e in found} <= {"ours"}, filters
        # Naming the other project does not get past the wall either.
        for filters in ({}, {"action": "api_key."}, {"action": "api_key.created"}):
            assert service.list_entries(conn, other_project.id, limit=50, **filters) == ([], False)
    with runtime.db.tenant(other_project.id) as conn:
        found, _ = service.list_entries(conn, other_project.id, limit=50)
        assert sorted(e.action for e in found) == ["api_key.created", "secret.thing"]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"limit": 0}, "limit"),
        ({"action": ""}, "action must not be empty"),
        ({"actor": ""}, "actor must not be empty"),
        ({"action": "a" * 101}, "at most 100"),
        ({"target": "t" * 201}, "at most 200"),
        ({"actor": "a\x00b"}, "NUL"),
        ({"action": "x.\x00."}, "NUL"),
        (
            {"since": datetime(2030, 1, 1, tzinfo=UTC), "until": datetime(2030, 1, 1, tzinfo=UTC)},
            "since must be earlier than until",
        ),
    ],
)
def test_bad_filters_are_refused(
    tenant_conn: Connection, project: Project, filters: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        service.list_entries(tenant_conn, project.id, **{"limit": 10, **filters})


@pytest.mark.parametrize(
    ("text_", "expected"),
    [
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01t12:00:00z", datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01 14:00:00.5+02:00", datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2024-05-01T12:00:00-00:30", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
    ],
)
def test_parse_time(text_: str, expected: datetime) -> None:
    parsed = service.parse_time(text_, "since")
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text_",
    [
        "2024-05-01",
        "2024-05-01T12:00:00",  # no offset
        "2024-05-01T12:00Z",  # no seconds
        "2024-05-01T12:00:00 02:00",  # a + lost in a URL
        "2024-13-01T12:00:00Z",
        "2024-02-30T12:00:00Z",
        "0001-01-01T00:00:00+01:00",  # year 0 in UTC
        "9999-12-31T23:00:00-02:00",  # year 10000 in UTC
        "yesterday",
        "",
    ],
)
def test_parse_time_refuses(text_: str) -> None:
    with pytest.raises(BadRequest, match="since"):
        service.parse_time(text_, "since")


# -- the plan ------------------------------------------------------------------------------


@contextmanager
def statements(conn: Connection) -> Iterator[list[tuple[str, Any]]]:
    """The statements `conn` sends while the block runs."""
    sent: list[tuple[str, Any]] = []

    def note(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(conn, "before_cursor_execute", note)


def plan_of(conn: Connection, project: Project, **filters: Any) -> str:
    """The plan of the one statement a page costs, as the app role under RLS (run: only then
    does EXPLAIN show the subplan of the recursive step)."""
    with statements(conn) as sent:
        service.list_entries(conn, project.id, limit=50, before=new_id(), **filters)
    assert len(sent) == 1, sent
    statement, parameters = sent[0]
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, VERBOSE) {statement}", parameters)
        return "\n".join(row[0] for row in rows)
    finally:
        conn.execute(text("SET LOCAL enable_seqscan = on"))


@pytest.fixture
def busy_log(tenant_conn: Connection, project: Project) -> Connection:
    rows = [
        {
            "project_id": project.id,
            "id": new_id(),
            "actor": "operator",
            "action": ACTIONS[i % len(ACTIONS)],
            "detail": {},
        }
        for i in range(3000)
    ]
    tenant_conn.execute(insert(audit_log), rows)
    return tenant_conn


def test_the_default_listing_reads_the_primary_key_backwards(
    busy_log: Connection, project: Project, runtime: Runtime
) -> None:
    assert busy_log.execute(text("SELECT current_user")).scalar() == runtime.settings.db_app_role
    plan = plan_of(busy_log, project)
    assert "Index Scan Backward using pk_audit_log" in plan, plan
    assert "Sort" not in plan and "Seq Scan" not in plan, plan
    plan = plan_of(busy_log, project, since=datetime(2020, 1, 1, tzinfo=UTC))  # covers all
    assert "Index Scan Backward using pk_audit_log" in plan, plan
    assert "Sort" not in plan, plan


def test_an_action_reads_the_action_index_backwards(busy_log: Connection, project: Project) -> None:
    plan = plan_of(busy_log, project, action="api_key.created")
    assert "Index Scan Backward using ix_audit_log_project_id_action_id" in plan, plan
    assert "Sort" not in plan and "Seq Scan" not in plan, plan
    # The action is an index condition, not a filter applied after reading every row.
    condition = plan.split("Index Cond:")[1].splitlines()[0]
    assert "action" in condition, plan


def test_an_action_prefix_probes_the_action_index(busy_log: Connection, project: Project) -> None:
    plan = plan_of(busy_log, project, action="api_key.")
    assert "Seq Scan" not in plan, plan
    conditions = [
        re.sub(r"[()]|::text", "", line) for line in plan.splitlines() if "Index Cond:" in line
    ]
    # A loose scan of the distinct actions, one index probe each …
    assert any("action > actions" in line for line in conditions), plan
    # … then each matching action's newest entries, read backwards.
    assert "Index Scan Backward using ix_audit_log_project_id_action_id" in plan, plan
    assert any("= actions.action" in line for line in conditions), plan
    # Only those few heads are sorted, never the project's whole log.
    found, more = service.list_entries(busy_log, project.id, action="api_key.", limit=5)
    assert more and {e.action for e in found} <= {"api_key.created", "api_key.revoked"}


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({"target": "key-17"}, "ix_audit_log_project_id_target_id"),
        ({"actor": "admin:someone-else"}, "ix_audit_log_project_id_actor_id"),
    ],
)
def test_a_target_or_actor_reads_its_index_backwards(
    busy_log: Connection, project: Project, filters: dict[str, str], index: str
) -> None:
    plan = plan_of(busy_log, project, **filters)
    assert f"Index Scan Backward using {index}" in plan, plan
    assert "Sort" not in plan and "Seq Scan" not in plan, plan
    column = next(iter(filters))
    assert column in plan.split("Index Cond:")[1].splitlines()[0], plan


def test_a_window_long_past_is_a_range_of_the_time_index(
    busy_log: Connection, project: Project
) -> None:
    window = {"since": datetime(2020, 1, 1, tzinfo=UTC), "until": datetime(2020, 2, 1, tzinfo=UTC)}
    plan = plan_of(busy_log, project, **window)
    assert "ix_audit_log_project_id_occurred_at" in plan, plan
    condition = plan.split("Index Cond:")[1].splitlines()[0]
    assert "occurred_at >=" in condition and "occurred_at <" in condition, plan
    # Every busy entry is newer than the window: none is read, let alone returned.
    assert "rows=0" in plan.split("ix_audit_log_project_id_occurred_at")[1].splitlines()[0]
    assert service.list_entries(busy_log, project.id, limit=50, **window) == ([], False)
