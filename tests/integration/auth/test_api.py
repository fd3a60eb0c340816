"""/api/v1/projects/{p}/api-keys over HTTP: credential scenarios, then the key lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from cairn.auth import keys
from cairn.auth.principal import operator
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import auth
from tests.factories import make_key, make_project
from tests.integration.http.test_app import assert_problem


def url(project: Project, suffix: str = "") -> str:
    return f"/api/v1/projects/{project.slug}/api-keys{suffix}"


def _revoked(rt: Runtime, p: Project) -> str:
    issued = make_key(rt, p)
    with rt.db.tenant(p.id) as conn:
        keys.revoke_key(conn, operator(p.id), issued.key.id)
    return issued.secret


def _expired(rt: Runtime, p: Project) -> str:
    issued = make_key(rt, p, expires_in=timedelta(hours=1))
    with rt.db.owner() as conn:
        rt.enter_claims(conn, p, {})
        conn.exec_driver_sql(
            "UPDATE cairn.api_keys SET expires_at = now() - interval '1 second' "
            f"WHERE id = '{issued.key.id}'"
        )
    return issued.secret


Headers = Callable[[Runtime, Project], dict[str, str]]

CREDENTIAL_SCENARIOS: list[tuple[str, Headers, int]] = [
    ("no header", lambda rt, p: {}, 401),
    ("basic scheme", lambda rt, p: {"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ("empty bearer", lambda rt, p: {"Authorization": "Bearer "}, 401),
    ("garbled", lambda rt, p: auth("ck_" + "x" * 55), 401),
    ("session-shaped", lambda rt, p: auth("cs_" + "x" * 55), 401),
    ("other project's admin key", lambda rt, p: auth(make_key(rt, make_project(rt))), 401),
    ("revoked", lambda rt, p: auth(_revoked(rt, p)), 401),
    ("expired", lambda rt, p: auth(_expired(rt, p)), 401),
    ("read key", lambda rt, p: auth(make_key(rt, p, scope="read")), 403),
    ("write key", lambda rt, p: auth(make_key(rt, p, scope="write")), 403),
    ("service key", lambda rt, p: auth(make_key(rt, p, scope="service")), 403),
    ("admin key", lambda rt, p: auth(make_key(rt, p, scope="admin")), 200),
    ("lower-case scheme", lambda rt, p: {"Authorization": "bearer " + make_key(rt, p).secret}, 200),
]


@pytest.mark.parametrize(
    ("headers", "status"),
    [(h, s) for _, h, s in CREDENTIAL_SCENARIOS],
    ids=[name for name, _, _ in CREDENTIAL_SCENARIOS],
)
def test_credentials(
    client: FlaskClient, runtime: Runtime, project: Project, headers: Headers, status: int
) -> None:
    response = client.get(url(project), headers=headers(runtime, project))
    if status == 200:
        assert response.status_code == 200
        return
    assert_problem(response, status)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_project_is_404_before_any_credential_check(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/projects/no-such-project/api-keys"), 404)
    assert_problem(client.get("/api/v1/projects/Bad_Slug!/api-keys"), 404)


def _create(client: FlaskClient, project: Project, admin: str, **body: Any) -> Any:
    return client.post(url(project), json=body, headers=auth(admin))


def test_key_lifecycle(client: FlaskClient, project: Project, admin_key: keys.IssuedKey) -> None:
    created = _create(client, project, admin_key.secret, scope="admin", name="ci", expires_in="30d")
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    body = created.get_json()
    assert created.headers["Location"].endswith(url(project, f"/{body['id']}"))
    assert body["secret"].startswith("ck_") and body["status"] == "active"
    assert (body["name"], body["scope"]) == ("ci", "admin") and body["expires_at"]

    # The new key works, and its secret is never shown again.
    listed = client.get(url(project), headers=auth(body["secret"])).get_json()
    assert {k["id"] for k in listed["items"]} == {body["id"], str(admin_key.key.id)}
    assert all("secret" not in k for k in listed["items"])
    one = client.get(url(project, f"/{body['id']}"), headers=auth(admin_key)).get_json()
    assert "secret" not in one and one["prefix"] == body["prefix"]
    assert one["last_used_at"] is not None

    rotated = client.post(url(project, f"/{body['id']}/rotate"), headers=auth(admin_key))
    assert rotated.status_code == 201
    successor = rotated.get_json()
    assert successor["rotated_from"] == body["id"] and successor["secret"] != body["secret"]
    assert_problem(client.get(url(project), headers=auth(body["secret"])), 401)
    assert client.get(url(project), headers=auth(successor["secret"])).status_code == 200

    revoke = client.delete(url(project, f"/{successor['id']}"), headers=auth(admin_key))
    assert revoke.status_code == 204 and revoke.data == b""
    again = client.delete(url(project, f"/{successor['id']}"), headers=auth(admin_key))
    assert again.status_code == 204
    assert_problem(client.get(url(project), headers=auth(successor["secret"])), 401)

    active = client.get(url(project), headers=auth(admin_key)).get_json()["items"]
    everything = client.get(
        url(project) + "?include_revoked=true", headers=auth(admin_key)
    ).get_json()["items"]
    assert [k["id"] for k in active] == [str(admin_key.key.id)]
    assert {k["status"] for k in everything} == {"active", "revoked"} and len(everything) == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "scope"),
        ({"scope": "root"}, "scope"),
        ({"scope": "read", "name": ""}, "name"),
        ({"scope": "read", "expires_in": "forever"}, "expires_in"),
        ({"scope": "read", "expires_in": 30}, "expires_in"),
        ({"scope": "read", "id": "01890000-0000-7000-8000-000000000000"}, "id"),
    ],
)
def test_invalid_create_is_422_and_creates_nothing(
    client: FlaskClient,
    project: Project,
    admin_key: keys.IssuedKey,
    body: dict[str, Any],
    field: str,
) -> None:
    problem = assert_problem(_create(client, project, admin_key.secret, **body), 422)
    assert field in problem["errors"]  # type: ignore[operator]
    listed = client.get(url(project), headers=auth(admin_key)).get_json()["items"]
    assert len(listed) == 1


def test_unknown_key_ids(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: keys.IssuedKey
) -> None:
    elsewhere = make_project(runtime)
    foreign = make_key(runtime, elsewhere)
    for path in (f"/{foreign.key.id}", "/not-a-uuid"):
        assert_problem(client.get(url(project, path), headers=auth(admin_key)), 404)
        assert_problem(client.delete(url(project, path), headers=auth(admin_key)), 404)
        assert_problem(client.post(url(project, path + "/rotate"), headers=auth(admin_key)), 404)
    with runtime.db.tenant(elsewhere.id) as conn:
        untouched = keys.get_key(conn, elsewhere.id, foreign.key.id)
    assert untouched.status == "active" and untouched.rotated_from is None


def test_list_pages_with_a_signed_cursor(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: keys.IssuedKey
) -> None:
    for i in range(4):
        make_key(runtime, project, scope="read", name=f"k{i}")
    seen: list[str] = []
    next_url: str | None = url(project) + "?limit=2"
    pages = 0
    while next_url:
        response = client.get(next_url, headers=auth(admin_key))
        body = response.get_json()
        assert len(body["items"]) <= 2
        seen += [k["id"] for k in body["items"]]
        pages += 1
        if body["next_cursor"]:
            assert 'rel="next"' in response.headers["Link"]
            next_url = url(project) + f"?limit=2&cursor={body['next_cursor']}"
        else:
            assert "Link" not in response.headers
            next_url = None
    assert pages == 3 and len(seen) == 5 and len(set(seen)) == 5 and seen == sorted(seen)


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=ten", "cursor=garbage"])
def test_bad_paging_parameters_are_400(
    client: FlaskClient, project: Project, admin_key: keys.IssuedKey, query: str
) -> None:
    assert_problem(client.get(url(project) + f"?{query}", headers=auth(admin_key)), 400)


def test_tampered_cursor_is_400(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: keys.IssuedKey
) -> None:
    make_key(runtime, project)
    cursor = client.get(url(project) + "?limit=1", headers=auth(admin_key)).get_json()[
        "next_cursor"
    ]
    payload, _, signature = cursor.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    assert_problem(client.get(url(project) + f"?cursor={forged}", headers=auth(admin_key)), 400)
