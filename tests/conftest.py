"""The test harness: one embedded Postgres and one embedded Redis per session, migrated once.

Isolation between tests comes from the tenant wall itself: every test makes its own projects
(see factories.py), so no test sees another's rows. Service tests that need no commit use
`tenant_conn`, a transaction rolled back at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection

from cairn.app import create_app
from cairn.auth.keys import IssuedKey
from cairn.cli.main import cli
from cairn.config import Settings, load_settings
from cairn.db import migrate
from cairn.embedded import EmbeddedServices
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.factories import make_key, make_project

TEST_SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cairn")


@pytest.fixture(scope="session")
def embedded(data_dir: Path) -> Iterator[EmbeddedServices]:
    services = EmbeddedServices(data_dir)
    services.start(postgres=True, redis=True)
    yield services
    services.stop()


@pytest.fixture(scope="session")
def env(embedded: EmbeddedServices, data_dir: Path) -> dict[str, str]:
    """CAIRN_* variables pointing at the session's servers, for the CLI and subprocesses."""
    return {
        "CAIRN_DATABASE_URL": embedded.urls["database"],
        "CAIRN_REDIS_URL": embedded.urls["redis"],
        "CAIRN_SECRET_KEY": TEST_SECRET_KEY,
        "CAIRN_DATA_DIR": str(data_dir),
        "CAIRN_LOG_LEVEL": "WARNING",
        # Test receivers listen on loopback.
        "CAIRN_WEBHOOK_ALLOW_PRIVATE": "1",
        "CAIRN_OAUTH_ALLOW_PRIVATE": "1",
        # Cheap hashes keep the suite fast; the benchmark measures the production parameters.
        "CAIRN_ARGON2_TIME_COST": "1",
        "CAIRN_ARGON2_MEMORY_KIB": "8192",
        "CAIRN_ARGON2_PARALLELISM": "1",
        # Tests sign in many times from one address; the limit itself is tested per project.
        "CAIRN_RATE_LIMIT_AUTH": "1000/minute",
    }


@pytest.fixture(scope="session")
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture(scope="session")
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    migrate.upgrade(rt.db)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def app(settings: Settings, runtime: Runtime) -> Flask:
    return create_app(settings, runtime)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def project(runtime: Runtime) -> Project:
    return make_project(runtime)


@pytest.fixture
def other_project(runtime: Runtime) -> Project:
    return make_project(runtime)


@pytest.fixture
def admin_key(runtime: Runtime, project: Project) -> IssuedKey:
    return make_key(runtime, project, scope="admin")


@pytest.fixture
def tenant_conn(runtime: Runtime, project: Project) -> Iterator[Connection]:
    """A tenant transaction for `project` that is rolled back after the test."""
    conn = runtime.db.app_engine.connect()
    tx = conn.begin()
    runtime.enter_claims(conn, project, {})
    yield conn
    tx.rollback()
    conn.close()


class CairnCli:
    """Runs `cairn …` in-process against the session's servers."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, **env: str) -> Result:
        # click's runner patches os.environ for the call; settings are read from there.
        return self.runner.invoke(
            cli, list(args), env={**self.env, **env}, input=input, catch_exceptions=False
        )


@pytest.fixture
def cairn(env: dict[str, str], runtime: Runtime) -> CairnCli:
    """`cairn …` against the session's (already migrated) database."""
    return CairnCli(env)


def auth(issued: IssuedKey | str) -> dict[str, Any]:
    token = issued if isinstance(issued, str) else issued.secret
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def _no_stray_cairn_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the fixtures, never from the developer's shell."""
    for key in list(os.environ):
        if key.startswith("CAIRN_"):
            monkeypatch.delenv(key)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true nothing may skip: a skip there is a missing install step, so it fails."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true: {report.longrepr}"
