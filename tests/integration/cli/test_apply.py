"""`cairn apply` / `cairn export` as scripters use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from cairn.runtime import Runtime
from tests.conftest import CairnCli
from tests.factories import unique_slug
from tests.integration.cli.test_commands import one_line_error

FILE = """
collections:
  - name: authors
    fields: {name: {type: text, required: true}, email: {type: email, unique: true}}
  - name: posts
    fields:
      title: {type: text, required: true}
      author: {type: relation, collection: authors}
    rules:
      list: ""
      view: ""
      create: "@request.auth.id != ''"
      update: "owner = @request.auth.id"
      delete: null
"""


@pytest.fixture
def slug(cairn: CairnCli) -> str:
    slug = unique_slug()
    assert cairn("projects", "create", slug).exit_code == 0
    return slug


def write(tmp_path: Path, text: str, name: str = "cairn.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_apply_dry_run_then_apply_then_export_round_trip(
    cairn: CairnCli, slug: str, tmp_path: Path
) -> None:
    path = write(tmp_path, FILE)
    dry = cairn("apply", path, "-p", slug, "--dry-run")
    assert dry.exit_code == 0 and dry.stdout.startswith("plan (dry run, nothing applied):")
    assert "+ create collection posts" in dry.stdout
    applied = cairn("apply", path, "-p", slug, "--json")
    assert applied.exit_code == 0, applied.stderr
    assert json.loads(applied.stdout)["applied"] is True
    assert cairn("apply", path, "-p", slug).stdout.strip() == "nothing to change"

    exported = cairn("export", "-p", slug)
    assert exported.exit_code == 0 and exported.stdout.startswith("collections:")
    again = cairn("apply", write(tmp_path, exported.stdout, "exported.yaml"), "-p", slug)
    assert again.stdout.strip() == "nothing to change"
    as_json = json.loads(cairn("export", "-p", slug, "--json").stdout)
    assert [c["name"] for c in as_json["collections"]] == ["authors", "posts"]


def test_dropping_needs_the_flag_and_prints_the_plan(
    cairn: CairnCli, slug: str, tmp_path: Path
) -> None:
    cairn("apply", write(tmp_path, FILE), "-p", slug)
    only_authors = write(tmp_path, FILE[: FILE.index("  - name: posts")], "smaller.yaml")
    refused = cairn("apply", only_authors, "-p", slug)
    assert refused.exit_code == 1
    assert "- drop collection posts and its 0 record(s) [destructive]" in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith("error: the plan has destructive")
    assert cairn("apply", only_authors, "-p", slug, "--allow-destructive").exit_code == 0
    assert "posts" not in cairn("export", "-p", slug).stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("collections: [", "error: the project file is not valid YAML at line"),
        ("- just a list", "error: the project file must be a mapping"),
        ("auth: {signup: maybe}", "auth.signup: must be true or false"),
        ("colections: []", "colections: unknown section"),
        (
            "collections: [{name: x, fields: {a: {type: text, pattern: '${NOPE_NOT_SET}'}}}]",
            "${NOPE_NOT_SET} is not set",
        ),
        ("collections: [{name: x}, {name: x}]", "collections.x: declared more than once"),
        ("collections: [{name: x, fields: {a: {type: wat}}}]", "collections.x.fields.a.type"),
    ],
)
def test_bad_files_are_one_line_and_change_nothing(
    cairn: CairnCli, slug: str, tmp_path: Path, text: str, message: str
) -> None:
    line = one_line_error(cairn("apply", write(tmp_path, text), "-p", slug))
    assert message in line
    assert (
        cairn("export", "-p", slug).stdout.strip() == "collections: []\nwebhooks: []\nschedules: []"
    )


def test_variables_come_from_the_environment(cairn: CairnCli, slug: str, tmp_path: Path) -> None:
    text = "collections: [{name: x, fields: {code: {type: text, pattern: '${CODE_PATTERN}'}}}]"
    result = cairn("apply", write(tmp_path, text), "-p", slug, CODE_PATTERN="^[A-Z]{3}$")
    assert result.exit_code == 0, result.stderr
    assert "pattern: ^[A-Z]{3}$" in cairn("export", "-p", slug).stdout


def test_apply_to_unknown_project_and_missing_file(cairn: CairnCli, tmp_path: Path) -> None:
    assert "no project" in one_line_error(cairn("apply", write(tmp_path, FILE), "-p", "nope-x"))
    assert cairn("apply", str(tmp_path / "missing.yaml"), "-p", "nope-x").exit_code == 2


HOOKS = """
collections:
  - name: posts
    fields: {title: {type: text}}
