"""GET /api/v1/projects/{p}/audit over HTTP: who may read it, filters, pages, bad params,
and the source of actions done over HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from cairn.audit import service
from cairn.auth.keys import IssuedKey
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import auth
from tests.factories import make_key, make_project
from tests.integration.http.test_app import assert_problem
from tests.integration.openapi.test_openapi import Conformance, fetch

CLIENT_ADDRESS = "203.0.113.7"


def url(project: Project) -> str:
    return f"/api/v1/projects/{project.slug}/audit"


def listing(client: FlaskClient, project: Project, key: IssuedKey, **params: Any) -> dict[str, Any]:
    response = client.get(url(project), query_string=params, headers=auth(key))
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    assert set(body) == {"items", "next_cursor"}
    return body


def create_key_over_http(
    client: FlaskClient, project: Project, key: IssuedKey, scope: str = "read"
) -> str:
    response = client.post(
        f"/api/v1/projects/{project.slug}/api-keys",
        json={"scope": scope},
        headers=auth(key),
        environ_base={"REMOTE_ADDR": CLIENT_ADDRESS},
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def test_an_admin_key_lists_who_did_what_when_and_from_where(
    client: FlaskClient, project: Project, admin_key: IssuedKey
) -> None:
    created = create_key_over_http(client, project, admin_key)
    revoked = client.delete(
        f"/api/v1/projects/{project.slug}/api-keys/{created}",
        headers=auth(admin_key),
        environ_base={"REMOTE_ADDR": "2001:db8::1"},
    )
    assert revoked.status_code == 204
    items = listing(client, project, admin_key)["items"]
    assert [(e["action"], e["target"]) for e in items] == [
        ("api_key.revoked", created),
        ("api_key.created", created),
        ("api_key.created", str(admin_key.key.id)),  # the fixture's key, made by the operator
    ]
    revoke, create, made = items
    actor = f"key:{admin_key.key.id}"
    assert (revoke["actor"], revoke["source"]) == (actor, "2001:db8::1")
    assert (create["actor"], create["source"], create["detail"]) == (
        actor,
        CLIENT_ADDRESS,
        {"scope": "read"},
    )
    assert (made["actor"], made["source"]) == ("operator", None)  # outside any request
    assert set(create) == {"id", "occurred_at", "actor", "action", "target", "detail", "source"}
    assert create["occurred_at"].endswith("+00:00") or create["occurred_at"].endswith("Z")


def test_schema_changes_over_http_come_from_the_client(
    client: FlaskClient, project: Project, admin_key: IssuedKey
) -> None:
    """They run on the owner path, not the request's transaction: the source goes along."""
    notes = f"/api/v1/projects/{project.slug}/collections/notes"
    put = client.put(
        notes,
        json={"fields": {"body": {"type": "text"}}},
        headers=auth(admin_key),
        environ_base={"REMOTE_ADDR": CLIENT_ADDRESS},
    )
    assert put.status_code == 200, put.get_json()
    dropped = client.delete(
        f"{notes}?allow_destructive=true",
        headers=auth(admin_key),
        environ_base={"REMOTE_ADDR": "2001:db8::1"},
    )
    assert dropped.status_code == 204
    items = listing(client, project, admin_key)["items"]
    schema = [(e["action"], e["source"]) for e in items if e["action"].startswith("collection")]
    assert schema == [
        ("collections.applied", "2001:db8::1"),
        ("collections.applied", CLIENT_ADDRESS),
    ]


@pytest.mark.parametrize(
    ("scope", "status"), [("read", 403), ("write", 403), ("service", 403), ("admin", 200)]
)
def test_only_admin_keys_may_read_it(
    client: FlaskClient, runtime: Runtime, project: Project, scope: str, status: int
) -> None:
    response = client.get(url(project), headers=auth(make_key(runtime, project, scope=scope)))
    if status == 200:
        assert response.status_code == 200
    else:
        assert_problem(response, status)


def test_credentials_of_nobody_or_another_project_are_401(
    client: FlaskClient, runtime: Runtime, project: Project, other_project: Project
) -> None:
    assert_problem(client.get(url(project)), 401)
    other_admin = make_key(runtime, other_project, scope="admin")
    assert_problem(client.get(url(project), headers=auth(other_admin)), 401)


def test_an_unknown_project_is_404(client: FlaskClient, admin_key: IssuedKey) -> None:
    assert_problem(
        client.get("/api/v1/projects/no-such-project/audit", headers=auth(admin_key)), 404
    )


