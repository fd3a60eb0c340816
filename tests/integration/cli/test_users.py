"""`cairn users …`: create (generated or given password), list, show, disable, sign out,
delete; each a thin caller of the users service."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

from cairn.tenancy.service import Project
from tests.conftest import CairnCli
from tests.integration.cli.test_commands import one_line_error

PASSWORD = "a long passphrase"


def run(cairn: CairnCli, project: Project, *args: str, input: str | None = None) -> Any:
    result = cairn("users", *args, "-p", project.slug, "--json", input=input)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def login(client: FlaskClient, project: Project, email: str, password: str) -> Any:
    return client.post(
        f"/api/v1/projects/{project.slug}/auth/login", json={"email": email, "password": password}
    )


def test_create_list_show(cairn: CairnCli, client: FlaskClient, project: Project) -> None:
    given = run(
        cairn,
        project,
        "create",
        "ada@example.test",
        "--password-stdin",
        "--verified",
        input=PASSWORD + "\n",
    )
    assert given["verified"] is True and "password" not in given
    generated = run(cairn, project, "create", "bob@example.test")
    assert len(generated["password"]) >= 20
    assert login(client, project, "bob@example.test", generated["password"]).status_code == 200
    assert login(client, project, "ada@example.test", PASSWORD).status_code == 200
    listed = run(cairn, project, "list", "--search", "ad")
    assert [u["email"] for u in listed["items"]] == ["ada@example.test"]
    assert run(cairn, project, "show", "ADA@example.test")["id"] == given["id"]
    assert run(cairn, project, "show", given["id"])["email"] == "ada@example.test"
    human = cairn("users", "list", "-p", project.slug)
    assert "ada@example.test" in human.stdout and "bob@example.test" in human.stdout


def test_weak_password_and_unknown_user_are_one_line_errors(
    cairn: CairnCli, project: Project
) -> None:
    weak = cairn(
        "users",
        "create",
        "ada@example.test",
        "--password-stdin",
        "-p",
        project.slug,
        input="password\n",
    )
    assert weak.exit_code == 1 and "password" in one_line_error(weak)
    missing = cairn("users", "show", "nobody@example.test", "-p", project.slug)
    assert missing.exit_code == 1 and "no user" in one_line_error(missing)


def test_disable_logout_delete(cairn: CairnCli, client: FlaskClient, project: Project) -> None:
    run(cairn, project, "create", "ada@example.test", "--password-stdin", input=PASSWORD + "\n")
    token = login(client, project, "ada@example.test", PASSWORD).json["token"]
    me = f"/api/v1/projects/{project.slug}/auth/me"
    headers = {"Authorization": f"Bearer {token}"}
    assert run(cairn, project, "logout", "ada@example.test")["sessions_ended"] == 1
    assert client.get(me, headers=headers).status_code == 401
    assert run(cairn, project, "disable", "ada@example.test")["disabled"] is True
    assert login(client, project, "ada@example.test", PASSWORD).status_code == 401
    assert run(cairn, project, "enable", "ada@example.test")["disabled"] is False
    assert login(client, project, "ada@example.test", PASSWORD).status_code == 200
    assert run(cairn, project, "delete", "ada@example.test", "--yes")["deleted"] is True
    assert login(client, project, "ada@example.test", PASSWORD).status_code == 401
    audit = cairn("audit", "list", "-p", project.slug, "--action", "user.", "--json")
    actions = [e["action"] for e in json.loads(audit.stdout)["items"]]
    assert {"user.created", "user.logged_out", "user.disabled", "user.deleted"} <= set(actions)
