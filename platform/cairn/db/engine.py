"""The two ways into Postgres.

- `owner`: the migrator/DDL path. Connects with CAIRN_DATABASE_URL and switches to the owner
  role for the transaction, so every object it creates belongs to that role.
- `tenant`: the runtime path. Connects as the app role (NOSUPERUSER NOBYPASSRLS, owns nothing)
  and opens one transaction that names its project before any statement runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from cairn.config import Settings
from cairn.crypto import derive_key
from cairn.db.tenant import enter_tenant

_AFTER_COMMIT = "cairn.after_commit"


@dataclass(frozen=True)
class PendingJob:
    """A job to enqueue once the transaction that asked for it has committed."""

    queue: str
    function: str
    args: tuple[str, ...]
    job_id: str
    delay_seconds: float = 0.0
    # The project the job works for: it shows in that project's /jobs, and only there.
    project_id: UUID | None = None


Committed = list[PendingJob]


def after_commit(conn: Connection, job: PendingJob) -> None:
    """Hand `job` to `Database.on_commit` once this transaction commits; nothing is handed
    over if it rolls back."""
    conn.info.setdefault(_AFTER_COMMIT, []).append(job)


def sqlalchemy_url(url: str) -> URL:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg")


def app_role_password(settings: Settings) -> str:
    return derive_key(settings.require_secret_key(), "db-app-role").hex()


def app_url(settings: Settings) -> URL:
    """The runtime role's URL: explicit, or the admin URL with the app role's credentials."""
    if settings.app_database_url:
        return sqlalchemy_url(settings.app_database_url)
    if settings.database_url is None:
        raise RuntimeError("database URL not resolved; start the embedded services first")
    return sqlalchemy_url(settings.database_url).set(
        username=settings.db_app_role, password=app_role_password(settings)
    )


class Database:
    def __init__(self, settings: Settings) -> None:
        if settings.database_url is None:
            raise RuntimeError("database URL not resolved; start the embedded services first")
        self.settings = settings
        self.owner_role = settings.db_owner_role
        self.app_role = settings.db_app_role
        # Called with what committed transactions noted via after_commit (the Runtime hands
        # events to the queue); None drops them (the sweeper picks them up).
        self.on_commit: Callable[[Committed], None] | None = None
        self.owner_engine: Engine = create_engine(
            sqlalchemy_url(settings.database_url),
            pool_size=2,
            max_overflow=2,
            pool_pre_ping=True,
            connect_args={"application_name": "cairn-owner"},
        )
        # No pre-ping on the hot path: a round trip per request. A connection lost to a
        # restart fails one request (503) and SQLAlchemy then invalidates the whole pool.
        self.app_engine: Engine = create_engine(
            app_url(settings),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            pool_recycle=1800,
            connect_args={"application_name": "cairn"},
        )

    @contextmanager
    def owner(
        self, project_id: UUID | None = None, *, source: str | None = None
    ) -> Iterator[Connection]:
        """A transaction as the owner role: DDL and project lifecycle only. With a project,
        the transaction is scoped to it like a request (the owner is subject to forced RLS),
        and `source` says where what it audits came from (a client address, "cli")."""
        with self.owner_engine.begin() as conn:
            conn.execute(text(f'SET LOCAL ROLE "{self.owner_role}"'))
            if project_id is not None:
                claims = {"source": source} if source else {}
                enter_tenant(conn, self.settings.tenant_context, project_id, claims)
            yield conn

    @contextmanager
    def owner_autocommit(self) -> Iterator[Connection]:
        """The owner role outside a transaction: for DDL that cannot run inside one
        (CREATE INDEX CONCURRENTLY)."""
        with self.owner_engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text(f'SET ROLE "{self.owner_role}"'))
            try:
                yield conn
            finally:
                conn.execute(text("RESET ROLE"))

    @contextmanager
    def tenant(
        self, project_id: UUID, claims: Mapping[str, str] | None = None
    ) -> Iterator[Connection]:
        """One transaction as the app role, scoped to one project."""
        with self._app_transaction() as conn:
            enter_tenant(conn, self.settings.tenant_context, project_id, claims or {})
            yield conn

    @contextmanager
    def snapshot(
        self, project_id: UUID, claims: Mapping[str, str] | None = None
    ) -> Iterator[Connection]:
        """A read-only transaction as the app role, scoped to one project, in which every
        statement sees the same moment (REPEATABLE READ): for exports taken while the
        project keeps taking writes."""
        with self.app_engine.connect() as conn:
            conn = conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            with conn.begin():
                enter_tenant(conn, self.settings.tenant_context, project_id, claims or {})
                yield conn

    @contextmanager
    def _app_transaction(self) -> Iterator[Connection]:
        committed: Committed = []
        with self.app_engine.connect() as conn:
            try:
                with conn.begin():
                    yield conn
                    committed = conn.info.pop(_AFTER_COMMIT, [])
            finally:
                conn.info.pop(_AFTER_COMMIT, None)  # never leak into the next pool user
        if committed and self.on_commit is not None:
            self.on_commit(committed)

    @contextmanager
    def request(self) -> Iterator[Connection]:
        """A request's transaction as the app role. Its first statement must enter the
        tenant (auth.keys.enter_with_key does); until then it sees no tenant row."""
        with self._app_transaction() as conn:
            yield conn

    @contextmanager
    def unscoped(self) -> Iterator[Connection]:
        """A transaction as the app role with no project: sees the project directory only."""
        with self.app_engine.begin() as conn:
            yield conn

    def forget_connections(self) -> None:
        """In a forked child: drop the inherited pools without closing the parent's sockets."""
        self.owner_engine.dispose(close=False)
        self.app_engine.dispose(close=False)

    def dispose(self) -> None:
        self.owner_engine.dispose()
        self.app_engine.dispose()
