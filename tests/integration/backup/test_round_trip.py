"""`cairn projects export` / `cairn projects import`: a project goes out whole and comes back
whole, on the same instance or on another one, with identical records, working sign-ins and
working API keys."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cairn.app import create_app
from cairn.auth.keys import IssuedKey
from cairn.config import load_settings
from cairn.db import migrate
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn.webhooks import service as webhooks
from tests.conftest import CairnCli, auth
from tests.factories import apply_file, make_key, make_project

PASSWORD = "correct horse battery"
PROJECT_FILE = """
users:
  fields: {nickname: {type: text, max_length: 40}}
auth:
  sessions: {lifetime: 14d, idle: 1d}
  providers:
    - {name: corp, discovery_url: "https://id.example.test/.well-known/openid-configuration",
       client_id: cairn, client_secret: corp-secret-1}
limits: {data: "900/minute"}
collections:
  - name: authors
    fields:
      name: {type: text, required: true}
      email: {type: email, unique: true}
      favourite: {type: relation, collection: posts, on_delete: set_null}
    rules: {list: "", view: ""}
  - name: posts
    fields:
      title: {type: text, required: true}
      status: {type: select, values: [draft, published], default: draft}
      tags: {type: select, values: [a, b, c], multiple: true}
      score: {type: number}
      views: {type: integer}
      meta: {type: json}
      due: {type: date}
      posted_at: {type: datetime}
      author: {type: relation, collection: authors}
      parent: {type: relation, collection: posts}
      related: {type: relation, collection: posts, multiple: true}
    indexes: [{fields: [status, posted_at]}]
    rules:
      {list: "", view: "", create: "@request.auth.id != ''", update: "owner = @request.auth.id"}
webhooks:
  - {name: notify, url: "http://127.0.0.1:9/hook", events: [record.created], collections: [posts],
     secret: whsec-this-is-long-enough-123456}
schedules:
  - {name: nightly, cron: "0 3 * * *", action: {type: purge, collection: posts, older_than: 90d}}
  - {name: ping, cron: "0 * * * *",
     action: {type: webhook, url: "http://127.0.0.1:9/tick", secret: tick-secret-long-enough-1234}}
"""


def records_url(slug: str, collection: str, suffix: str = "") -> str:
    return f"/api/v1/projects/{slug}/collections/{collection}/records{suffix}"


@dataclass
class Source:
    project: Project
    key: IssuedKey
    user_token: str


def seed(client: FlaskClient, runtime: Runtime) -> Source:
    """A project using every part an archive carries: records of every field type, relations
    in a cycle and to themselves, users (one linked to OAuth), keys, webhooks, schedules."""
    project = apply_file(runtime, make_project(runtime), PROJECT_FILE)
    key = make_key(runtime, project, scope="admin", name="deploy")
    headers = auth(key)
    slug = project.slug
    signed_up = client.post(
        f"/api/v1/projects/{slug}/auth/signup",
        json={"email": "ada@example.test", "password": PASSWORD, "nickname": "ada"},
    )
    assert signed_up.status_code == 201, signed_up.json
    user_token = signed_up.json["token"]
    author = client.post(
        records_url(slug, "authors"), json={"name": "Ada", "email": "ada@x.test"}, headers=headers
    ).json
    first = client.post(
        records_url(slug, "posts"),
        json={
            "title": 'first, with "quotes", a \\ backslash\nand a newline',
            "status": "published",
            "tags": ["a", "c"],
            "score": 0.1,
            "views": 2**40,
            "meta": {"nested": [1, None, {"ü": "✓"}]},
            "due": "2026-02-28",
            "posted_at": "2026-11-21T10:11:12.345678Z",
            "author": author["id"],
        },
        headers=headers,
    ).json
    second = client.post(
        records_url(slug, "posts"),
        json={"title": "second", "parent": first["id"], "related": [first["id"]]},
        headers={"Authorization": f"Bearer {user_token}"},  # owned by the user
    ).json
    assert (
        client.patch(
            records_url(slug, "authors", f"/{author['id']}"),
            json={"favourite": second["id"]},
            headers=headers,
        ).status_code
        == 200
    )
    with runtime.db.owner(project.id) as conn:
        conn.execute(
            text(
                "INSERT INTO cairn.oauth_identities (project_id, provider, subject, user_id, email)"
                " SELECT project_id, 'corp', 'sub-1', id, email FROM cairn.users"
            )
        )
    return Source(project, key, user_token)


def snapshot(runtime: Runtime, project: Project) -> dict[str, Any]:
    """Everything an import must reproduce, as JSON, without the project's id."""
    tables = ["authors", "posts"]
    carried = ["users", "oauth_identities", "api_keys", "auth_providers", "webhooks", "schedules"]
    found: dict[str, Any] = {}
    with runtime.db.owner(project.id) as conn:
        for name in tables:
            found[name] = (
                conn.execute(
                    text(f'SELECT to_jsonb(t) FROM "{project.schema_name}"."{name}" t ORDER BY id')
                )
                .scalars()
                .all()
            )
        for name in carried:
            # next_run_at is computed anew on import (from the time of the import).
            rows = conn.execute(
                text(f"SELECT to_jsonb(t) - 'project_id' - 'next_run_at' FROM cairn.{name} t")
            ).scalars()
            found[name] = sorted(rows, key=lambda row: json.dumps(row, sort_keys=True))
        found["project"] = (
            conn.execute(
                text("SELECT name, limits, auth, user_fields FROM cairn.projects WHERE id = :p"),
                {"p": project.id},
            )
            .mappings()
            .one()
        )
    return found


