"""The CLI as scripters use it: --json everywhere, one-line errors, non-zero exits."""

from __future__ import annotations

import json

import click
import pytest
from sqlalchemy import text

from cairn.cli.main import cli
from cairn.db import migrate
from cairn.idempotency import service as idempotency
from cairn.runtime import Runtime
from tests.conftest import CairnCli
from tests.factories import make_project, unique_slug


def _all_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _all_commands(command, f"{prefix}{name} ")
        else:
            found.append((prefix + name, command))
    return found


@pytest.mark.parametrize(("name", "command"), _all_commands(cli), ids=lambda v: str(v))
def test_every_command_takes_json(name: str, command: click.Command) -> None:
    assert "--json" in {opt for p in command.params for opt in getattr(p, "opts", [])}, name


def one_line_error(result: object) -> str:
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, lines
    return str(lines[0])


def test_db_upgrade(cairn: CairnCli) -> None:
    result = cairn("db", "upgrade", "--json")
    assert result.exit_code == 0
    head = migrate.head_revision()
    assert json.loads(result.stdout) == {"revision": head}
    assert cairn("db", "upgrade").stdout.strip() == f"database at revision {head}"


def test_project_lifecycle(cairn: CairnCli) -> None:
    slug = unique_slug()
    created = cairn("projects", "create", slug, "--name", "My Shop", "--json")
    assert created.exit_code == 0, created.stderr
    project = json.loads(created.stdout)
    assert (project["slug"], project["name"]) == (slug, "My Shop")

    listed = json.loads(cairn("projects", "list", "--json").stdout)["items"]
    assert slug in [p["slug"] for p in listed]
    human = cairn("projects", "list").stdout
    assert human.splitlines()[0].split() == ["SLUG", "NAME", "ID", "CREATED_AT"]
    assert slug in human

    shown = json.loads(cairn("projects", "show", slug, "--json").stdout)
    assert shown["id"] == project["id"]

    refused = cairn("projects", "delete", slug, input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.stderr
    assert cairn("projects", "show", slug).exit_code == 0

    confirmed = cairn("projects", "delete", slug, input="y\n")
    assert confirmed.exit_code == 0 and f"deleted project {slug}" in confirmed.stdout
    assert "no project" in one_line_error(cairn("projects", "show", slug))


def test_delete_with_yes_asks_nothing(cairn: CairnCli) -> None:
    slug = unique_slug()
    cairn("projects", "create", slug)
    result = cairn("projects", "delete", slug, "--yes", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["slug"] == slug


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["projects", "create", "Bad Slug"], "error: 'Bad Slug' is not a valid project slug"),
        (["projects", "create", "x"], "slug: must start with a letter"),
        (["projects", "show", "missing-project"], "error: no project 'missing-project'"),
        (["projects", "delete", "missing-project", "--yes"], "error: no project"),
        (["keys", "list", "--project", "missing-project"], "error: no project"),
        (["keys", "create", "--project", "missing-project", "--scope", "read"], "no project"),
    ],
)
def test_errors_are_one_line(cairn: CairnCli, args: list[str], message: str) -> None:
    assert message in one_line_error(cairn(*args))


def test_duplicate_project(cairn: CairnCli) -> None:
    slug = unique_slug()
    assert cairn("projects", "create", slug).exit_code == 0
    assert "already exists" in one_line_error(cairn("projects", "create", slug))


def test_errors_with_json_are_json(cairn: CairnCli) -> None:
    line = one_line_error(cairn("projects", "show", "missing-project", "--json"))
    assert json.loads(line) == {
        "error": {"type": "not-found", "status": 404, "detail": "no project 'missing-project'"}
    }


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CAIRN_PORT", "abc", "error: CAIRN_PORT: Not a valid integer."),
        ("CAIRN_DATABASE_URL", "mysql://db", "error: CAIRN_DATABASE_URL: must be a URL"),
        ("CAIRN_SECRET_KEY", "short", "error: CAIRN_SECRET_KEY: must be at least 32"),
    ],
)
def test_bad_settings_stop_with_one_line(
    cairn: CairnCli, variable: str, value: str, message: str
) -> None:
    assert one_line_error(cairn("projects", "list", **{variable: value})).startswith(message)


