"""`cairn providers …`: declare OAuth providers from the shell; secrets never as arguments."""

from __future__ import annotations

import json

from sqlalchemy import text

from cairn.runtime import Runtime
from tests.conftest import CairnCli
from tests.factories import make_project
from tests.integration.cli.test_commands import one_line_error

DISCOVERY = "https://id.example.test/.well-known/openid-configuration"


def sealed(runtime: Runtime, project_id: object, name: str) -> str:
    with runtime.db.owner(project_id) as conn:  # type: ignore[arg-type]
        raw = conn.execute(
            text("SELECT client_secret FROM cairn.auth_providers WHERE name = :n"), {"n": name}
        ).scalar_one()
    return runtime.provider_box.open(bytes(raw))


def test_set_list_show_and_delete(cairn: CairnCli, runtime: Runtime) -> None:
    project = make_project(runtime)
    p = ("--project", project.slug)
    created = cairn(
        "providers", "set", "corp", *p, "--discovery-url", DISCOVERY, "--client-id", "cairn",
        "--client-secret-env", "CORP_SECRET", "--json", CORP_SECRET="corp-secret-1",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    body = json.loads(created.stdout)
    assert (body["name"], body["discovery_url"], body["version"]) == ("corp", DISCOVERY, 1)
    assert "client_secret" not in body and "corp-secret-1" not in created.stdout
    assert sealed(runtime, project.id, "corp") == "corp-secret-1"

    github = cairn(
        "providers", "set", "github", *p, "--preset", "github", "--client-id", "Iv1.abc",
        "--client-secret-stdin", input="gh-secret\n",
    )  # fmt: skip
    assert github.exit_code == 0, github.stderr
    assert github.stdout.strip() == "created provider github (version 1)"
    assert sealed(runtime, project.id, "github") == "gh-secret"

    listed = json.loads(cairn("providers", "list", *p, "--json").stdout)["items"]
    assert [i["name"] for i in listed] == ["corp", "github"]
    human = cairn("providers", "list", *p).stdout.splitlines()
    assert human[0].split() == ["NAME", "KIND", "CLIENT_ID", "SCOPES", "VERSION", "UPDATED_AT"]
    assert human[2].split()[:3] == ["github", "github", "Iv1.abc"]

    shown = json.loads(cairn("providers", "show", "corp", *p, "--json").stdout)
    assert shown["scopes"] == ["openid", "email", "profile"] and "client_secret" not in shown

    # Without a secret, `set` keeps the stored one; the same definition is no change.
    again = cairn("providers", "set", "corp", *p, "--discovery-url", DISCOVERY,
                  "--client-id", "cairn")  # fmt: skip
    assert again.stdout.strip() == "unchanged: provider corp (version 1)"
    rotated = cairn(
        "providers", "set", "corp", *p, "--discovery-url", DISCOVERY, "--client-id", "cairn",
        "--client-secret-stdin", "--json", input="corp-secret-2\n",
    )  # fmt: skip
    assert json.loads(rotated.stdout)["version"] == 2
    assert sealed(runtime, project.id, "corp") == "corp-secret-2"

    deleted = cairn("providers", "delete", "corp", *p, "--yes")
    assert deleted.exit_code == 0 and deleted.stdout.strip() == "deleted provider corp"
    assert "corp" not in cairn("providers", "list", *p).stdout


def test_errors_are_one_line(cairn: CairnCli, runtime: Runtime) -> None:
    project = make_project(runtime)
    p = ("--project", project.slug)
    no_secret = one_line_error(
        cairn("providers", "set", "corp", *p, "--discovery-url", DISCOVERY, "--client-id", "c")
    )
    assert "client_secret" in no_secret and "required for a new provider" in no_secret
    unset = one_line_error(
        cairn(
            "providers",
            "set",
            "corp",
            *p,
            "--discovery-url",
            DISCOVERY,
            "--client-id",
            "c",
            "--client-secret-env",
            "NOT_SET_ANYWHERE",
        )
    )
    assert "NOT_SET_ANYWHERE" in unset
    both = one_line_error(
        cairn(
            "providers",
            "set",
            "corp",
            *p,
            "--preset",
            "google",
            "--discovery-url",
            DISCOVERY,
            "--client-id",
            "c",
            "--client-secret-stdin",
            input="s\n",
        )
    )
    assert "discovery_url" in both
    missing = cairn("providers", "show", "nope", *p, "--json")
    assert missing.exit_code == 1
    assert json.loads(missing.stderr)["error"]["status"] == 404
    refused = cairn("providers", "delete", "nope", *p, "--yes")
    assert "no OAuth provider named 'nope'" in one_line_error(refused)
    assert cairn("providers", "list", *p).stdout.strip() == "no providers"