webhooks:
  - {name: notify, url: "http://127.0.0.1:9/hook", events: [record.created], collections: [posts],
     secret: "${NOTIFY_SECRET}"}
  - {name: audit, url: "http://127.0.0.1:9/audit", events: [record.created, record.deleted]}
"""


def test_webhooks_in_the_project_file(cairn: CairnCli, slug: str, tmp_path: Path) -> None:
    path = write(tmp_path, HOOKS)
    secret_env = {"NOTIFY_SECRET": "whsec_" + "a" * 40}
    first = cairn("apply", path, "-p", slug, "--json", **secret_env)
    assert first.exit_code == 0, first.stderr
    result = json.loads(first.stdout)
    actions = [s["action"] for s in result["steps"]]
    assert actions.count("create_webhook") == 2
    # Only the webhook without a declared secret gets a generated one, shown this once.
    assert list(result["webhook_secrets"]) == ["audit"]
    assert cairn("apply", path, "-p", slug, **secret_env).stdout.strip() == "nothing to change"

    exported = cairn("export", "-p", slug).stdout
    assert "NOTIFY_SECRET" not in exported and "whsec_" not in exported
    assert "name: notify" in exported and "name: audit" in exported
    # The export re-applies as a no-op (a secret left out keeps the stored one).
    again = cairn("apply", write(tmp_path, exported, "exported.yaml"), "-p", slug)
    assert again.stdout.strip() == "nothing to change"

    rotated = cairn("apply", path, "-p", slug, NOTIFY_SECRET="whsec_" + "b" * 40)
    assert "~ update webhook notify" in rotated.stdout

    without_audit = write(tmp_path, HOOKS[: HOOKS.index("  - {name: audit")], "smaller.yaml")
    refused = cairn("apply", without_audit, "-p", slug, **secret_env)
    assert refused.exit_code == 1 and "delete webhook audit" in refused.stderr
    assert (
        cairn("apply", without_audit, "-p", slug, "--allow-destructive", **secret_env).exit_code
        == 0
    )
    assert "name: audit" not in cairn("export", "-p", slug).stdout


def test_a_file_without_a_section_leaves_it_alone(
    cairn: CairnCli, slug: str, tmp_path: Path
) -> None:
    cairn("apply", write(tmp_path, FILE), "-p", slug)
    only_hooks = "webhooks: [{name: h, url: 'http://127.0.0.1:9/x', events: [record.created]}]"
    result = cairn("apply", write(tmp_path, only_hooks, "hooks.yaml"), "-p", slug)
    assert result.exit_code == 0, result.stderr
    assert "- name: posts" in cairn("export", "-p", slug).stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("webhooks: [{name: h, url: 'ftp://x', events: [record.created]}]", "webhooks.h.url"),
        ("webhooks: [{name: h, url: 'http://x.invalid/', events: [nope]}]", "webhooks.h.events"),
        ("webhooks: {name: h}", "webhooks: must be a list"),
    ],
)
def test_bad_webhooks_in_the_file(
    cairn: CairnCli, slug: str, tmp_path: Path, text: str, message: str
) -> None:
    assert message in one_line_error(cairn("apply", write(tmp_path, text), "-p", slug))


SCHEDULES = """
collections:
  - name: posts
    fields: {status: {type: text}}
schedules:
  - {name: nightly-cleanup, cron: "0 3 * * *", timezone: Europe/Berlin,
     action: {type: purge, collection: posts, older_than: 90d, filter: 'status = "draft"'}}
  - {name: hourly-ping, cron: "0 * * * *",
     action: {type: webhook, url: "http://127.0.0.1:9/tick", secret: "${TICK_SECRET}"}}
