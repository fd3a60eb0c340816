"""/api/v1/projects/{p}/collections for admin keys."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from cairn.auth.keys import IssuedKey
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import auth
from tests.factories import insert_rows, make_key
from tests.integration.http.test_app import assert_problem

AUTHORS: dict[str, Any] = {"fields": {"name": {"type": "text", "required": True}}}


def url(project: Project, name: str = "") -> str:
    return f"/api/v1/projects/{project.slug}/collections" + (f"/{name}" if name else "")


def test_put_get_list_delete(client: FlaskClient, project: Project, admin_key: IssuedKey) -> None:
    h = auth(admin_key)
    dry = client.put(url(project, "authors") + "?dry_run=true", json=AUTHORS, headers=h)
    assert dry.status_code == 200 and dry.get_json()["applied"] is False
    assert dry.get_json()["plan"]["steps"][0]["action"] == "create_collection"
    assert_problem(client.get(url(project, "authors"), headers=h), 404)

    put = client.put(url(project, "authors"), json=AUTHORS, headers=h)
    assert put.status_code == 200 and put.get_json()["applied"] is True
    assert put.get_json()["collection"] == {"name": "authors", **AUTHORS}
    again = client.put(url(project, "authors"), json={"name": "authors", **AUTHORS}, headers=h)
    assert again.get_json() == {
        **put.get_json(),
        "applied": False,
        "plan": {"steps": [], "destructive": False, "blocked": False},
    }

    assert client.get(url(project, "authors"), headers=h).get_json() == {
        "name": "authors",
        **AUTHORS,
    }
    assert [c["name"] for c in client.get(url(project), headers=h).get_json()["items"]] == [
        "authors"
    ]

    refused = client.delete(url(project, "authors"), headers=h)
    assert_problem(refused, 409)
    assert refused.get_json()["plan"]["destructive"] is True
    gone = client.delete(url(project, "authors") + "?allow_destructive=true", headers=h)
    assert gone.status_code == 204
    assert_problem(client.get(url(project, "authors"), headers=h), 404)


def test_destructive_put_is_409_with_the_plan_and_changes_nothing(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    h = auth(admin_key)
    with_bio = {"fields": {**AUTHORS["fields"], "bio": {"type": "text"}}}
    client.put(url(project, "authors"), json=with_bio, headers=h)
    insert_rows(runtime, project, "authors", [{"name": "Ann", "bio": "hi"}])
    response = client.put(url(project, "authors"), json=AUTHORS, headers=h)
    problem = assert_problem(response, 409)
    assert problem["plan"]["steps"] == [  # type: ignore[index]
        {
            "action": "drop_field",
            "collection": "authors",
            "subject": "bio",
            "summary": "drop field authors.bio (1 value(s) lost)",
            "destructive": True,
            "blocked": None,
            "concurrent": False,
        }
    ]
    assert "bio" in client.get(url(project, "authors"), headers=h).get_json()["fields"]
    ok = client.put(url(project, "authors") + "?allow_destructive=true", json=AUTHORS, headers=h)
    assert ok.status_code == 200 and "bio" not in ok.get_json()["collection"]["fields"]


@pytest.mark.parametrize(
    ("name", "body", "error_key", "status"),
    [
        ("authors", {"fields": {"id": {"type": "text"}}}, "fields.id", 422),
        ("authors", {"fields": {"x": {"type": "blob"}}}, "fields.x.type", 422),
        ("authors", {"fields": {"x": {"type": "text", "maximum": 3}}}, "fields.x.maximum", 422),
        ("authors", {"name": "writers", "fields": {}}, "name", 422),
        (
            "authors",
            {"fields": {"r": {"type": "relation", "collection": "nope"}}},
            "authors.fields.r.collection",
            422,
        ),
        ("authors", {"fields": {}, "rules": {"read": ""}}, "rules.read", 422),
        ("select", {"fields": {}}, "name", 422),
        ("Bad-Name", {"fields": {}}, "name", 422),
    ],
)
def test_invalid_definitions(
    client: FlaskClient,
    project: Project,
    admin_key: IssuedKey,
    name: str,
    body: dict[str, Any],
    error_key: str,
    status: int,
) -> None:
    problem = assert_problem(
        client.put(url(project, name), json=body, headers=auth(admin_key)), status
    )
    assert error_key in problem["errors"]  # type: ignore[operator]
    assert client.get(url(project), headers=auth(admin_key)).get_json()["items"] == []


@pytest.mark.parametrize("scope", ["read", "write", "service"])
def test_only_admin_keys_manage_collections(
    client: FlaskClient, runtime: Runtime, project: Project, scope: str
) -> None:
    key = make_key(runtime, project, scope=scope)
    assert_problem(client.get(url(project), headers=auth(key)), 403)
    assert_problem(client.put(url(project, "authors"), json=AUTHORS, headers=auth(key)), 403)


def test_unknown_collection_and_bad_flags(
    client: FlaskClient, project: Project, admin_key: IssuedKey
) -> None:
    h = auth(admin_key)
    assert_problem(client.get(url(project, "nothing"), headers=h), 404)
    assert_problem(client.get(url(project, "Not-A-Name"), headers=h), 404)
    assert_problem(client.delete(url(project, "nothing"), headers=h), 404)
    assert_problem(
        client.put(url(project, "authors") + "?dry_run=maybe", json=AUTHORS, headers=h), 400
    )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("titel = 'x'", "unknown field 'titel'"),
        ("name = ", "unexpected end"),
        ("owner = @request.nobody", "unknown macro"),
        ("name > true", "name"),
    ],
)
def test_invalid_rules_are_422_naming_the_rule(
    client: FlaskClient, project: Project, admin_key: IssuedKey, rule: str, message: str
) -> None:
    body = {**AUTHORS, "rules": {"list": rule}}
    problem = assert_problem(
        client.put(url(project, "authors"), json=body, headers=auth(admin_key)), 422
    )
    assert message in problem["errors"]["authors.rules.list"][0]  # type: ignore[index]


def test_valid_rules_are_accepted(
    client: FlaskClient, project: Project, admin_key: IssuedKey
) -> None:
    rules = {
        "list": "",
        "view": "owner = @request.auth.id || name ~ 'pub'",
        "create": "@request.auth.id != '' && @request.body.name != 'root'",
        "update": "owner = @request.auth.id && created_at > '2020-01-01'",
        "delete": None,
    }
    response = client.put(
        url(project, "authors"), json={**AUTHORS, "rules": rules}, headers=auth(admin_key)
    )
    assert response.status_code == 200, response.get_json()