@pytest.fixture
def source(client: FlaskClient, runtime: Runtime) -> Source:
    return seed(client, runtime)


def export(cairn: CairnCli, slug: str, path: Path, *extra: str) -> Any:
    result = cairn("projects", "export", slug, "--out", str(path), "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def import_(cairn: CairnCli, path: Path, *extra: str, **env: str) -> Any:
    return cairn("projects", "import", str(path), *extra, **env)


def test_round_trip_into_the_same_instance(
    cairn: CairnCli, client: FlaskClient, runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.zip"
    exported = export(cairn, source.project.slug, archive)
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds hashes: the owner's only
    rows = {m["source"]: m["rows"] for m in exported["members"]}
    assert rows == {"authors": 1, "posts": 2, "users": 1, "oauth_identities": 1,
                    "api_keys": 1, "auth_providers": 1, "webhooks": 1, "schedules": 2}  # fmt: skip

    slug = f"copy-{uuid.uuid4().hex[:8]}"
    result = import_(cairn, archive, "--as", slug)
    assert result.exit_code == 0, result.stderr
    assert f"as project {slug}" in result.stdout and "3 records in 2 collection(s)" in result.stdout
    copy = runtime.projects.resolve(slug)
    assert copy.id != source.project.id
    assert snapshot(runtime, copy) == snapshot(runtime, source.project)

    # The same key and the same password work on the copy, and it serves the same records.
    listed = client.get(records_url(slug, "posts", "?sort=created_at"), headers=auth(source.key))
    original = client.get(
        records_url(source.project.slug, "posts", "?sort=created_at"), headers=auth(source.key)
    )
    assert listed.status_code == 200 and listed.json["items"] == original.json["items"]
    login = client.post(
        f"/api/v1/projects/{slug}/auth/login",
        json={"email": "ada@example.test", "password": PASSWORD},
    )
    assert login.status_code == 200, login.json
    me = client.get(
        f"/api/v1/projects/{slug}/auth/me",
        headers={"Authorization": f"Bearer {login.json['token']}"},
    )
    assert me.json["nickname"] == "ada"
    # Sessions are not carried: the source's token means nothing to the copy.
    stale = client.get(
        f"/api/v1/projects/{slug}/auth/me", headers={"Authorization": f"Bearer {source.user_token}"}
    )
    assert stale.status_code == 401
    # The copy is a project of its own: writing to it leaves the source alone.
    assert (
        client.delete(
            records_url(slug, "posts", f"/{listed.json['items'][1]['id']}"),
            headers=auth(source.key),
        ).status_code
        == 204
    )
    assert (
        len(
            client.get(records_url(source.project.slug, "posts"), headers=auth(source.key)).json[
                "items"
            ]
        )
        == 2
    )


def test_import_keeps_the_archive_slug_and_refuses_a_taken_one(
    cairn: CairnCli, runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.zip"
    export(cairn, source.project.slug, archive)
    taken = import_(cairn, archive)
    assert taken.exit_code == 1
    assert f"a project with the slug '{source.project.slug}' already exists" in taken.stderr
    # Deleted, then restored under its own slug: the disaster-recovery path.
    assert cairn("projects", "delete", source.project.slug, "--yes").exit_code == 0
    runtime.projects.forget(source.project.slug)
    restored = import_(cairn, archive, "--json")
    assert restored.exit_code == 0, restored.stderr
    assert json.loads(restored.stdout)["project"]["slug"] == source.project.slug


# -- another instance --------------------------------------------------------------------


@dataclass
class Instance:
    cairn: CairnCli
    runtime: Runtime
    app: Flask


@contextmanager
def instance(env: dict[str, str], secret_key: str) -> Iterator[Instance]:
    """A second Cairn: its own database (so its own control plane) and roles, on the
    session's Postgres server."""
    name = f"other_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(env["CAIRN_DATABASE_URL"]).set(drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(env["CAIRN_DATABASE_URL"]).set(database=name)
    other_env = {
        **env,
        "CAIRN_DATABASE_URL": url.render_as_string(hide_password=False),
        "CAIRN_SECRET_KEY": secret_key,
        "CAIRN_DB_OWNER_ROLE": f"{name}_owner",
        "CAIRN_DB_APP_ROLE": f"{name}_app",
    }
    runtime = Runtime(load_settings(other_env))
    try:
        migrate.upgrade(runtime.db)
        yield Instance(CairnCli(other_env), runtime, create_app(runtime.settings, runtime))
    finally:
        runtime.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}_app", "{name}_owner"'))
        admin.dispose()


@pytest.fixture(scope="module")
def same_key_instance(env: dict[str, str]) -> Iterator[Instance]:
    """Another instance configured with this one's secret key (a move between clusters)."""
    with instance(env, env["CAIRN_SECRET_KEY"]) as other:
        yield other


@pytest.fixture(scope="module")
def other_key_instance(env: dict[str, str]) -> Iterator[Instance]:
    with instance(env, "another-instance-secret-key-0123456789abcdef") as other:
        yield other


def test_another_instance_with_the_same_secret_key_takes_everything(
    cairn: CairnCli, runtime: Runtime, source: Source, same_key_instance: Instance, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.zip"
    export(cairn, source.project.slug, archive)
    imported = import_(same_key_instance.cairn, archive)
    assert imported.exit_code == 0, imported.stderr
    copy = same_key_instance.runtime.projects.resolve(source.project.slug)
    assert snapshot(same_key_instance.runtime, copy) == snapshot(runtime, source.project)
    client = same_key_instance.app.test_client()
    listed = client.get(records_url(copy.slug, "posts"), headers=auth(source.key))
    assert listed.status_code == 200 and len(listed.json["items"]) == 2
    login = client.post(
        f"/api/v1/projects/{copy.slug}/auth/login",
        json={"email": "ada@example.test", "password": PASSWORD},
    )
    assert login.status_code == 200, login.json


def test_another_instance_with_another_secret_key_needs_reset_credentials(
    cairn: CairnCli, source: Source, other_key_instance: Instance, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.zip"
    export(cairn, source.project.slug, archive)
    other = other_key_instance
    refused = import_(other.cairn, archive)
    assert refused.exit_code == 1 and "different CAIRN_SECRET_KEY" in refused.stderr
    with other.runtime.db.unscoped() as conn:
        assert conn.execute(text("SELECT count(*) FROM cairn.projects")).scalar_one() == 0

    imported = import_(other.cairn, archive, "--reset-credentials", "--json")
    assert imported.exit_code == 0, imported.stderr
    body = json.loads(imported.stdout)
    assert body["skipped"] == ["tables/api_keys.jsonl", "tables/auth_providers.jsonl"]
    assert sorted(body["new_secrets"]) == ["schedule ping", "webhook notify"]
    copy = other.runtime.projects.resolve(source.project.slug)
    with other.runtime.db.tenant(copy.id) as conn:
        [sealed] = webhooks.sealed_secrets(conn, copy.id).values()
        action = conn.execute(
            text("SELECT action->>'secret_sealed' FROM cairn.schedules WHERE name = 'ping'")
        ).scalar_one()
    # The new secrets are sealed with this instance's key: it can sign with them.
    assert other.runtime.webhook_box.open(sealed) == body["new_secrets"]["webhook notify"]
    assert other.runtime.webhook_box.open(action.encode()) == body["new_secrets"]["schedule ping"]

    client = other.app.test_client()
    slug = copy.slug
    # Records and sign-ins came along; the old key did not (its hash needs the old secret).
    login = client.post(
        f"/api/v1/projects/{slug}/auth/login",
        json={"email": "ada@example.test", "password": PASSWORD},
    )
    assert login.status_code == 200, login.json
    session = {"Authorization": f"Bearer {login.json['token']}"}
    posts = client.get(records_url(slug, "posts"), headers=session)
    assert posts.status_code == 200 and len(posts.json["items"]) == 2
    assert client.get(records_url(slug, "posts"), headers=auth(source.key)).status_code == 401


def test_restored_schedules_run_next_from_now_not_from_the_archive(
    cairn: CairnCli, runtime: Runtime, source: Source, tmp_path: Path
) -> None:
    with runtime.db.owner(source.project.id) as conn:  # long overdue in the source
        conn.execute(text("UPDATE cairn.schedules SET next_run_at = now() - interval '30 days'"))
    archive = tmp_path / "backup.zip"
    export(cairn, source.project.slug, archive)
    slug = f"copy-{uuid.uuid4().hex[:8]}"
    assert import_(cairn, archive, "--as", slug).exit_code == 0
    copy = runtime.projects.resolve(slug)
    with runtime.db.owner(copy.id) as conn:
        overdue = conn.execute(
            text("SELECT count(*) FROM cairn.schedules WHERE next_run_at <= now()")
        ).scalar_one()
        upcoming = conn.execute(
            text("SELECT count(*) FROM cairn.schedules WHERE next_run_at > now()")
        ).scalar_one()
    assert (overdue, upcoming) == (0, 2)