def test_key_lifecycle(cairn: CairnCli) -> None:
    slug = unique_slug()
    cairn("projects", "create", slug)
    created = cairn(
        "keys", "create", "-p", slug, "--scope", "write", "--name", "ci", "--expires-in", "90d"
    )
    assert created.exit_code == 0, created.stderr
    secret = next(w for w in created.stdout.split() if w.startswith("ck_"))
    assert "only time the secret is shown" in created.stdout

    as_json = json.loads(cairn("keys", "create", "-p", slug, "--scope", "admin", "--json").stdout)
    assert as_json["secret"].startswith("ck_") and as_json["scope"] == "admin"

    listed = cairn("keys", "list", "-p", slug, "--json")
    items = json.loads(listed.stdout)["items"]
    assert {k["scope"] for k in items} == {"write", "admin"}
    assert secret not in listed.stdout and as_json["secret"] not in listed.stdout
    assert "PREFIX" in cairn("keys", "list", "-p", slug).stdout

    write_key = next(k for k in items if k["scope"] == "write")
    rotated = json.loads(cairn("keys", "rotate", "-p", slug, write_key["id"], "--json").stdout)
    assert rotated["rotated_from"] == write_key["id"] and rotated["secret"] != secret

    revoked = json.loads(cairn("keys", "revoke", "-p", slug, rotated["id"], "--json").stdout)
    assert revoked["status"] == "revoked"
    remaining = json.loads(cairn("keys", "list", "-p", slug, "--json").stdout)["items"]
    assert [k["id"] for k in remaining] == [as_json["id"]]
    everything = json.loads(cairn("keys", "list", "-p", slug, "--all", "--json").stdout)["items"]
    assert len(everything) == 3


def test_key_errors(cairn: CairnCli) -> None:
    slug = unique_slug()
    cairn("projects", "create", slug)
    bad_expiry = cairn("keys", "create", "-p", slug, "--scope", "read", "--expires-in", "soon")
    assert "not a duration" in one_line_error(bad_expiry)
    unknown = "01890000-0000-7000-8000-000000000000"
    assert "no API key" in one_line_error(cairn("keys", "revoke", "-p", slug, unknown))
    usage = cairn("keys", "create", "-p", slug, "--scope", "root")
    assert usage.exit_code == 2 and "root" in usage.stderr
    assert json.loads(cairn("keys", "list", "-p", slug, "--json").stdout)["items"] == []


def test_web_refuses_to_run_without_external_servers(cairn: CairnCli) -> None:
    result = cairn("web", CAIRN_DATABASE_URL="", CAIRN_REDIS_URL="")
    assert one_line_error(result).startswith("error: CAIRN_DATABASE_URL: `cairn web` needs")


def test_unreachable_database_is_one_line(cairn: CairnCli) -> None:
    result = cairn("db", "upgrade", CAIRN_DATABASE_URL="postgresql://x@/cairn?host=/nonexistent")
    line = one_line_error(result)
    assert line.startswith("error: the database is unavailable: connection")
    assert "Traceback" not in result.output


def test_housekeeping_purges_expired_idempotency_keys(cairn: CairnCli, runtime: Runtime) -> None:
    project = make_project(runtime)
    with runtime.db.tenant(project.id) as conn:
        idempotency.claim(conn, project.id, "operator", "old", b"\0" * 32)
        idempotency.claim(conn, project.id, "operator", "fresh", b"\0" * 32)
        conn.execute(
            text("UPDATE cairn.idempotency_keys SET expires_at = now() - interval '1 s' "
                 "WHERE key = 'old'")
        )  # fmt: skip
    result = cairn("housekeeping", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["idempotency_keys"] >= 1
    with runtime.db.tenant(project.id) as conn:
        left = conn.execute(text("SELECT key FROM cairn.idempotency_keys")).scalars().all()
    assert left == ["fresh"]
