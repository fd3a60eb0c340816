"""`cairn db upgrade`: idempotent, and safe when two processes run it at once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cairn.config import Settings
from cairn.db import migrate
from cairn.db.engine import Database, sqlalchemy_url
from cairn.runtime import Runtime


def test_upgrade_twice_is_a_no_op(runtime: Runtime) -> None:
    assert migrate.upgrade(runtime.db) == migrate.head_revision()
    assert migrate.upgrade(runtime.db) == migrate.head_revision()
    assert migrate.is_current(runtime.db)


@pytest.fixture
def fresh_database(settings: Settings) -> Iterator[Settings]:
    """An empty database in the session's cluster, dropped afterwards."""
    name = f"cairn_fresh_{uuid.uuid4().hex[:8]}"
    admin = create_engine(sqlalchemy_url(settings.database_url or ""), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(settings.database_url or "").set(database=name)
    yield replace(settings, database_url=url.render_as_string(hide_password=False))
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_fresh_database_is_not_current_until_upgraded(fresh_database: Settings) -> None:
    db = Database(fresh_database)
    try:
        assert not migrate.is_current(db)
        migrate.upgrade(db)
        assert migrate.is_current(db)
    finally:
        db.dispose()


def test_two_concurrent_upgrades_both_succeed(fresh_database: Settings) -> None:
    results: list[str | None] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        db = Database(fresh_database)
        try:
            start.wait()
            results.append(migrate.upgrade(db))
        except BaseException as exc:
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert results == [migrate.head_revision()] * 2
