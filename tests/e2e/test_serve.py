"""`cairn serve` exactly as a new user runs it: nothing installed, nothing configured."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.serve import ServeProcess, run_cli


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_serve_embedded_first_start_restart_and_graceful_stop(data_dir: Path) -> None:
    first = ServeProcess(data_dir)
    first.start()
    try:
        ready = httpx.get(first.base + "/readyz").json()
        assert ready == {"status": "ready", "db": "ok", "redis": "ok"}
        # The CLI shares the running embedded database.
        listed = run_cli(data_dir, "projects", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert [p["slug"] for p in json.loads(listed.stdout)["items"]] == ["default"]
    finally:
        assert first.stop() == 0
    key = first.bootstrap_key()
    assert key is not None, first.stdout
    assert "postgres=embedded redis=embedded" in first.stdout
    assert key not in first.stderr, "a secret reached the logs"
    # Graceful stop: gunicorn drained and nothing of ours is left running.
    assert '"Shutting down: Master"' in first.stderr
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert (data_dir / "secret_key").exists()

    second = ServeProcess(data_dir, first.port)
    second.start()
    try:
        response = httpx.get(
            second.base + "/api/v1/projects/default/api-keys",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200, response.text
        assert [k["name"] for k in response.json()["items"]] == ["bootstrap"]
    finally:
        assert second.stop() == 0
    assert second.bootstrap_key() is None, "the bootstrap key is printed on the first start only"


def test_cli_on_a_fresh_embedded_data_dir_migrates_and_works(data_dir: Path) -> None:
    created = run_cli(data_dir, "projects", "create", "shop", "--json")
    assert created.returncode == 0, created.stderr
    key = run_cli(data_dir, "keys", "create", "--project", "shop", "--scope", "admin", "--json")
    assert key.returncode == 0, key.stderr
    assert json.loads(key.stdout)["secret"].startswith("ck_")
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "the CLI left Postgres up"
