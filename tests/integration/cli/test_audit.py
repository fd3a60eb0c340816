"""`cairn audit list`: a readable table, --json, filters, pages; CLI actions come from "cli"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cairn.audit import service
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import CairnCli
from tests.factories import make_key, make_project
from tests.integration.cli.test_commands import one_line_error


def listed(cairn: CairnCli, project: Project, *args: str) -> dict[str, Any]:
    result = cairn("audit", "list", "-p", project.slug, "--json", *args)
    assert result.exit_code == 0, result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_actions_done_with_the_cli_are_listed_as_coming_from_the_cli(
    cairn: CairnCli, project: Project
) -> None:
    created = cairn("keys", "create", "-p", project.slug, "--scope", "read", "--json")
    key_id = json.loads(created.stdout)["id"]
    assert cairn("keys", "revoke", "-p", project.slug, key_id).exit_code == 0
    body = listed(cairn, project)
    assert body["next_cursor"] is None
    assert [(e["action"], e["target"], e["actor"], e["source"]) for e in body["items"]] == [
        ("api_key.revoked", key_id, "operator", "cli"),
        ("api_key.created", key_id, "operator", "cli"),
    ]
    entry = body["items"][1]
    assert set(entry) == {"id", "occurred_at", "actor", "action", "target", "detail", "source"}
    assert entry["detail"] == {"scope": "read"}


def test_apply_and_import_are_listed_as_coming_from_the_cli(
    cairn: CairnCli, project: Project, tmp_path: Path
) -> None:
    declared = tmp_path / "cairn.yaml"
    declared.write_text("collections: [{name: notes, fields: {body: {type: text}}}]")
    assert cairn("apply", str(declared), "-p", project.slug).exit_code == 0
    archive = tmp_path / "copy.zip"
    assert cairn("projects", "export", project.slug, "--out", str(archive)).exit_code == 0
    copy = f"{project.slug}-copy"
    assert cairn("projects", "import", str(archive), "--as", copy).exit_code == 0
    applied = listed(cairn, project, "--action", "collections.applied")["items"]
    assert [(e["actor"], e["source"]) for e in applied] == [("operator", "cli")]
    imported = json.loads(cairn("audit", "list", "-p", copy, "--json").stdout)["items"]
    assert imported[0]["action"] == "project.imported"
    assert {e["source"] for e in imported} == {"cli"}


def test_the_table_is_for_people(cairn: CairnCli, runtime: Runtime, project: Project) -> None:
    assert cairn("audit", "list", "-p", project.slug).stdout.strip() == "no entries"
    key = make_key(runtime, project, scope="read")  # outside the CLI: no source
    cairn("keys", "revoke", "-p", project.slug, str(key.key.id))
    lines = cairn("audit", "list", "-p", project.slug).stdout.splitlines()
    assert lines[0].split() == ["TIME", "ACTOR", "ACTION", "TARGET", "SOURCE"]
    revoked, created = (line.split() for line in lines[1:])
    assert revoked[1:] == ["operator", "api_key.revoked", str(key.key.id), "cli"]
    assert created[1:] == ["operator", "api_key.created", str(key.key.id), "-"]
    assert revoked[0].endswith("Z") and len(revoked[0]) == len("2024-05-01T12:00:00Z")


def test_filters_and_pages(cairn: CairnCli, runtime: Runtime, project: Project) -> None:
    with runtime.db.tenant(project.id) as conn:
        for i in range(3):
            service.record(conn, project.id, f"key:{i % 2}", "webhook.saved", f"hook-{i}")
        service.record(conn, project.id, "operator", "schedule.saved", "nightly")
    targets = [e["target"] for e in listed(cairn, project, "--action", "webhook.")["items"]]
    assert targets == ["hook-2", "hook-1", "hook-0"]
    assert [e["target"] for e in listed(cairn, project, "--actor", "key:1")["items"]] == ["hook-1"]
    assert [e["action"] for e in listed(cairn, project, "--target", "nightly")["items"]] == [
        "schedule.saved"
    ]
    assert len(listed(cairn, project, "--since", "1h")["items"]) == 4
    assert listed(cairn, project, "--since", "2999-01-01T00:00:00Z")["items"] == []
    assert listed(cairn, project, "--until", "2000-01-01T00:00:00+02:00")["items"] == []

    first = listed(cairn, project, "--limit", "3")
    assert [e["target"] for e in first["items"]] == ["nightly", "hook-2", "hook-1"]
    assert first["next_cursor"] == first["items"][-1]["id"]
    human = cairn("audit", "list", "-p", project.slug, "--limit", "3").stdout.splitlines()
    assert human[-1] == f"(older entries follow: --cursor {first['next_cursor']})"
    rest = listed(cairn, project, "--limit", "3", "--cursor", first["next_cursor"])
    assert ([e["target"] for e in rest["items"]], rest["next_cursor"]) == (["hook-0"], None)


def test_another_projects_entries_never_appear(
    cairn: CairnCli, runtime: Runtime, project: Project
) -> None:
    other = make_project(runtime)
    make_key(runtime, other)
    assert listed(cairn, project)["items"] == []
    assert len(listed(cairn, other)["items"]) == 1


def test_bad_options_fail_in_one_line(cairn: CairnCli, project: Project) -> None:
    error = one_line_error(cairn("audit", "list", "-p", project.slug, "--since", "yesterday"))
    assert "--since" in error and "24h" in error
    as_json = one_line_error(
        cairn("audit", "list", "-p", project.slug, "--since", "1h", "--until", "2h", "--json")
    )
    assert json.loads(as_json)["error"]["status"] == 400
    assert "since must be earlier than until" in as_json
    assert "no project" in one_line_error(cairn("audit", "list", "-p", "no-such-project"))
    bad_cursor = cairn("audit", "list", "-p", project.slug, "--cursor", "nope")
    assert bad_cursor.exit_code == 2  # click's usage error