"""


def test_schedules_in_the_project_file(cairn: CairnCli, slug: str, tmp_path: Path) -> None:
    path = write(tmp_path, SCHEDULES)
    secret = {"TICK_SECRET": "t" * 32}
    first = cairn("apply", path, "-p", slug, "--json", **secret)
    assert first.exit_code == 0, first.stderr
    assert [s["action"] for s in json.loads(first.stdout)["steps"]].count("create_schedule") == 2
    assert cairn("apply", path, "-p", slug, **secret).stdout.strip() == "nothing to change"
    exported = cairn("export", "-p", slug).stdout
    assert "name: nightly-cleanup" in exported and "TICK_SECRET" not in exported
    assert "t" * 32 not in exported
    again = cairn("apply", write(tmp_path, exported, "exported.yaml"), "-p", slug)
    assert again.stdout.strip() == "nothing to change"
    listed = json.loads(cairn("schedules", "list", "-p", slug, "--json").stdout)["items"]
    assert {s["name"] for s in listed} == {"nightly-cleanup", "hourly-ping"}
    assert all(s["next_run_at"] for s in listed)
    changed = cairn(
        "apply",
        write(tmp_path, SCHEDULES.replace("0 3 * * *", "0 4 * * *"), "c.yaml"),
        "-p",
        slug,
        **secret,
    )
    assert "~ update schedule nightly-cleanup" in changed.stdout
    only_one = SCHEDULES[: SCHEDULES.index("  - {name: hourly-ping")]
    refused = cairn("apply", write(tmp_path, only_one, "one.yaml"), "-p", slug)
    assert refused.exit_code == 1 and "delete schedule hourly-ping" in refused.stderr


def test_bad_schedules_in_the_file(cairn: CairnCli, slug: str, tmp_path: Path) -> None:
    text = "schedules: [{name: s, cron: 'every day', action: {type: export, collection: posts}}]"
    assert "schedules.s.cron" in one_line_error(cairn("apply", write(tmp_path, text), "-p", slug))


def test_limits_in_the_project_file(cairn: CairnCli, slug: str, tmp_path: Path) -> None:
    text = "limits: {data: 100/minute, auth: 5/minute}"
    first = cairn("apply", write(tmp_path, text), "-p", slug)
    assert first.exit_code == 0 and "set rate limits" in first.stdout
    assert cairn("apply", write(tmp_path, text), "-p", slug).stdout.strip() == "nothing to change"
    exported = cairn("export", "-p", slug).stdout
    assert "data: 100/minute" in exported
    again = cairn("apply", write(tmp_path, exported, "exported.yaml"), "-p", slug)
    assert again.stdout.strip() == "nothing to change"
    assert "limits.data" in one_line_error(
        cairn("apply", write(tmp_path, "limits: {data: x}", "b.yaml"), "-p", slug)
    )


AUTH_FILE = """
users:
  fields: {display_name: {type: text, max_length: 80}, team: {type: text}}
auth:
  signup: false
  require_verified_email: true
  sessions: {lifetime: 14d, idle: 1d}
  redirect_allow: ["https://app.example.com/*"]
  links: {password_reset: "https://app.example.com/reset?token={token}"}
  providers:
    - {name: github, preset: github, client_id: abc123, client_secret: "${GITHUB_SECRET}"}
    - {name: corp, discovery_url: "https://id.example.com/.well-known/openid-configuration",
       client_id: cairn, client_secret: "${CORP_SECRET}"}
collections:
  - name: notes
    fields: {body: {type: text}}
    rules: {list: "@request.auth.team = 'core'"}
