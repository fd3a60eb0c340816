"""Schemathesis against the project's own OpenAPI document, on the real WSGI app in-process.

Every generated request must get a response the document describes: no 5xx, a documented
status, the documented content type, headers and body schema. The project covers every field
type and relations (single and multiple), and holds records before fuzzing starts, so lists,
expansions and updates answer with real data.

Bounded: 25 examples per operation (positive and negative data), derandomized, no example
database. Left out on purpose: PUT and DELETE /collections/{name} (they would rewrite or drop
the schema under the other operations; test_openapi.py checks their responses). Key revoke and
rotate get generated ids or keys made for them, never the key the fuzzer authenticates with;
likewise webhook and schedule PATCH and DELETE get victims made for them, never the webhook
with deliveries or the schedule with a run that the other operations read. Creates and changes
of webhooks and schedules also draw from small sets of valid bodies (loopback URLs, known cron
expressions), else nearly all would be 422s. Whatever the fuzzer declared is deleted at the
end, before any later test's worker could run it.

End users: the project declares profile fields, a redirect allow-list and a GitHub-preset
provider (its authorize step needs no network). The signed-in user's endpoints are called with
a user's session, never the admin key (which they answer with a 401): one user's session for
reading and changing itself, another's for changing its password (to the same one, the only
body that can succeed), a third's for signing out; ending a session gets a second session of
the first user. Admin user changes, deletes and sign-outs get a victim user; provider
replacements and deletes a victim provider. Sign-in, the password change, provider bodies and
the authorize step's redirect_to also draw from small sets of valid values.

Inputs that once reached server bugs the fuzzer found (NUL characters, JSON Postgres cannot
store, datetimes outside years 1-9999 in UTC, overlong key lifetimes, malformed batch ids) have
regression tests at the end of this file, and so do the bugs it found in webhooks, schedules
and jobs (bad job ids, malformed URLs and ports, crons that never fire, odd time zones, forged
sealed secrets, export paths outside the data dir) and in users and OAuth (NUL characters in a
user search or a provider name, a line break in an OAuth redirect_to).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import hypothesis
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import delete

from cairn.app import create_app
from cairn.config import Settings
from cairn.runtime import Runtime
from cairn.schedules import service as schedules_service
from cairn.schedules.models import schedules as schedules_table
from cairn.tenancy.service import Project
from cairn.webhooks import delivery
from cairn.webhooks.models import webhooks as webhooks_table
from tests.conftest import auth
from tests.factories import apply_file, enqueue_failing_job, make_key, make_project, run_queued

FUZZ_PROJECT = """
collections:
  - name: authors
    fields:
      name: {type: text, required: true, min_length: 1, max_length: 80}
      email: {type: email, unique: true, max_length: 200}
      site: {type: url}
      best: {type: relation, collection: posts, on_delete: set_null}
  - name: posts
    fields:
      title: {type: text, required: true, max_length: 200, pattern: "[A-Za-z]"}
      body: {type: text}
      status: {type: select, values: [draft, published], default: draft}
      score: {type: number, min: 0, max: 100}
      views: {type: integer, default: 0, min: 0}
      published: {type: boolean, default: false}
      due: {type: date}
      posted_at: {type: datetime}
      meta: {type: json}
      settings: {type: json, required: true, default: {}}
      link: {type: url}
      tags: {type: select, values: [a, b, c], multiple: true}
      author: {type: relation, collection: authors, on_delete: set_null}
      reviewers: {type: relation, collection: authors, multiple: true, on_delete: set_null}
    indexes: [{fields: [status, posted_at]}]
users:
  fields:
    display_name: {type: text, max_length: 80}
    age: {type: integer, min: 0}
    plan: {type: select, values: [free, pro], required: true, default: free}
    born: {type: date}
    prefs: {type: json}
auth:
  redirect_allow: ["https://app.example.com/*"]
  providers:
    - {name: gh, preset: github, client_id: fuzz-client, client_secret: fuzz-secret}