def test_another_projects_entries_never_appear(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    other = make_project(runtime)
    other_admin = make_key(runtime, other, scope="admin")
    create_key_over_http(client, other, other_admin)
    ours = listing(client, project, admin_key)["items"]
    assert [e["target"] for e in ours] == [str(admin_key.key.id)]
    theirs = listing(client, other, other_admin)["items"]
    assert len(theirs) == 2 and str(admin_key.key.id) not in {e["target"] for e in theirs}


def test_filters(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    created = create_key_over_http(client, project, admin_key)
    with runtime.db.tenant(project.id) as conn:
        service.record(conn, project.id, "operator", "webhook.saved", "hook")
        service.record(conn, project.id, "operator", "api_keys.something", "x")
    prefixed = listing(client, project, admin_key, action="api_key.")["items"]
    assert {e["action"] for e in prefixed} == {"api_key.created"} and len(prefixed) == 2
    exact = listing(client, project, admin_key, action="webhook.saved")["items"]
    assert [e["target"] for e in exact] == ["hook"]
    by_actor = listing(client, project, admin_key, actor=f"key:{admin_key.key.id}")["items"]
    assert [e["target"] for e in by_actor] == [created]
    by_target = listing(client, project, admin_key, target=created)["items"]
    assert [e["action"] for e in by_target] == ["api_key.created"]
    assert listing(client, project, admin_key, since="2999-01-01T00:00:00Z")["items"] == []
    everything = listing(
        client, project, admin_key, since="2000-01-01T00:00:00+02:00", until="2999-01-01T00:00:00Z"
    )["items"]
    assert len(everything) == 4


def test_pages_follow_the_cursor_and_the_link(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    with runtime.db.tenant(project.id) as conn:
        for i in range(6):
            service.record(conn, project.id, "operator", "page.test", str(i))
    everything = [e["id"] for e in listing(client, project, admin_key)["items"]]
    assert len(everything) == 7
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        response = client.get(url(project), query_string=params, headers=auth(admin_key))
        body = response.get_json()
        seen += [e["id"] for e in body["items"]]
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            break
        link = response.headers["Link"]
        assert link.endswith('>; rel="next"')
        params = {k: v[0] for k, v in parse_qs(urlsplit(link[1:].split(">")[0]).query).items()}
        assert params == {"limit": "3", "cursor": body["next_cursor"]}
        # Entries appended while paging are newer than every page: none of them shows up.
        with runtime.db.tenant(project.id) as conn:
            service.record(conn, project.id, "operator", "page.test", "late")
    assert seen == everything


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": "WyIwMTkwIl0.forged"},
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "ten"},
        {"since": "yesterday"},
        {"since": "2024-05-01T12:00:00"},  # no offset
        {"until": "2024-05-01T12:00:00 02:00"},  # a + lost in the URL
        {"until": "2024-02-30T00:00:00Z"},
        {"since": "0001-01-01T00:00:00+01:00"},
        {"since": "2024-05-02T00:00:00Z", "until": "2024-05-01T00:00:00Z"},
        {"action": ""},
        {"actor": "a" * 201},
        {"target": "x\x00y"},
    ],
)
def test_bad_params_are_400(
    client: FlaskClient, project: Project, admin_key: IssuedKey, params: dict[str, str]
) -> None:
    response = client.get(url(project), query_string=params, headers=auth(admin_key))
    body = assert_problem(response, 400)
    assert next(iter(params)) in str(body["detail"])


def test_a_cursor_of_another_list_is_400(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    for _ in range(2):
        make_key(runtime, project, scope="read")
    keys_page = client.get(
        f"/api/v1/projects/{project.slug}/api-keys",
        query_string={"limit": 1},
        headers=auth(admin_key),
    ).get_json()
    assert keys_page["next_cursor"] is not None
    response = client.get(
        url(project), query_string={"cursor": keys_page["next_cursor"]}, headers=auth(admin_key)
    )
    assert_problem(response, 400)


def test_responses_conform_to_the_openapi_document(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    api = Conformance(fetch(client, project, admin_key), client, admin_key)
    create_key_over_http(client, project, admin_key)
    first = api.call("GET", "/audit", "/audit", query_string={"limit": 1}).get_json()
    assert first["next_cursor"] is not None and first["items"][0]["source"] == CLIENT_ADDRESS
    last = api.call(
        "GET", "/audit", "/audit", query_string={"limit": 1, "cursor": first["next_cursor"]}
    ).get_json()
    assert last["next_cursor"] is None and last["items"][0]["source"] is None
    api.call("GET", "/audit", "/audit", query_string={"action": "api_key.", "since": "2000"})
    reader = auth(make_key(runtime, project, scope="read"))
    api.call("GET", "/audit", "/audit", headers=reader)
    api.call("GET", "/audit", "/audit", headers={"Authorization": "Bearer nope"})
    assert {(method, path, status) for method, path, status in api.seen} == {
        ("GET", "/audit", 200),
        ("GET", "/audit", 400),
        ("GET", "/audit", 401),
        ("GET", "/audit", 403),
    }
