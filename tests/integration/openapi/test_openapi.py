"""GET /api/v1/projects/{p}/openapi.json over HTTP, and real responses checked against it.

The fuzzer (test_fuzz.py) leaves out the schema-changing operations and rarely reaches deep
success paths (a whole batch, expansions, 412s, plans, webhook deliveries, schedule runs,
failed jobs); here each is driven on purpose and its response is checked against the document:
documented status, content type, required headers, and the body against the schema, formats
included.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from cairn.app import create_app
from cairn.auth.keys import IssuedKey
from cairn.config import Settings
from cairn.runtime import Runtime
from cairn.schedules import service as schedules
from cairn.tenancy.service import Project
from cairn.webhooks import delivery
from tests.conftest import auth
from tests.factories import apply_yaml, enqueue_failing_job, make_key, make_project, run_queued

PROJECT_FILE = """
collections:
  - name: authors
    fields:
      name: {type: text, required: true}
      email: {type: email, unique: true}
  - name: posts
    fields:
      title: {type: text, required: true, max_length: 200}
      status: {type: select, values: [draft, published], default: draft}
      score: {type: number, min: 0}
      views: {type: integer, default: 0}
      published: {type: boolean, default: false}
      due: {type: date}
      posted_at: {type: datetime}
      meta: {type: json}
      link: {type: url}
      tags: {type: select, values: [a, b, c], multiple: true}
      author: {type: relation, collection: authors, on_delete: restrict}
      reviewers: {type: relation, collection: authors, multiple: true, on_delete: set_null}
