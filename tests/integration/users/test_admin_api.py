"""/api/v1/projects/{p}/users: admin keys list, create, change, disable, sign out, delete."""

from __future__ import annotations

from flask.testing import FlaskClient

from cairn.auth.keys import IssuedKey
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import auth
from tests.factories import make_key
from tests.integration.http.test_app import assert_problem

PASSWORD = "a long passphrase"


def users_url(project: Project, suffix: str = "") -> str:
    return f"/api/v1/projects/{project.slug}/users{suffix}"


def test_only_admin_keys_manage_users(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    for scope in ("read", "write", "service"):
        assert_problem(
            client.get(users_url(project), headers=auth(make_key(runtime, project, scope))), 403
        )
    assert_problem(client.get(users_url(project)), 401)


def test_create_page_search_and_get(
    client: FlaskClient, project: Project, admin_key: IssuedKey
) -> None:
    headers = auth(admin_key)
    ids = []
    for name in ("ada", "bob", "abe"):
        created = client.post(
            users_url(project),
            json={"email": f"{name}@example.test", "password": PASSWORD},
            headers=headers,
        )
        assert created.status_code == 201 and "password_hash" not in created.json
        assert created.headers["Location"].endswith(created.json["id"])
        ids.append(created.json["id"])
    first = client.get(users_url(project, "?limit=2"), headers=headers).json
    second = client.get(
        users_url(project, f"?limit=2&cursor={first['next_cursor']}"), headers=headers
    ).json
    assert [u["id"] for u in first["items"] + second["items"]] == ids
    assert second["next_cursor"] is None
    found = client.get(users_url(project, "?search=a"), headers=headers).json["items"]
    assert sorted(u["email"] for u in found) == ["abe@example.test", "ada@example.test"]
    assert (
        client.get(users_url(project, f"/{ids[1]}"), headers=headers).json["email"]
        == "bob@example.test"
    )
    assert_problem(
        client.post(users_url(project), json={"email": "ada@example.test"}, headers=headers), 409
    )
    assert_problem(client.post(users_url(project), json={"email": "nope"}, headers=headers), 422)


def test_update_force_logout_and_delete(
    client: FlaskClient, project: Project, admin_key: IssuedKey
) -> None:
    headers = auth(admin_key)
    user = client.post(
        users_url(project),
        json={"email": "ada@example.test", "password": PASSWORD},
        headers=headers,
    ).json
    login = f"/api/v1/projects/{project.slug}/auth/login"
    token = client.post(login, json={"email": "ada@example.test", "password": PASSWORD}).json[
        "token"
    ]
    me = f"/api/v1/projects/{project.slug}/auth/me"
    ended = client.post(users_url(project, f"/{user['id']}/logout"), headers=headers)
    assert ended.json == {"sessions_ended": 1}
    assert_problem(client.get(me, headers=auth(token)), 401)
    changed = client.patch(
        users_url(project, f"/{user['id']}"),
        json={"verified": True, "password": "another passphrase"},
        headers=headers,
    )
    assert changed.status_code == 200 and changed.json["verified"] is True
    assert (
        client.post(
            login, json={"email": "ada@example.test", "password": "another passphrase"}
        ).status_code
        == 200
    )
    assert_problem(
        client.patch(
            users_url(project, f"/{user['id']}"), json={"disabled": "yes"}, headers=headers
        ),
        422,
    )
    assert client.delete(users_url(project, f"/{user['id']}"), headers=headers).status_code == 204
    assert_problem(client.get(users_url(project, f"/{user['id']}"), headers=headers), 404)
    assert_problem(client.delete(users_url(project, f"/{user['id']}"), headers=headers), 404)