"""
PASSWORD = "correct horse battery"

RECORD_OPERATIONS = [
    (method, f"/collections/{collection}/records{suffix}")
    for collection in ("authors", "posts")
    for method, suffix in (
        ("GET", ""),
        ("POST", ""),
        ("GET", "/{id}"),
        ("PATCH", "/{id}"),
        ("DELETE", "/{id}"),
    )
]
OTHER_OPERATIONS = [
    ("GET", "/api-keys"),
    ("POST", "/api-keys"),
    ("GET", "/api-keys/{key_id}"),
    ("DELETE", "/api-keys/{key_id}"),
    ("POST", "/api-keys/{key_id}/rotate"),
    ("GET", "/collections"),
    ("GET", "/collections/{name}"),
    ("POST", "/batch"),
    ("GET", "/openapi.json"),
    ("GET", "/audit"),
]
AUTOMATION_OPERATIONS = [
    ("GET", "/webhooks"),
    ("POST", "/webhooks"),
    ("GET", "/webhooks/{webhook_id}"),
    ("PATCH", "/webhooks/{webhook_id}"),
    ("DELETE", "/webhooks/{webhook_id}"),
    ("GET", "/webhooks/{webhook_id}/deliveries"),
    ("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"),
    ("GET", "/schedules"),
    ("POST", "/schedules"),
    ("GET", "/schedules/{schedule_id}"),
    ("PATCH", "/schedules/{schedule_id}"),
    ("DELETE", "/schedules/{schedule_id}"),
    ("GET", "/schedules/{schedule_id}/runs"),
    ("GET", "/jobs"),
    ("GET", "/jobs/{job_id}"),
    ("POST", "/jobs/{job_id}/retry"),
]
USER_OPERATIONS = [
    ("POST", "/auth/signup"),
    ("POST", "/auth/login"),
    ("POST", "/auth/logout"),
    ("GET", "/auth/me"),
    ("PATCH", "/auth/me"),
    ("POST", "/auth/password"),
    ("POST", "/auth/email-change"),
    ("GET", "/auth/email-change/confirm"),
    ("POST", "/auth/email-change/confirm"),
    ("POST", "/auth/password-reset"),
    ("POST", "/auth/password-reset/confirm"),
    ("POST", "/auth/verify-email"),
    ("GET", "/auth/verify-email/confirm"),
    ("POST", "/auth/verify-email/confirm"),
    ("GET", "/auth/sessions"),
    ("DELETE", "/auth/sessions/{session_id}"),
    ("GET", "/auth/oauth/{provider}/authorize"),
    ("GET", "/auth/oauth/{provider}/callback"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("GET", "/users/{user_id}"),
    ("PATCH", "/users/{user_id}"),
    ("POST", "/users/{user_id}/logout"),  # before the victim is deleted
    ("DELETE", "/users/{user_id}"),
    ("GET", "/auth/providers"),
    ("POST", "/auth/providers"),
    ("GET", "/auth/providers/{provider_id}"),
    ("PUT", "/auth/providers/{provider_id}"),
    ("DELETE", "/auth/providers/{provider_id}"),
]
NOT_FUZZED = {("PUT", "/collections/{name}"), ("DELETE", "/collections/{name}")}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Target:
    app: Flask
    schema: Any  # schemathesis' OpenApiSchema
    headers: dict[str, str]
    # Path parameters that name something real, so that half of the cases of an operation
    # on one resource reach it: (method, path) → parameters.
    known: dict[tuple[str, str], dict[str, str]]
    # The credential of operations not called with the admin key: (method, path) → headers.
    credentials: dict[tuple[str, str], dict[str, str]]


@pytest.fixture(scope="module")
def target(settings: Settings, runtime: Runtime) -> Iterator[Target]:
    project = apply_file(runtime, make_project(runtime), FUZZ_PROJECT)
    app = create_app(settings, runtime)
    headers = auth(make_key(runtime, project, scope="admin"))
    client = app.test_client()
    base = f"/api/v1/projects/{project.slug}"

    def made(collection: str, body: dict[str, Any]) -> str:
        response = client.post(
            f"{base}/collections/{collection}/records", json=body, headers=headers
        )
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["id"])

    authors = [
        made("authors", {"name": "Ada", "email": "ada@example.com", "site": "https://ada.dev"}),
        made("authors", {"name": "Grace"}),
    ]
    posts = [
        made(
            "posts",
            {
                "title": "Hello",
                "body": "first",
                "status": "published",
                "score": 9.5,
                "views": 3,
                "published": True,
                "due": "2024-05-01",
                "posted_at": "2024-05-01T12:00:00Z",
                "meta": {"k": [1, "x", None]},
                "link": "https://example.com/a",
                "tags": ["a", "c"],
                "author": authors[0],
                "reviewers": authors,
            },
        ),
        made("posts", {"title": "Second"}),
        *(made("posts", {"title": f"Filler {i}", "author": authors[1]}) for i in range(3)),
    ]
    client.patch(
        f"{base}/collections/authors/records/{authors[0]}", json={"best": posts[0]}, headers=headers
    )
    # Keys the fuzzer may revoke and rotate: never the one it authenticates with.
    victim, rotated = (make_key(runtime, project, scope="read") for _ in range(2))
    known = {
        ("GET", "/collections/{name}"): {"name": "posts"},
        ("GET", "/api-keys/{key_id}"): {"key_id": str(victim.key.id)},
        ("DELETE", "/api-keys/{key_id}"): {"key_id": str(victim.key.id)},
        ("POST", "/api-keys/{key_id}/rotate"): {"key_id": str(rotated.key.id)},
    }
    for collection, ids in (("authors", authors), ("posts", posts)):
        path = f"/collections/{collection}/records/{{id}}"
        known[("GET", path)] = known[("PATCH", path)] = {"id": ids[0]}
        known[("DELETE", path)] = {"id": ids[-1]}
    known.update(_automation_fixtures(runtime, project, client, base, headers))
    credentials = _user_fixtures(client, base, headers, known)
    schema = schemathesis.openapi.from_wsgi(f"{base}/openapi.json", app, headers=headers)
    yield Target(app, schema, headers, known, credentials)
    # What the fuzzer declared must never run: later tests' workers would tick its schedules
    # (exports to generated paths) and deliver its webhooks (to generated hosts).
    with runtime.db.tenant(project.id) as conn:
        conn.execute(delete(schedules_table).where(schedules_table.c.project_id == project.id))
        conn.execute(delete(webhooks_table).where(webhooks_table.c.project_id == project.id))


def _automation_fixtures(
    runtime: Runtime, project: Project, client: Any, base: str, headers: dict[str, str]
) -> dict[tuple[str, str], dict[str, str]]:
    """A webhook with a failed delivery, schedules with a run, a failed job; and victims the
    fuzzer may change and delete."""

    def made(path: str, body: dict[str, Any]) -> str:
        response = client.post(f"{base}{path}", json=body, headers=headers)
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["id"])

    hook = {"url": "http://127.0.0.1:9/x", "events": ["record.created", "record.deleted"]}
    webhook, webhook_victim = (made("/webhooks", {**hook, "name": n}) for n in ("hook", "victim"))
    purge = {"type": "purge", "collection": "posts", "older_than": "3650d"}
    schedule, schedule_victim = (
        made("/schedules", {"name": n, "cron": "0 3 * * *", "action": purge})
        for n in ("nightly", "victim")
    )
    failed = enqueue_failing_job(runtime, project, f"fuzz-{project.slug}")
    with runtime.db.tenant(project.id) as conn:
        due = schedules_service.get_schedule(conn, project.id, UUID(schedule)).next_run_at
        assert due is not None
        schedules_service.claim_due(conn, project.id, due)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(delivery, "MAX_ATTEMPTS", 1)  # refused once (port 9): failed
        run_queued(runtime, "default", "webhooks")
    # One delivery per record made so far: their events are dispatched by this worker.
    listed = client.get(f"{base}/webhooks/{webhook}/deliveries", headers=headers).get_json()
    delivered = listed["items"][0]
    assert {d["status"] for d in listed["items"]} == {"failed"}
    hook_path, schedule_path = "/webhooks/{webhook_id}", "/schedules/{schedule_id}"
    return {
        ("GET", hook_path): {"webhook_id": webhook},
        ("PATCH", hook_path): {"webhook_id": webhook_victim},
        ("DELETE", hook_path): {"webhook_id": webhook_victim},
        ("GET", f"{hook_path}/deliveries"): {"webhook_id": webhook},
        ("POST", f"{hook_path}/deliveries/{{delivery_id}}/redeliver"): {
            "webhook_id": webhook,
            "delivery_id": delivered["id"],
        },
        ("GET", schedule_path): {"schedule_id": schedule},
        ("PATCH", schedule_path): {"schedule_id": schedule_victim},
        ("DELETE", schedule_path): {"schedule_id": schedule_victim},
        ("GET", f"{schedule_path}/runs"): {"schedule_id": schedule},
        ("GET", "/jobs/{job_id}"): {"job_id": failed},
        ("POST", "/jobs/{job_id}/retry"): {"job_id": failed},
    }


def _user_fixtures(
    client: Any, base: str, headers: dict[str, str], known: dict[tuple[str, str], dict[str, str]]
) -> dict[tuple[str, str], dict[str, str]]:
    """Users with sessions for the signed-in user's endpoints, a victim user and a victim
    provider; answers the session each end-user operation is called with."""

    def signed_up(email: str) -> tuple[str, str]:
        response = client.post(
            f"{base}/auth/signup", json={"email": email, "password": PASSWORD, "age": 36}
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["user"]["id"], response.get_json()["token"]

    ada, reader = signed_up("ada@fuzz.test")
    _, changer = signed_up("bob@fuzz.test")
    _, leaver = signed_up("cy@fuzz.test")
    second = client.post(
        f"{base}/auth/login", json={"email": "ada@fuzz.test", "password": PASSWORD}
    )
    assert second.status_code == 200, second.get_json()
    mine = client.get(f"{base}/auth/sessions", headers=auth(second.get_json()["token"]))
    [ended] = [s["id"] for s in mine.get_json()["items"] if s["current"]]
    victim = client.post(f"{base}/users", json={"email": "victim@fuzz.test"}, headers=headers)
    assert victim.status_code == 201, victim.get_json()
    providers = client.get(f"{base}/auth/providers", headers=headers).get_json()["items"]
    [github] = [p["id"] for p in providers if p["name"] == "gh"]
    doomed = client.post(
        f"{base}/auth/providers",
        json={"name": "victim", "preset": "github", "client_id": "x", "client_secret": "y"},
        headers=headers,
    )
    assert doomed.status_code == 201, doomed.get_json()
    user_path, provider_path = "/users/{user_id}", "/auth/providers/{provider_id}"
    known.update(
        {
            ("GET", user_path): {"user_id": ada},
            ("PATCH", user_path): {"user_id": victim.get_json()["id"]},
            ("DELETE", user_path): {"user_id": victim.get_json()["id"]},
            ("POST", f"{user_path}/logout"): {"user_id": victim.get_json()["id"]},
            ("DELETE", "/auth/sessions/{session_id}"): {"session_id": ended},
            ("GET", provider_path): {"provider_id": github},
            ("PUT", provider_path): {"provider_id": doomed.get_json()["id"]},
            ("DELETE", provider_path): {"provider_id": doomed.get_json()["id"]},
            ("GET", "/auth/oauth/{provider}/authorize"): {"provider": "gh"},
            ("GET", "/auth/oauth/{provider}/callback"): {"provider": "gh"},
        }
    )
    as_reader = {
        (method, path): auth(reader)
        for method, path in [
            ("GET", "/auth/me"),
            ("PATCH", "/auth/me"),
            ("POST", "/auth/email-change"),
            ("GET", "/auth/sessions"),
            ("DELETE", "/auth/sessions/{session_id}"),
        ]
    }
    return {
        **as_reader,
        ("POST", "/auth/password"): auth(changer),
        ("POST", "/auth/logout"): auth(leaver),
    }


def test_the_fuzzed_operations_are_the_whole_document(target: Target) -> None:
    documented = {
        (method.upper(), path)
        for path, item in target.schema.raw_schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    fuzzed = set(RECORD_OPERATIONS) | set(OTHER_OPERATIONS) | set(AUTOMATION_OPERATIONS)
    fuzzed |= set(USER_OPERATIONS)
    assert documented == fuzzed | NOT_FUZZED


# Bodies the server accepts, drawn from small sets: generated URLs rarely resolve and generated
# cron expressions rarely parse, so without these the creates would all be 422s.
_NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True)
_LOOPBACK = ["http://127.0.0.1:9/x", "https://127.0.0.1:9/hook?x=1", "http://localhost:9/"]
_WEBHOOK_FIELDS = {
    "url": st.sampled_from([*_LOOPBACK, "HTTP://[::1]:9/x"]),
    "events": st.lists(
        st.sampled_from(["record.created", "record.updated", "record.deleted"]),
        min_size=1,
        max_size=4,
    ),
}
_WEBHOOK_OPTIONAL = {
    "collections": st.lists(st.sampled_from(["authors", "posts", "elsewhere"]), max_size=3),
    "enabled": st.booleans(),
    "secret": st.none() | st.text(min_size=24, max_size=40),
}
_ACTIONS = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("purge"),
            "collection": st.sampled_from(["posts", "authors"]),
            "older_than": st.sampled_from(["30d", "12h", " 2 w "]),
        },
        optional={"filter": st.sampled_from([None, 'status = "draft"', "views > 3 || !(a = 1)"])},
    ),
    st.fixed_dictionaries(
        {"type": st.just("export"), "collection": st.sampled_from(["posts", "authors"])}
    ),
    st.fixed_dictionaries(
        {"type": st.just("webhook"), "url": st.sampled_from(_LOOPBACK)},
        optional={"secret": st.none() | st.text(max_size=30)},
    ),
)
_SCHEDULE_FIELDS = {
    "cron": st.sampled_from(["0 3 * * *", "*/5 * * * *", "@daily", "0 0 1 1 *", "* * * * * 30"]),
    "action": _ACTIONS,
}
_SCHEDULE_OPTIONAL = {
    "timezone": st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    "enabled": st.booleans(),
}
_PROVIDER_FIELDS = {
    "client_id": st.text(min_size=1, max_size=20).filter(str.strip),
    "client_secret": st.text(min_size=1, max_size=20).filter(str.strip),
}
_PROVIDERS = st.one_of(
    st.fixed_dictionaries(
        {"name": _NAMES, "preset": st.sampled_from(["github", "google"]), **_PROVIDER_FIELDS},
        optional={"scopes": st.sampled_from([["openid"], ["openid", "email"]])},
    ),
    st.fixed_dictionaries(
        {
            "name": _NAMES,
            "discovery_url": st.sampled_from(
                ["http://127.0.0.1:9/.well-known/openid-configuration", "https://localhost:9/"]
            ),
            **_PROVIDER_FIELDS,
        },
        optional={"scopes": st.sampled_from([["openid"], ["openid", "profile", "openid"]])},
    ),
)
VALID_BODIES: dict[tuple[str, str], st.SearchStrategy[dict[str, Any]]] = {
    ("POST", "/webhooks"): st.fixed_dictionaries(
        {"name": _NAMES, **_WEBHOOK_FIELDS}, optional=_WEBHOOK_OPTIONAL
    ),
    ("PATCH", "/webhooks/{webhook_id}"): st.fixed_dictionaries(
        {}, optional={"name": _NAMES, **_WEBHOOK_FIELDS, **_WEBHOOK_OPTIONAL}
    ),
    ("POST", "/schedules"): st.fixed_dictionaries(
        {"name": _NAMES, **_SCHEDULE_FIELDS}, optional=_SCHEDULE_OPTIONAL
    ),
    ("PATCH", "/schedules/{schedule_id}"): st.fixed_dictionaries(
        {}, optional={"name": _NAMES, **_SCHEDULE_FIELDS, **_SCHEDULE_OPTIONAL}
    ),
    ("POST", "/auth/login"): st.fixed_dictionaries(
        {
            "email": st.sampled_from(["ada@fuzz.test", "ADA@fuzz.test", "nobody@fuzz.test"]),
            "password": st.sampled_from([PASSWORD, "wrong horse battery"]),
        }
    ),
    ("POST", "/auth/password"): st.just({"current_password": PASSWORD, "new_password": PASSWORD}),
    ("POST", "/auth/providers"): _PROVIDERS,
    ("PUT", "/auth/providers/{provider_id}"): _PROVIDERS,
}
# Query parameters the server accepts, likewise: a redirect_to on the project's allow-list.
VALID_QUERIES: dict[tuple[str, str], st.SearchStrategy[dict[str, Any]]] = {
    ("GET", "/auth/oauth/{provider}/authorize"): st.fixed_dictionaries(
        {
            "redirect_to": st.sampled_from(
                ["https://app.example.com/", "https://app.example.com/in?x=1#top"]
            )
        }
    ),
}


def _strategy(target: Target, method: str, path: str) -> st.SearchStrategy[Any]:
    operation = target.schema[path][method]
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    known = target.known.get((method, path))
    if known is not None:
        strategies += [
            operation.as_strategy(generation_mode=mode, path_parameters=known) for mode in modes
        ]
    bodies = VALID_BODIES.get((method, path))
    if bodies is not None:
        strategies.append(
            bodies.flatmap(lambda body: operation.as_strategy(body=body, path_parameters=known))
        )
    queries = VALID_QUERIES.get((method, path))
    if queries is not None:
        strategies.append(
            queries.flatmap(lambda query: operation.as_strategy(query=query, path_parameters=known))
        )
    return st.one_of(strategies)


def _fuzz(target: Target, method: str, path: str) -> None:
    headers = target.credentials.get((method, path), target.headers)

    @hypothesis.settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(case=_strategy(target, method, path))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize(("method", "path"), RECORD_OPERATIONS)
def test_fuzz_records(target: Target, method: str, path: str) -> None:
    _fuzz(target, method, path)


@pytest.mark.parametrize(("method", "path"), OTHER_OPERATIONS)
def test_fuzz_admin_and_service(target: Target, method: str, path: str) -> None:
    _fuzz(target, method, path)


@pytest.mark.parametrize(("method", "path"), AUTOMATION_OPERATIONS)
def test_fuzz_webhooks_schedules_jobs(target: Target, method: str, path: str) -> None:
    _fuzz(target, method, path)


@pytest.mark.parametrize(("method", "path"), USER_OPERATIONS)
def test_fuzz_users_and_auth(target: Target, method: str, path: str) -> None:
    _fuzz(target, method, path)


# -- the bugs, pinned -------------------------------------------------------------------


def _send(target: Target, method: str, path: str, **kwargs: Any) -> Any:
    base = target.schema.raw_schema["servers"][0]["url"]
    client = target.app.test_client()
    return client.open(f"{base}{path}", method=method, headers=target.headers, **kwargs)


def _assert_refused(response: Any, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.get_json())
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/collections/posts/records", {"json": {"title": "a\x00b"}}),
        ("POST", "/collections/posts/records", {"json": {"title": "ab", "meta": "x\x00"}}),
        ("POST", "/collections/posts/records", {"json": {"title": "ab", "meta": {"\x00": 1}}}),
        ("POST", "/api-keys", {"json": {"scope": "read", "name": "a\x00"}}),
        (
            "POST",
            "/batch",
            {
                "json": {
                    "operations": [
                        {
                            "method": "POST",
                            "path": "/collections/posts/records",
                            "body": {"title": "a\x00"},
                        }
                    ]
                }
            },
        ),
        ("GET", "/collections/posts/records", {"query_string": {"filter": 'title = "\x00"'}}),
    ],
    ids=["text", "json-value", "json-key", "key-name", "batch", "filter"],
)
def test_a_nul_character_is_refused(
    target: Target, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    _assert_refused(_send(target, method, path, **kwargs), 400, 422)


@pytest.mark.parametrize(
    "raw",
    [
        '{"title": "a\\ud800"}',
        '{"title": "ab", "meta": NaN}',
        '{"title": "ab", "meta": 1e400}',
        '{"title": "ab", "meta": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
    ids=["lone-surrogate", "nan", "overflowing-number", "deep-nesting"],
)
def test_json_the_database_cannot_take_is_refused(target: Target, raw: str) -> None:
    response = _send(
        target, "POST", "/collections/posts/records", data=raw, content_type="application/json"
    )
    _assert_refused(response, 400, 422)


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_datetime_outside_years_1_to_9999_in_utc_is_422(target: Target, value: str) -> None:
    response = _send(
        target, "POST", "/collections/posts/records", json={"title": "ab", "posted_at": value}
    )
    _assert_refused(response, 422)


@pytest.mark.parametrize("expires_in", ["3000000d", "999999999d", "999999999w"])
def test_an_api_key_lifetime_past_100_years_is_422(target: Target, expires_in: str) -> None:
    response = _send(target, "POST", "/api-keys", json={"scope": "read", "expires_in": expires_in})
    _assert_refused(response, 422)
    assert "expires_in" in response.get_json()["errors"]


def test_a_batch_path_with_a_non_uuid_id_is_refused(target: Target) -> None:
    operation = {"method": "DELETE", "path": "/collections/posts/records/" + "0" * 36}
    _assert_refused(_send(target, "POST", "/batch", json={"operations": [operation]}), 404, 422)


# -- regression tests for bugs found in webhooks, schedules and jobs -------------------------

HOOK = {"url": "http://127.0.0.1:9/x", "events": ["record.created"]}
TICK = {"cron": "0 3 * * *", "action": {"type": "export", "collection": "posts"}}


def _named(body: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"pinned-{uuid4().hex[:12]}", **body}


def _bug(reason: str) -> pytest.MarkDecorator:
    """Marks a regression test with the (fixed) bug it guards against."""
    return pytest.mark.regression(reason=reason)


@_bug(
    "jobs.service._one calls rq's Job.fetch, whose job id check raises ValueError for ids "
    "outside [A-Za-z0-9_-]+ (after the part before a ':'): a 500 instead of a 404"
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/jobs/a.b"), ("GET", "/jobs/%E2%80%A6"), ("POST", "/jobs/a.b/retry")],
    ids=["dot", "non-ascii", "retry"],
)
def test_a_job_id_rq_would_never_make_is_404(target: Target, method: str, path: str) -> None:
    _assert_refused(_send(target, method, path), 404)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {**HOOK, "events": [["record.created"]]},
            marks=_bug("load_webhook: set(events) raises TypeError for list/object items"),
            id="unhashable-event",
        ),
        pytest.param(
            {**HOOK, "url": "http://[::1/x"},
            marks=_bug("load_webhook: urlsplit raises ValueError (Invalid IPv6 URL)"),
            id="bad-ipv6",
        ),
        pytest.param(
            {**HOOK, "url": "http://127.0.0.1:99999/x"},
            marks=_bug("check_url: urlsplit(url).port raises ValueError (out of range)"),
            id="port-out-of-range",
        ),
        pytest.param(
            {**HOOK, "url": "http://127.0.0.1:port/x"},
            marks=_bug("check_url: urlsplit(url).port raises ValueError (not a number)"),
            id="port-not-a-number",
        ),
    ],
)
def test_a_bad_webhook_is_422(target: Target, body: dict[str, Any]) -> None:
    _assert_refused(_send(target, "POST", "/webhooks", json=_named(body)), 422)
    hook = _send(target, "POST", "/webhooks", json=_named(HOOK)).get_json()
    _assert_refused(_send(target, "PATCH", f"/webhooks/{hook['id']}", json=body), 422)


def _webhook_action(**action: Any) -> dict[str, Any]:
    return {**TICK, "action": {"type": "webhook", "url": HOOK["url"], **action}}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {**TICK, "cron": "0 0 31 2 *"},
            marks=_bug("croniter.is_valid passes, next_tick raises CroniterBadDateError"),
            id="cron-never-fires",
        ),
        pytest.param(
            {**TICK, "cron": "0 0 1 1 * 0 2001"},
            marks=_bug("a 7-field cron whose year is past: CroniterBadDateError"),
            id="cron-in-the-past",
        ),
        pytest.param(
            {**TICK, "cron": ",".join(str(m) for m in range(60)) + " * * * *"},
            marks=_bug("a valid cron over 120 characters: DataError from the cron column"),
            id="cron-longer-than-its-column",
        ),
        pytest.param(
            {**TICK, "timezone": "America"},
            marks=_bug("ZoneInfo raises IsADirectoryError (an OSError), not caught"),
            id="timezone-directory",
        ),
        pytest.param(
            {**TICK, "timezone": "x" * 300},
            marks=_bug("ZoneInfo raises OSError (file name too long), not caught"),
            id="timezone-too-long",
        ),
        pytest.param(
            _webhook_action(secret=5),
            marks=_bug("save_schedule: box.seal(5) raises AttributeError (no str check)"),
            id="webhook-secret-number",
        ),
        pytest.param(
            _webhook_action(url="http://[::1/x"),
            marks=_bug("check_url: urlsplit raises ValueError (Invalid IPv6 URL)"),
            id="webhook-bad-ipv6",
        ),
        pytest.param(
            _webhook_action(url="http://127.0.0.1:99999/x"),
            marks=_bug("check_url: urlsplit(url).port raises ValueError"),
            id="webhook-port-out-of-range",
        ),
        pytest.param(
            _webhook_action(secret_sealed="forged"),
            marks=_bug(
                "_action_errors allows the internal `secret_sealed` key from clients: stored "
                "as given, every run then fails in the worker with InvalidToken and its run "
                "stays 'running'"
            ),
            id="webhook-secret-sealed",
        ),
        pytest.param(
            {**TICK, "action": {"type": "export", "collection": "../../escape"}},
            marks=_bug(
                "an export's collection is any string: the run opens "
                "<data>/exports/<project>/<collection>-<tick>.jsonl before loading the "
                "collection, so '../../escape' creates <data>/escape-<tick>.jsonl"
            ),
            id="export-path-traversal",
        ),
    ],
)
def test_a_bad_schedule_is_422(target: Target, body: dict[str, Any]) -> None:
    _assert_refused(_send(target, "POST", "/schedules", json=_named(body)), 422)


# -- regression tests for bugs found in users and OAuth ---------------------------------------


@_bug("list_users put a NUL character into a LIKE pattern: the driver refuses it, a 500")
def test_a_user_search_with_a_nul_character_is_400(target: Target) -> None:
    _assert_refused(_send(target, "GET", "/users", query_string={"search": "a\x00"}), 400)


@_bug("find_provider looked a NUL-holding name up in the database: the driver refused, a 500")
@pytest.mark.parametrize("name", ["g%00h", "G", "g" * 64], ids=["nul", "capital", "too-long"])
def test_an_impossible_provider_name_is_404(target: Target, name: str) -> None:
    query = {"redirect_to": "https://app.example.com/"}
    path = f"/auth/oauth/{name}/authorize"
    _assert_refused(_send(target, "GET", path, query_string=query), 404)


@_bug(
    "redirect_allowed let control characters through (`*` matches them): the callback then "
    "put a line break into its Location header, which werkzeug refuses, a 500"
)
@pytest.mark.parametrize("bad", ["\r\nX-Evil: 1", "\n", "\x00", "\x7f"])
def test_a_redirect_to_with_a_control_character_is_422(target: Target, bad: str) -> None:
    query = {"redirect_to": f"https://app.example.com/x{bad}"}
    response = _send(target, "GET", "/auth/oauth/gh/authorize", query_string=query)
    _assert_refused(response, 422)
    assert "redirect_to" in response.get_json()["errors"]