"""


@pytest.fixture(scope="module")
def openapi_app(settings: Settings, runtime: Runtime) -> Flask:
    app = create_app(settings, runtime)
    return app


@pytest.fixture
def client(openapi_app: Flask) -> FlaskClient:
    return openapi_app.test_client()


def doc_url(project: Project) -> str:
    return f"/api/v1/projects/{project.slug}/openapi.json"


def fetch(client: FlaskClient, project: Project, key: IssuedKey) -> dict[str, Any]:
    response = client.get(doc_url(project), headers=auth(key))
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/json"
    document: dict[str, Any] = response.get_json()
    return document


# -- the endpoint -----------------------------------------------------------------------


def test_a_read_key_gets_a_valid_document(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    apply_yaml(runtime, project, PROJECT_FILE)
    document = fetch(client, project, make_key(runtime, project, scope="read"))
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == f"Cairn project {project.slug}"
    assert document["servers"] == [
        {
            "url": f"/api/v1/projects/{project.slug}",
            "description": "this project (paths are relative to it)",
        }
    ]
    for name in ("authors", "posts"):
        assert {"get", "post"} <= set(document["paths"][f"/collections/{name}/records"])
    posts = document["components"]["schemas"]["PostsRecord"]["properties"]
    assert posts["author"] == {
        "type": ["string", "null"],
        "format": "uuid",
        "description": "the id of records in 'authors'",
    }


@pytest.mark.parametrize("scope", ["read", "write", "service", "admin"])
def test_every_scope_may_read_it(
    client: FlaskClient, runtime: Runtime, project: Project, scope: str
) -> None:
    fetch(client, project, make_key(runtime, project, scope=scope))


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer ck_" + "x" * 55}, {"Authorization": "Basic eDp5"}],
    ids=["no-key", "unknown-key", "not-bearer"],
)
def test_without_a_valid_key_it_is_401(
    client: FlaskClient, project: Project, headers: dict[str, str]
) -> None:
    response = client.get(doc_url(project), headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="cairn"'


def test_a_key_of_another_project_is_401(
    client: FlaskClient, runtime: Runtime, project: Project, other_project: Project
) -> None:
    response = client.get(doc_url(project), headers=auth(make_key(runtime, other_project)))
    assert response.status_code == 401
    assert response.get_json()["status"] == 401


def test_an_unknown_project_is_404(client: FlaskClient, admin_key: IssuedKey) -> None:
    response = client.get("/api/v1/projects/no-such-project/openapi.json", headers=auth(admin_key))
    assert response.status_code == 404


def test_the_document_follows_schema_changes(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    empty = fetch(client, project, admin_key)
    assert not [p for p in empty["paths"] if p.startswith("/collections/") and "{" not in p]
    assert empty["info"]["x-cairn-collections"] == {}
    apply_yaml(runtime, project, "collections: [{name: notes, fields: {text: {type: text}}}]")
    first = fetch(client, project, admin_key)
    assert "/collections/notes/records" in first["paths"]
    assert list(first["info"]["x-cairn-collections"]) == ["notes"]
    apply_yaml(
        runtime,
        project,
        "collections: [{name: notes, fields: {text: {type: text}, n: {type: integer}}}]",
    )
    second = fetch(client, project, admin_key)
    assert second["info"]["version"] != first["info"]["version"]
    versions = first["info"]["x-cairn-collections"], second["info"]["x-cairn-collections"]
    assert versions[1]["notes"] > versions[0]["notes"]
    assert "n" in second["components"]["schemas"]["NotesRecord"]["properties"]
    assert fetch(client, project, admin_key) == second  # cached, and the same


NOTES_A = "collections: [{name: notes, fields: {a: {type: text}}}]"
NOTES_B = "collections: [{name: notes, fields: {b: {type: integer}}}]"


def test_the_document_follows_a_collection_declared_again(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    apply_yaml(runtime, project, NOTES_A)
    first = fetch(client, project, admin_key)
    apply_yaml(runtime, project, "collections: []", allow_destructive=True)
    apply_yaml(runtime, project, NOTES_B)
    second = fetch(client, project, admin_key)
    # Versions come from one sequence: a re-declared collection never reuses one.
    assert (
        second["info"]["x-cairn-collections"]["notes"]
        > first["info"]["x-cairn-collections"]["notes"]
    )
    assert set(second["components"]["schemas"]["NotesCreate"]["properties"]) == {"b"}
    assert second["info"]["version"] != first["info"]["version"]


def test_a_collection_declared_again_uses_its_new_definition(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    url = f"/api/v1/projects/{project.slug}/collections/notes/records"
    apply_yaml(runtime, project, NOTES_A)
    assert client.post(url, json={"a": "x"}, headers=auth(admin_key)).status_code == 201
    apply_yaml(runtime, project, "collections: []", allow_destructive=True)
    apply_yaml(runtime, project, NOTES_B)
    assert client.post(url, json={"b": 1}, headers=auth(admin_key)).status_code == 201
    assert client.get(url, headers=auth(admin_key)).status_code == 200


# -- real responses against the document --------------------------------------------------


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Conformance:
    """Checks a response against the operation the document gives for its method and path."""

    def __init__(self, document: dict[str, Any], client: FlaskClient, key: IssuedKey) -> None:
        self.document = document
        self.client = client
        self.headers = auth(key)
        self.base = document["servers"][0]["url"]
        self.seen: set[tuple[str, str, int]] = set()

    def call(self, method: str, template: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = self.client.open(self.base + path, method=method, headers=headers, **kwargs)
        self.check(method, template, response)
        return response

    def check(self, method: str, template: str, response: Any) -> None:
        operation = self.document["paths"][template][method.lower()]
        status = str(response.status_code)
        assert status in operation["responses"], (method, template, status, response.get_data())
        location = ("paths", template, method.lower(), "responses", status)
        declared = operation["responses"][status]
        if "$ref" in declared:
            location = tuple(declared["$ref"].removeprefix("#/").split("/"))
            declared = self.document["components"]["responses"][location[-1]]
        for name, header in declared.get("headers", {}).items():
            header = self._resolve(header)
            if header.get("required"):
                assert name in response.headers, (method, template, status, name)
        self.seen.add((method, template, response.status_code))
        content = declared.get("content")
        if content is None:
            assert not response.get_data()
            return
        assert response.mimetype in content, (method, template, status, response.mimetype)
        schema = {**self.document, "$ref": _pointer(*location, "content", response.mimetype)}
        schema["$ref"] += "/schema"
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = [e.message for e in validator.iter_errors(response.get_json())]
        assert not errors, (method, template, status, errors[:3], response.get_json())

    def _resolve(self, item: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in item:
            return dict(self.document["components"]["headers"][item["$ref"].rsplit("/", 1)[-1]])
        return item


@pytest.fixture
def api(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> Iterator[Conformance]:
    apply_yaml(runtime, project, PROJECT_FILE)
    yield Conformance(fetch(client, project, admin_key), client, admin_key)


def test_record_responses_conform(api: Conformance) -> None:
    records = "/collections/{c}/records"
    authors_path, posts_path = (records.replace("{c}", c) for c in ("authors", "posts"))
    ada = api.call("POST", authors_path, authors_path, json={"name": "Ada", "email": "a@b.co"})
    assert ada.status_code == 201 and ada.headers["Location"].endswith(ada.get_json()["id"])
    ada_id = ada.get_json()["id"]
    full = {
        "title": "Hello",
        "score": 1.5,
        "views": 2,
        "published": True,
        "due": "2024-05-01",
        "posted_at": "2024-05-01T12:00:00Z",
        "meta": {"k": [1, None, "x"]},
        "link": "https://example.com/x",
        "tags": ["a", "b"],
        "author": ada_id,
        "reviewers": [ada_id],
    }
    post = api.call("POST", posts_path, posts_path, json=full).get_json()
    bare = api.call("POST", posts_path, posts_path, json={"title": "Bare"}).get_json()
    assert bare["tags"] is None and bare["status"] == "draft"
    one = f"{posts_path}/{{id}}"
    api.call("GET", one, f"{posts_path}/{post['id']}")
    api.call("GET", one, f"{posts_path}/{bare['id']}")
    page = api.call(
        "GET", posts_path, posts_path, query_string={"expand": "author,reviewers", "limit": 1}
    )
    assert page.headers["Link"] and page.get_json()["next_cursor"]
    api.call("GET", posts_path, posts_path, query_string={"fields": "id,title", "count": "true"})
    api.call("GET", posts_path, posts_path, query_string={"filter": "nonsense ~"})
    stale = api.call(
        "PATCH", one, f"{posts_path}/{post['id']}", json={"views": 3}, headers={"If-Match": '"9"'}
    )
    assert stale.status_code == 412 and stale.get_json()["current_version"] == 1
    api.call("PATCH", one, f"{posts_path}/{post['id']}", json={"title": 5})
    api.call("PATCH", one, f"{posts_path}/{post['id']}", data="{", content_type="application/json")
    api.call("PATCH", one, f"{posts_path}/{post['id']}", data="x", content_type="text/plain")
    again = {"Idempotency-Key": "k-1"}
    api.call("PATCH", one, f"{posts_path}/{post['id']}", json={"views": 4}, headers=again)
    replay = api.call("PATCH", one, f"{posts_path}/{post['id']}", json={"views": 4}, headers=again)
    assert replay.headers["Idempotent-Replayed"] == "true"
    api.call("PATCH", one, f"{posts_path}/{post['id']}", json={"views": 5}, headers=again)
    api.call("POST", authors_path, authors_path, json={"name": "Bob", "email": "a@b.co"})  # 409
    api.call("DELETE", f"{authors_path}/{{id}}", f"{authors_path}/{ada_id}")  # restrict: 409
    api.call("DELETE", one, f"{posts_path}/{bare['id']}")
    assert {(s[0], s[2]) for s in api.seen} >= {
        ("POST", 201),
        ("GET", 200),
        ("GET", 400),
        ("PATCH", 200),
        ("PATCH", 400),
        ("PATCH", 412),
        ("PATCH", 415),
        ("PATCH", 422),
        ("POST", 409),
        ("DELETE", 409),
        ("DELETE", 204),
    }


def test_batch_responses_conform(api: Conformance) -> None:
    create = {"method": "POST", "path": "/collections/authors/records", "body": {"name": "A"}}
    done = api.call("POST", "/batch", "/batch", json={"operations": [create, create]})
    assert done.status_code == 200
    first = done.get_json()["results"][0]["body"]
    change = {
        "method": "PATCH",
        "path": f"/collections/authors/records/{first['id']}",
        "body": {"name": "B"},
        "if_match": '"1"',
    }
    remove = {"method": "DELETE", "path": f"/collections/authors/records/{first['id']}"}
    assert api.call("POST", "/batch", "/batch", json={"operations": [change, remove]}).json[
        "results"
    ][1] == {"status": 204, "body": None}
    failed = api.call("POST", "/batch", "/batch", json={"operations": [create, change]})
    assert failed.status_code == 404 and failed.get_json()["operation"] == 1
    invalid = {**create, "body": {"name": 1}}
    failed = api.call("POST", "/batch", "/batch", json={"operations": [invalid]})
    assert failed.status_code == 422 and failed.get_json()["operation"] == 0
    assert api.call("POST", "/batch", "/batch", json={"operations": []}).status_code == 422


def test_schema_responses_conform(api: Conformance) -> None:
    one = "/collections/{name}"
    api.call("GET", "/collections", "/collections")
    api.call("GET", one, "/collections/posts")
    api.call("GET", one, "/collections/nothing_here")
    definition = {"fields": {"body": {"type": "text"}}, "rules": {"list": ""}}
    planned = api.call(
        "PUT", one, "/collections/notes", json=definition, query_string={"dry_run": "true"}
    )
    assert planned.get_json()["applied"] is False
    assert api.call("PUT", one, "/collections/notes", json=definition).get_json()["applied"]
    api.call("PUT", one, "/collections/notes", json={"fields": {"body": {"type": "nope"}}})
    refused = api.call("PUT", one, "/collections/notes", json={"fields": {}})  # drops a field
    assert refused.status_code == 409 and refused.get_json()["plan"]["destructive"]
    assert api.call("DELETE", one, "/collections/notes").status_code == 409
    assert (
        api.call("DELETE", one, "/collections/notes", query_string={"dry_run": "true"}).status_code
        == 200
    )
    dropped = api.call(
        "DELETE", one, "/collections/notes", query_string={"allow_destructive": "true"}
    )
    assert dropped.status_code == 204


def test_api_key_responses_conform(api: Conformance, runtime: Runtime) -> None:
    created = api.call("POST", "/api-keys", "/api-keys", json={"scope": "read", "expires_in": "1d"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    key_id = created.get_json()["id"]
    one = "/api-keys/{key_id}"
    api.call("GET", "/api-keys", "/api-keys", query_string={"limit": 1})
    api.call("GET", one, f"/api-keys/{key_id}")
    rotated = api.call("POST", f"{one}/rotate", f"/api-keys/{key_id}/rotate")
    assert rotated.status_code == 201 and rotated.get_json()["rotated_from"] == key_id
    assert api.call("POST", f"{one}/rotate", f"/api-keys/{key_id}/rotate").status_code == 422
    assert api.call("DELETE", one, f"/api-keys/{key_id}").status_code == 204
    api.call("GET", "/api-keys", "/api-keys", query_string={"include_revoked": "true"})
    api.call("POST", "/api-keys", "/api-keys", json={"scope": "root"})
    reader = make_key(runtime, make_project(runtime), scope="read")
    api.call("GET", "/api-keys", "/api-keys", headers=auth(reader))  # another project's: 401


# -- webhooks, schedules, jobs ------------------------------------------------------------


# Port 9 (discard) on loopback refuses at once; the test settings allow private targets.
HOOK = {"name": "notify", "url": "http://127.0.0.1:9/x", "events": ["record.created"]}


def test_webhook_responses_conform(
    api: Conformance, runtime: Runtime, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 1)  # the first refused attempt is final
    created = api.call("POST", "/webhooks", "/webhooks", json={**HOOK, "collections": ["authors"]})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    hook = created.get_json()
    assert hook["secret"].startswith("whsec_") and hook["collections"] == ["authors"]
    assert created.headers["Location"].endswith(f"/webhooks/{hook['id']}")
    given = api.call(
        "POST",
        "/webhooks",
        "/webhooks",
        json={**HOOK, "name": "quiet", "secret": "s" * 24, "enabled": False},
    )
    assert given.status_code == 201 and "secret" not in given.get_json()
    assert api.call("POST", "/webhooks", "/webhooks", json=HOOK).status_code == 409
    invalid = api.call("POST", "/webhooks", "/webhooks", json={**HOOK, "events": [], "x": 1})
    assert invalid.status_code == 422 and set(invalid.get_json()["errors"]) == {"events", "x"}
    unresolvable = {**HOOK, "name": "far", "url": "http://no-such-host.invalid/x"}
    assert api.call("POST", "/webhooks", "/webhooks", json=unresolvable).status_code == 422
    api.call("POST", "/webhooks", "/webhooks", data="{", content_type="application/json")
    api.call("POST", "/webhooks", "/webhooks", data="x", content_type="text/plain")

    one, gone = "/webhooks/{webhook_id}", f"/webhooks/{uuid.uuid4()}"
    listed = api.call("GET", "/webhooks", "/webhooks").get_json()
    assert [w["name"] for w in listed["items"]] == ["notify", "quiet"]
    assert "secret" not in api.call("GET", one, f"/webhooks/{hook['id']}").get_json()
    assert api.call("GET", one, gone).status_code == 404
    patched = api.call(
        "PATCH",
        one,
        f"/webhooks/{hook['id']}",
        json={"events": ["record.created", "record.updated", "record.created"]},
    )
    assert patched.get_json()["events"] == ["record.created", "record.updated"]
    assert "secret" not in patched.get_json() and patched.headers["Cache-Control"] == "no-store"
    rename = api.call("PATCH", one, f"/webhooks/{given.get_json()['id']}", json={"name": "notify"})
    assert rename.status_code == 409
    assert api.call("PATCH", one, f"/webhooks/{hook['id']}", json={"url": 1}).status_code == 422
    assert api.call("PATCH", one, gone, json={}).status_code == 404

    # Two records → two events → two deliveries, each refused at once and so failed.
    authors = "/collections/authors/records"
    for name in ("Ada", "Bob"):
        api.call("POST", authors, authors, json={"name": name})
    run_queued(runtime, "default", "webhooks")
    deliveries = "/webhooks/{webhook_id}/deliveries"
    mine = f"/webhooks/{hook['id']}/deliveries"
    page = api.call("GET", deliveries, mine, query_string={"limit": 1})
    assert page.headers["Link"] and page.get_json()["next_cursor"]
    [first] = page.get_json()["items"]
    assert (first["status"], first["attempts"], first["next_attempt_at"]) == ("failed", 1, None)
    [attempt] = first["attempts_log"]
    assert attempt["status_code"] is None and attempt["error"].startswith("ConnectError")
    rest = api.call(
        "GET", deliveries, mine, query_string={"cursor": page.get_json()["next_cursor"]}
    )
    assert len(rest.get_json()["items"]) == 1 and rest.get_json()["next_cursor"] is None
    assert api.call("GET", deliveries, mine, query_string={"cursor": "x"}).status_code == 400
    assert api.call("GET", deliveries, mine, query_string={"limit": 0}).status_code == 400
    assert api.call("GET", deliveries, f"{gone}/deliveries").status_code == 404

    redeliver = f"{deliveries}/{{delivery_id}}/redeliver"
    again = api.call("POST", redeliver, f"{mine}/{first['id']}/redeliver")
    assert again.status_code == 202
    pending = api.call("POST", redeliver, f"{mine}/{first['id']}/redeliver")
    assert pending.status_code == 422 and "status" in pending.get_json()["errors"]
    assert api.call("POST", redeliver, f"{mine}/{uuid.uuid4()}/redeliver").status_code == 404
    elsewhere = f"/webhooks/{given.get_json()['id']}/deliveries/{first['id']}/redeliver"
    assert api.call("POST", redeliver, elsewhere).status_code == 404
    run_queued(runtime, "default", "webhooks")
    redelivered = api.call("GET", deliveries, mine).get_json()["items"]
    assert [len(d["attempts_log"]) for d in redelivered] == [2, 1]

    service_key = auth(make_key(runtime, project, scope="service"))
    assert api.call("GET", "/webhooks", "/webhooks", headers=service_key).status_code == 403
    assert (
        api.call("POST", "/webhooks", "/webhooks", json=HOOK, headers=service_key).status_code
        == 403
    )
    assert api.call("DELETE", one, f"/webhooks/{hook['id']}").status_code == 204
    assert api.call("DELETE", one, f"/webhooks/{hook['id']}").status_code == 404
    assert {(s[0], s[1], s[2]) for s in api.seen} >= {
        ("POST", "/webhooks", 201),
        ("POST", "/webhooks", 400),
        ("POST", "/webhooks", 403),
        ("POST", "/webhooks", 409),
        ("POST", "/webhooks", 415),
        ("POST", "/webhooks", 422),
        ("PATCH", one, 200),
        ("PATCH", one, 404),
        ("PATCH", one, 409),
        ("PATCH", one, 422),
        ("GET", deliveries, 200),
        ("GET", deliveries, 400),
        ("POST", redeliver, 202),
        ("POST", redeliver, 404),
        ("POST", redeliver, 422),
        ("DELETE", one, 204),
    }


PURGE = {"type": "purge", "collection": "posts", "older_than": "30d", "filter": 'status = "draft"'}


def test_schedule_responses_conform(api: Conformance, runtime: Runtime, project: Project) -> None:
    nightly = {"name": "nightly", "cron": "0 3 * * *", "timezone": "Europe/Berlin", "action": PURGE}
    created = api.call("POST", "/schedules", "/schedules", json=nightly)
    assert created.status_code == 201 and created.get_json()["next_run_at"]
    schedule = created.get_json()
    assert created.headers["Location"].endswith(f"/schedules/{schedule['id']}")
    export = {
        "name": "export",
        "cron": "@daily",
        "action": {"type": "export", "collection": "posts"},
        "enabled": False,
    }
    off = api.call("POST", "/schedules", "/schedules", json=export).get_json()
    assert (off["timezone"], off["next_run_at"]) == ("UTC", None)
    tick = {"type": "webhook", "url": "http://127.0.0.1:9/tick", "secret": "s3cret" * 5}
    pinged = api.call(
        "POST",
        "/schedules",
        "/schedules",
        json={"name": "ping", "cron": "0 * * * *", "action": tick},
    )
    assert pinged.get_json()["action"] == {"type": "webhook", "url": tick["url"]}  # no secret
    assert api.call("POST", "/schedules", "/schedules", json=nightly).status_code == 409
    bad = api.call("POST", "/schedules", "/schedules", json={**nightly, "cron": "at noon"})
    assert bad.status_code == 422 and "cron" in bad.get_json()["errors"]
    api.call("POST", "/schedules", "/schedules", data="[", content_type="application/json")
    api.call("POST", "/schedules", "/schedules", data="x", content_type="text/plain")

    one, gone = "/schedules/{schedule_id}", f"/schedules/{uuid.uuid4()}"
    listed = api.call("GET", "/schedules", "/schedules").get_json()
    assert [s["name"] for s in listed["items"]] == ["export", "nightly", "ping"]
    assert api.call("GET", one, f"/schedules/{schedule['id']}").get_json() == schedule
    assert api.call("GET", one, gone).status_code == 404
    enabled = api.call("PATCH", one, f"/schedules/{off['id']}", json={"enabled": True})
    assert enabled.get_json()["next_run_at"]
    assert (
        api.call("PATCH", one, f"/schedules/{off['id']}", json={"name": "ping"}).status_code == 409
    )
    wrong = api.call("PATCH", one, f"/schedules/{off['id']}", json={"action": {"type": "x"}})
    assert wrong.status_code == 422 and "action.type" in wrong.get_json()["errors"]
    assert api.call("PATCH", one, gone, json={"enabled": False}).status_code == 404

    # Every schedule's tick claimed and run: the purge finds nothing old enough, the export
    # writes its file, the ping is refused (port 9).
    runs, mine = "/schedules/{schedule_id}/runs", f"/schedules/{schedule['id']}/runs"
    assert api.call("GET", runs, mine).get_json()["items"] == []
    with runtime.db.tenant(project.id) as conn:
        due = schedules.get_schedule(conn, project.id, uuid.UUID(schedule["id"])).next_run_at
        assert due is not None
        assert len(schedules.claim_due(conn, project.id, due + timedelta(seconds=1))) == 3
    run_queued(runtime, "default", "webhooks")
    [run] = api.call("GET", runs, mine).get_json()["items"]
    assert (run["status"], run["result"]["deleted"], run["error"]) == ("succeeded", 0, None)
    [refused] = api.call("GET", runs, f"/schedules/{pinged.get_json()['id']}/runs").json["items"]
    assert (refused["status"], refused["result"]) == ("failed", None) and refused["error"]
    [exported] = api.call("GET", runs, f"/schedules/{off['id']}/runs").json["items"]
    assert exported["result"]["records"] == 0 and exported["finished_at"]
    after = api.call("GET", one, f"/schedules/{schedule['id']}").get_json()
    assert after["last_status"] == "succeeded" and after["last_run_at"] == run["tick"]
    assert api.call("GET", runs, f"{gone}/runs").status_code == 404

    reader = auth(make_key(runtime, project, scope="write"))
    assert api.call("GET", one, f"/schedules/{schedule['id']}", headers=reader).status_code == 403
    for made in (schedule, off, pinged.get_json()):  # none left for later tests to tick
        assert api.call("DELETE", one, f"/schedules/{made['id']}").status_code == 204
    assert api.call("DELETE", one, f"/schedules/{schedule['id']}").status_code == 404
    assert api.call("GET", "/schedules", "/schedules").get_json()["items"] == []
    assert {(s[0], s[1], s[2]) for s in api.seen} >= {
        ("POST", "/schedules", 201),
        ("POST", "/schedules", 400),
        ("POST", "/schedules", 409),
        ("POST", "/schedules", 415),
        ("POST", "/schedules", 422),
        ("PATCH", one, 200),
        ("PATCH", one, 404),
        ("PATCH", one, 409),
        ("PATCH", one, 422),
        ("GET", runs, 200),
        ("GET", one, 403),
        ("DELETE", one, 204),
        ("DELETE", one, 404),
    }


def failing_job(runtime: Runtime, project: Project) -> str:
    """A real job of the project that fails in a real worker (a malformed schedule id)."""
    job_id = enqueue_failing_job(runtime, project, f"openapi-{project.slug}")
    run_queued(runtime, "default", "webhooks")
    return job_id


def test_job_responses_conform(api: Conformance, runtime: Runtime, project: Project) -> None:
    api.call(
        "POST", "/collections/authors/records", "/collections/authors/records", json={"name": "A"}
    )
    failed = failing_job(runtime, project)  # also runs the record's event: a finished job
    listed = api.call("GET", "/jobs", "/jobs").get_json()["items"]
    assert {j["status"] for j in listed} == {"failed", "finished"}
    [done] = [j for j in listed if j["status"] == "finished"]
    assert done["function"] == "dispatch_event" and done["error"] is None
    only = api.call("GET", "/jobs", "/jobs", query_string={"status": "failed"}).get_json()
    assert [j["id"] for j in only["items"]] == [failed] and only["next_cursor"] is None
    bogus = api.call("GET", "/jobs", "/jobs", query_string={"status": "bogus"})
    assert bogus.status_code == 422 and "status" in bogus.get_json()["errors"]

    one, retry = "/jobs/{job_id}", "/jobs/{job_id}/retry"
    shown = api.call("GET", one, f"/jobs/{failed}").get_json()
    assert shown["status"] == "failed" and shown["error"].startswith("ValueError")
    assert api.call("GET", one, "/jobs/no-such-job").status_code == 404
    assert api.call("POST", retry, f"/jobs/{done['id']}/retry").status_code == 422
    retried = api.call("POST", retry, f"/jobs/{failed}/retry")
    assert retried.status_code == 202 and retried.get_json()["status"] == "queued"
    assert api.call("POST", retry, f"/jobs/{failed}/retry").status_code == 422
    assert api.call("POST", retry, "/jobs/no-such-job/retry").status_code == 404
    reader = auth(make_key(runtime, project, scope="read"))
    assert api.call("GET", "/jobs", "/jobs", headers=reader).status_code == 403
    run_queued(runtime, "default", "webhooks")  # the retried job fails again, in this test
    assert {(s[0], s[1], s[2]) for s in api.seen} >= {
        ("GET", "/jobs", 200),
        ("GET", "/jobs", 403),
        ("GET", "/jobs", 422),
        ("GET", one, 200),
        ("GET", one, 404),
        ("POST", retry, 202),
        ("POST", retry, 404),
        ("POST", retry, 422),
    }
