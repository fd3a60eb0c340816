"""`cairn db upgrade`: roles, the control-plane schema, grants and Alembic, in one locked
transaction. Idempotent, and safe when two pods run it at once (an advisory lock serialises
them; the second finds nothing to do)."""

from __future__ import annotations

import logging
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import Connection, text

from cairn.db.engine import Database, app_role_password
from cairn.db.metadata import CONTROL_SCHEMA

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key: the bytes "cairnmig" read as a big-endian integer.
MIGRATION_LOCK_KEY = int.from_bytes(b"cairnmig", "big") >> 1


def alembic_config(conn: Connection, app_role: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("cairn_migrations")))
    config.attributes["connection"] = conn
    config.attributes["app_role"] = app_role
    return config


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(files("cairn_migrations")))
    return ScriptDirectory.from_config(config)


def head_revision() -> str | None:
    return _scripts().get_current_head()


def known_revisions() -> set[str]:
    """Every schema revision this version of Cairn can migrate from or to."""
    return {script.revision for script in _scripts().walk_revisions()}


def current_revision(conn: Connection) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table_schema": CONTROL_SCHEMA})
    return context.get_current_revision()


def upgrade(db: Database) -> str | None:
    """Bring roles, schema and tables to head; return the revision now in place."""
    with db.owner_engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        _ensure_roles(conn, db)
        conn.execute(text(f'SET LOCAL ROLE "{db.owner_role}"'))
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {CONTROL_SCHEMA}"))
        conn.execute(text(f'GRANT USAGE ON SCHEMA {CONTROL_SCHEMA} TO "{db.app_role}"'))
        command.upgrade(alembic_config(conn, db.app_role), "head")
        revision = current_revision(conn)
    log.info("database at revision %s", revision)
    return revision


def is_current(db: Database) -> bool:
    with db.owner_engine.connect() as conn:
        exists = conn.execute(
            text("SELECT to_regclass(:t) IS NOT NULL"),
            {"t": f"{CONTROL_SCHEMA}.alembic_version"},
        ).scalar_one()
        return bool(exists) and current_revision(conn) == head_revision()


def _ensure_roles(conn: Connection, db: Database) -> None:
    """The owner owns every object and cannot log in; the app role logs in, owns nothing and
    is subject to row-level security. Neither may ever be a superuser or bypass RLS."""
    raw = conn.connection.driver_connection
    owner, app = sql.Identifier(db.owner_role), sql.Identifier(db.app_role)
    existing = set(
        conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname IN (:o, :a)"),
            {"o": db.owner_role, "a": db.app_role},
        ).scalars()
    )
    statements: list[sql.Composable] = []
    if db.owner_role not in existing:
        statements.append(sql.SQL("CREATE ROLE {} NOLOGIN").format(owner))
    if db.app_role not in existing:
        statements.append(sql.SQL("CREATE ROLE {} LOGIN").format(app))
    password = sql.Literal(app_role_password(db.settings))
    database = sql.Identifier(conn.execute(text("SELECT current_database()")).scalar_one())
    statements += [
        sql.SQL("ALTER ROLE {} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE").format(owner),
        sql.SQL(
            "ALTER ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD {}"
        ).format(app, password),
        sql.SQL("GRANT CONNECT, CREATE ON DATABASE {} TO {}").format(database, owner),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, app),
        # The migrating login must be able to SET ROLE to the owner (a no-op for superusers).
        sql.SQL("GRANT {} TO CURRENT_USER").format(owner),
    ]
    for statement in statements:
        conn.exec_driver_sql(statement.as_string(raw))