"""


def test_users_and_auth_in_the_project_file(cairn: CairnCli, slug: str, tmp_path: Path) -> None:
    path = write(tmp_path, AUTH_FILE)
    secrets = {"GITHUB_SECRET": "gh-secret-1", "CORP_SECRET": "corp-secret-1"}
    first = cairn("apply", path, "-p", slug, "--json", **secrets)
    assert first.exit_code == 0, first.stderr
    actions = [s["action"] for s in json.loads(first.stdout)["steps"]]
    assert {"set_user_fields", "set_auth", "create_auth_provider"} <= set(actions)
    assert cairn("apply", path, "-p", slug, **secrets).stdout.strip() == "nothing to change"

    exported = cairn("export", "-p", slug).stdout
    assert "secret-1" not in exported and "client_secret" not in exported
    for expected in ("signup: false", "lifetime: 2w", "display_name", "name: corp"):
        assert expected in exported
    again = cairn("apply", write(tmp_path, exported, "exported.yaml"), "-p", slug)
    assert again.stdout.strip() == "nothing to change", again.stdout

    rotated = cairn("apply", path, "-p", slug, **{**secrets, "CORP_SECRET": "corp-secret-2"})
    assert "update auth_provider corp" in rotated.stdout
    without_github = AUTH_FILE.replace(
        "    - {name: github, preset: github, client_id: abc123, "
        'client_secret: "${GITHUB_SECRET}"}\n',
        "",
    )
    refused = cairn("apply", write(tmp_path, without_github, "less.yaml"), "-p", slug, **secrets)
    assert refused.exit_code == 1 and "delete auth_provider github" in refused.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("users: {fields: {email: {type: text}}}", "users.fields.email: is a field every user has"),
        ("users: {fields: {t: {type: relation, collection: x}}}", "cannot be a relation"),
        ("auth: {sessions: {lifetime: 1d, idle: 2d}}", "must not be longer than the lifetime"),
        ("auth: {links: {password_reset: 'https://x/y'}}", "must be a URL containing {token}"),
        ("auth: {providers: [{name: x, client_id: y}]}", "auth.providers.x"),
        (
            "collections: [{name: n, fields: {b: {type: text}}, "
            "rules: {list: '@request.auth.nope = 1'}}]",
            "@request.auth.nope",
        ),
    ],
)
def test_bad_users_and_auth_sections(
    cairn: CairnCli, slug: str, tmp_path: Path, text: str, message: str
) -> None:
    result = cairn("apply", write(tmp_path, text), "-p", slug)
    assert message in one_line_error(result) or message in result.stderr


GONE = """
webhooks:
  - {name: notify, url: "http://receiver.invalid/hook", events: [record.created], enabled: false}
schedules:
  - {name: ping, cron: "0 * * * *", enabled: false,
     action: {type: webhook, url: "http://receiver.invalid/tick"}}
"""


def test_targets_whose_host_is_gone_can_still_be_paused(
    cairn: CairnCli, runtime: Runtime, slug: str, tmp_path: Path
) -> None:
    reachable = GONE.replace("receiver.invalid", "127.0.0.1:9").replace("false", "true")
    assert cairn("apply", write(tmp_path, reachable), "-p", slug).exit_code == 0
    project = runtime.projects.resolve(slug)
    with runtime.db.tenant(project.id) as conn:  # .invalid never resolves (RFC 6761)
        conn.execute(text("UPDATE cairn.webhooks SET url = 'http://receiver.invalid/hook'"))
        conn.execute(
            text(
                "UPDATE cairn.schedules SET action = "
                """jsonb_set(action, '{url}', '"http://receiver.invalid/tick"')"""
            )
        )
    paused = cairn("apply", write(tmp_path, GONE, "paused.yaml"), "-p", slug)
    assert paused.exit_code == 0, paused.stderr
    assert "~ update webhook notify" in paused.stdout and "~ update schedule ping" in paused.stdout
    moved = GONE.replace("receiver.invalid/hook", "other.invalid/hook")
    error = one_line_error(cairn("apply", write(tmp_path, moved, "moved.yaml"), "-p", slug))
    assert "does not resolve" in error and "webhooks.notify.url" in error
    moved = GONE.replace("receiver.invalid/tick", "other.invalid/tick")
    error = one_line_error(cairn("apply", write(tmp_path, moved, "moved2.yaml"), "-p", slug))
    assert "does not resolve" in error and "schedules.ping.action.url" in error
    exported = cairn("export", "-p", slug).stdout
    assert "other.invalid" not in exported and exported.count("enabled: false") == 2
