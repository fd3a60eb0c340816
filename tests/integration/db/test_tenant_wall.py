"""The tenant wall, proven against the real database as the real app role.

(a) no tenant context → zero rows in every tenant table;
(b) project A's context → nothing of project B is visible or writable, even by hand-written SQL;
(c) a context set in one transaction is gone for the next user of the same pooled connection.
`test_the_zero_rows_check_would_catch_disabled_rls` proves check (a) can fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError

from cairn.auth.principal import operator
from cairn.db.engine import Database
from cairn.db.metadata import CONTROL_SCHEMA
from cairn.db.models import TENANT_TABLES
from cairn.idempotency import service as idempotency
from cairn.mail import service as mail
from cairn.records import collection as collections
from cairn.records import service as records
from cairn.runtime import Runtime
from cairn.schedules import service as schedule_service
from cairn.tenancy.service import Project
from cairn.users import service as users
from cairn.users import tokens
from cairn.webhooks import delivery
from cairn.webhooks import service as webhook_service
from tests.factories import apply_yaml, make_key, make_project

TENANT_TABLE_NAMES = sorted(t.name for t in TENANT_TABLES)


NOTES = "collections: [{name: notes, fields: {body: {type: text}}}]"


@pytest.fixture
def two_projects(runtime: Runtime) -> tuple[Project, Project]:
    """Two projects with rows in every tenant table: a key (api_keys + audit_log), a
    collection (the registry + its own table) holding one record (+ its event), an
    idempotency key, a webhook with a delivery and an attempt, a schedule with a run, a mail."""
    a, b = make_project(runtime), make_project(runtime)
    for project in (a, b):
        make_key(runtime, project, scope="read")
        apply_yaml(runtime, project, NOTES)
        with runtime.db.tenant(project.id) as conn:
            notes = collections.load(conn, project, "notes")
            records.create_record(
                conn, notes, operator(project.id), {"body": f"secret of {project.slug}"}
            )  # writes the record and its outbox event
            idempotency.claim(conn, project.id, "operator", "k", b"\0" * 32)
            mail.send_mail(
                conn, project.id, to="a@example.test", subject="s", text="t", smtp_configured=False
            )
            webhook_service.save_webhook(
                conn,
                runtime.webhook_box,
                project.id,
                webhook_service.load_webhook(
                    {"name": "hook", "url": "http://127.0.0.1:9/x", "events": ["record.created"]}
                ),
                actor="operator",
                allow_private=True,
            )
            schedule = schedule_service.save_schedule(
                conn,
                runtime.webhook_box,
                project.id,
                schedule_service.load_schedule(
                    {
                        "name": "s",
                        "cron": "* * * * *",
                        "action": {"type": "export", "collection": "notes"},
                    }
                ),
                actor="operator",
                allow_private=True,
            )
            assert schedule.next_run_at is not None
            schedule_service.claim_due(conn, project.id, schedule.next_run_at)  # a run row
            event = conn.execute(text("SELECT id FROM cairn.events")).scalar_one()
            delivery.fan_out(conn, project.id, event, "record.created", "notes")
            claimed = conn.execute(text("SELECT id FROM cairn.deliveries")).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO cairn.delivery_attempts (project_id, delivery_id, attempt, "
                    "started_at, duration_ms) VALUES (:p, :d, 1, now(), 1)"
                ),
                {"p": project.id, "d": claimed},
            )
            # An end user with a session, a mailed token, a linked identity, a provider and
            # a pending OAuth login.
            kit = runtime.user_auth
            user = users.create_user(
                conn, kit, project, email="u@example.test", password="a fine passphrase",
                profile={}, actor="operator",
            )  # fmt: skip
            users.start_session(conn, kit, project, user, method="password", ip=None,
                                user_agent=None)  # fmt: skip
            tokens.issue(conn, kit.token_pepper, project.id, user.id, "password_reset")
            conn.execute(
                text(
                    "INSERT INTO cairn.auth_providers (project_id, id, name, definition, "
                    "client_secret) VALUES (:p, gen_random_uuid(), 'corp', '{}', '\\x00')"
                ),
                {"p": project.id},
            )
            conn.execute(
                text(
                    "INSERT INTO cairn.oauth_identities (project_id, provider, subject, user_id) "
                    "VALUES (:p, 'corp', 'sub', :u)"
                ),
                {"p": project.id, "u": user.id},
            )
            conn.execute(
                text(
                    "INSERT INTO cairn.oauth_states (project_id, state_hash, provider, sealed, "
                    "expires_at) VALUES (:p, '\\x01', 'corp', '\\x00', now())"
                ),
                {"p": project.id},
            )
    return a, b


def _count(conn: Connection, table: str, where: str = "true") -> int:
    return int(
        conn.execute(text(f"SELECT count(*) FROM {CONTROL_SCHEMA}.{table} WHERE {where}")).scalar()
        or 0
    )


def test_every_table_holding_project_rows_is_declared_a_tenant_table(runtime: Runtime) -> None:
    with runtime.db.owner() as conn:
        with_project_id = conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'project_id' "
                "WHERE n.nspname = :s AND c.relkind = 'r' ORDER BY 1"
            ),
            {"s": CONTROL_SCHEMA},
        ).scalars()
        assert sorted(with_project_id) == TENANT_TABLE_NAMES


@pytest.mark.parametrize("table", TENANT_TABLE_NAMES)
def test_tenant_tables_have_forced_rls_and_project_id_leads_the_key(
    runtime: Runtime, table: str
) -> None:
    with runtime.db.owner() as conn:
        row = conn.execute(
            text(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies, "
                "(SELECT a.attname FROM pg_index i JOIN pg_attribute a "
                "   ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
                "   WHERE i.indrelid = c.oid AND i.indisprimary) AS leading_pk "
                "FROM pg_class c WHERE c.oid = CAST(:t AS regclass)"
            ),
            {"t": f"{CONTROL_SCHEMA}.{table}"},
        ).one()
    assert row.relrowsecurity and row.relforcerowsecurity
    assert row.policies >= 1
    assert row.leading_pk == "project_id"


@pytest.mark.parametrize("table", TENANT_TABLE_NAMES)
def test_a_without_context_sees_zero_rows(
    runtime: Runtime, two_projects: tuple[Project, Project], table: str
) -> None:
    with runtime.db.unscoped() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == runtime.db.app_role
        assert _count(conn, table) == 0


@pytest.mark.parametrize("table", TENANT_TABLE_NAMES)
def test_the_zero_rows_check_would_catch_disabled_rls(
    runtime: Runtime, two_projects: tuple[Project, Project], table: str
) -> None:
    """Mutation check: switch this table's RLS off (rolled back) and the same query as the same
    role sees rows. If it did not, test (a) above would prove nothing."""
    with runtime.db.owner_engine.connect() as conn, conn.begin() as tx:
        conn.execute(text(f"ALTER TABLE {CONTROL_SCHEMA}.{table} DISABLE ROW LEVEL SECURITY"))
        conn.execute(text(f'SET LOCAL ROLE "{runtime.db.app_role}"'))
        assert _count(conn, table) > 0
        tx.rollback()


@pytest.mark.parametrize("table", TENANT_TABLE_NAMES)
def test_b_a_context_sees_only_its_own_rows(
    runtime: Runtime, two_projects: tuple[Project, Project], table: str
) -> None:
    a, b = two_projects
    with runtime.db.tenant(a.id) as conn:
        assert _count(conn, table) > 0
        assert _count(conn, table, f"project_id <> '{a.id}'") == 0
        assert _count(conn, table, f"project_id = '{b.id}'") == 0


def test_b_other_projects_rows_cannot_be_changed_or_deleted(
    runtime: Runtime, two_projects: tuple[Project, Project]
) -> None:
    a, b = two_projects
    with runtime.db.tenant(a.id) as conn:
        updated = conn.execute(
            text("UPDATE cairn.api_keys SET name = 'pwned' WHERE project_id = :b"), {"b": b.id}
        )
        deleted = conn.execute(
            text("DELETE FROM cairn.api_keys WHERE project_id = :b"), {"b": b.id}
        )
        assert updated.rowcount == 0 and deleted.rowcount == 0
    with runtime.db.tenant(b.id) as conn:
        assert _count(conn, "api_keys", "name = 'pwned'") == 0
        assert _count(conn, "api_keys") == 1


@pytest.mark.parametrize(
    "statement",
    [
        # Insert a row into another project.
        "INSERT INTO cairn.api_keys (project_id, id, name, prefix, key_hash, scope) "
        "VALUES (:b, gen_random_uuid(), 'x', 'ck_x', '\\x00', 'admin')",
        # Move one's own row into another project.
        "UPDATE cairn.api_keys SET project_id = :b",
        "INSERT INTO cairn.audit_log (project_id, id, actor, action) "
        "VALUES (:b, gen_random_uuid(), 'x', 'x')",
    ],
)
def test_b_rows_cannot_be_written_into_another_project(
    runtime: Runtime, two_projects: tuple[Project, Project], statement: str
) -> None:
    a, b = two_projects
    with pytest.raises(ProgrammingError, match="row-level security"):
        with runtime.db.tenant(a.id) as conn:
            conn.execute(text(statement), {"b": b.id})


@pytest.mark.parametrize("table", ["api_keys", "audit_log"])
def test_b_bypass_attempts_by_hand_written_sql_fail(
    runtime: Runtime, two_projects: tuple[Project, Project], table: str
) -> None:
    a, _ = two_projects
    with runtime.db.tenant(a.id) as conn:
        # The app role can neither switch row security off nor become the owner.
        with pytest.raises(ProgrammingError):
            with conn.begin_nested():
                conn.execute(text("SET LOCAL row_security = off"))
                conn.execute(text(f"SELECT count(*) FROM {CONTROL_SCHEMA}.{table}"))
        with pytest.raises(ProgrammingError, match="permission denied"):
            with conn.begin_nested():
                conn.execute(text(f'SET LOCAL ROLE "{runtime.db.owner_role}"'))


@pytest.fixture
def single_connection_db(runtime: Runtime) -> Iterator[Database]:
    db = Database(replace(runtime.settings, db_pool_size=1))
    yield db
    db.dispose()


def test_c_context_does_not_leak_to_the_next_transaction_on_a_pooled_connection(
    single_connection_db: Database, two_projects: tuple[Project, Project]
) -> None:
    a, _ = two_projects
    with single_connection_db.tenant(a.id, {"user_id": "u-1"}) as conn:
        first_backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        assert conn.execute(text("SELECT current_setting('cairn.project_id')")).scalar() == str(
            a.id
        )
        assert _count(conn, "api_keys") == 1
    with single_connection_db.unscoped() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == first_backend
        leftover = conn.execute(
            text(
                "SELECT coalesce(current_setting('cairn.project_id', true), ''), "
                "coalesce(current_setting('cairn.user_id', true), '')"
            )
        ).one()
        assert tuple(leftover) == ("", "")
        assert _count(conn, "api_keys") == 0


def test_set_local_mode_builds_the_same_wall(
    runtime: Runtime, two_projects: tuple[Project, Project]
) -> None:
    """The Citus form of the context (SET LOCAL) scopes exactly like set_config."""
    a, b = two_projects
    db = Database(replace(runtime.settings, tenant_context="set_local", db_pool_size=1))
    try:
        with db.tenant(a.id, {"scope": "it's quoted"}) as conn:
            assert conn.execute(text("SELECT current_setting('cairn.scope')")).scalar() == (
                "it's quoted"
            )
            assert _count(conn, "api_keys") == 1
            assert _count(conn, "api_keys", f"project_id = '{b.id}'") == 0
        with db.unscoped() as conn:
            assert _count(conn, "api_keys") == 0
    finally:
        db.dispose()


@pytest.mark.parametrize("table", TENANT_TABLE_NAMES)
def test_the_policy_reads_the_project_once_per_statement(
    runtime: Runtime, two_projects: tuple[Project, Project], table: str
) -> None:
    """`(SELECT current_setting(...))` is an InitPlan evaluated once, not a call per row."""
    a, _ = two_projects
    with runtime.db.tenant(a.id) as conn:
        plan = "\n".join(
            conn.execute(text(f"EXPLAIN SELECT * FROM {CONTROL_SCHEMA}.{table}")).scalars()
        )
    assert "InitPlan" in plan
    assert "current_setting" not in plan.split("InitPlan")[0]


def _notes(project: Project) -> str:
    return f'"{project.schema_name}".notes'


def test_a_collection_tables_without_context_show_zero_rows(
    runtime: Runtime, two_projects: tuple[Project, Project]
) -> None:
    with runtime.db.unscoped() as conn:
        for project in two_projects:
            assert conn.execute(text(f"SELECT count(*) FROM {_notes(project)}")).scalar() == 0


def test_b_collection_tables_of_another_project_are_invisible_and_unwritable(
    runtime: Runtime, two_projects: tuple[Project, Project]
) -> None:
    a, b = two_projects
    with runtime.db.tenant(a.id) as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {_notes(a)}")).scalar() == 1
        assert conn.execute(text(f"SELECT count(*) FROM {_notes(b)}")).scalar() == 0
        assert conn.execute(text(f"UPDATE {_notes(b)} SET body = 'x'")).rowcount == 0
        assert conn.execute(text(f"DELETE FROM {_notes(b)}")).rowcount == 0
    with pytest.raises(ProgrammingError, match="row-level security"):
        with runtime.db.tenant(a.id) as conn:
            conn.execute(text(f"INSERT INTO {_notes(b)} (id) VALUES (gen_random_uuid())"))
    with runtime.db.tenant(b.id) as conn:
        assert conn.execute(text(f"SELECT body FROM {_notes(b)}")).scalars().all() == [
            f"secret of {b.slug}"
        ]


def test_the_collection_wall_check_would_catch_disabled_rls(
    runtime: Runtime, two_projects: tuple[Project, Project]
) -> None:
    _, b = two_projects
    with runtime.db.owner_engine.connect() as conn, conn.begin() as tx:
        conn.execute(text(f"ALTER TABLE {_notes(b)} DISABLE ROW LEVEL SECURITY"))
        conn.execute(text(f'SET LOCAL ROLE "{runtime.db.app_role}"'))
        assert conn.execute(text(f"SELECT count(*) FROM {_notes(b)}")).scalar() == 1
        tx.rollback()
