"""Collection rules applied to API keys: read/write keys are anonymous callers, service and
admin keys bypass rules. Hidden records answer 404; a null rule or a denied create, 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cairn.auth.keys import IssuedKey
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.factories import apply_yaml, make_key, make_project
from tests.integration.http.test_app import assert_problem
from tests.integration.records.conftest import Api

RULES = """
collections:
  - name: notes
    fields:
      text: {type: text, required: true}
      public: {type: boolean, default: false}
    rules:
      list: "public = true"
      view: "public = true"
      create: "@request.body.public = true && @request.auth.id = ''"
      update: "public = true && text !~ 'locked'"
      delete: null
  - name: mine
    fields: {text: {type: text}}
    rules: {list: "owner = @request.auth.id", view: "owner = @request.auth.id",
            create: "@request.auth.id != ''", update: "owner = @request.auth.id", delete: ""}
  - name: closed
    fields: {text: {type: text}}
"""


@pytest.fixture
def ruled(runtime: Runtime, blog: Project, api: Api) -> dict[str, Any]:
    apply_yaml(runtime, blog, RULES + "\n" + _blog_again(), allow_destructive=False)
    public = api.made("notes", {"text": "hello", "public": True})
    private = api.made("notes", {"text": "hidden"})
    locked = api.made("notes", {"text": "locked one", "public": True})
    closed = api.made("closed", {"text": "x"})
    mine = api.made("mine", {"text": "m"})
    return {"public": public, "private": private, "locked": locked, "closed": closed, "mine": mine}


def _blog_again() -> str:
    from tests.integration.records.conftest import BLOG

    return BLOG.replace("collections:\n", "")


def keyed(
    runtime: Runtime, blog: Project, api_for: Callable[[IssuedKey | str], Api], scope: str
) -> Api:
    return api_for(make_key(runtime, blog, scope=scope))


@pytest.mark.parametrize("scope", ["read", "write"])
def test_keys_below_service_act_as_anonymous(
    runtime: Runtime, blog: Project, api_for: Any, ruled: dict[str, Any], scope: str
) -> None:
    client = keyed(runtime, blog, api_for, scope)
    listed = client.get("notes").get_json()["items"]
    assert sorted(n["text"] for n in listed) == ["hello", "locked one"]
    assert client.get("notes", ruled["public"]["id"]).status_code == 200
    assert_problem(client.get("notes", ruled["private"]["id"]), 404)
    # null rules: only service/admin keys
    assert_problem(client.get("closed"), 403)
    assert_problem(client.get("closed", ruled["closed"]["id"]), 403)
    # owner = @request.auth.id never holds for an anonymous caller
    assert client.get("mine").get_json()["items"] == []
    assert_problem(client.get("mine", ruled["mine"]["id"]), 404)


def test_read_keys_cannot_write_at_all(
    runtime: Runtime, blog: Project, api_for: Any, ruled: dict[str, Any]
) -> None:
    client = keyed(runtime, blog, api_for, "read")
    assert_problem(client.create("notes", {"text": "x", "public": True}), 403)
    assert_problem(client.patch("notes", ruled["public"]["id"], {"text": "y"}), 403)
    assert_problem(client.delete("mine", ruled["mine"]["id"]), 403)


def test_write_keys_follow_create_update_delete_rules(
    runtime: Runtime, blog: Project, api_for: Any, api: Api, ruled: dict[str, Any]
) -> None:
    client = keyed(runtime, blog, api_for, "write")
    assert client.create("notes", {"text": "x", "public": True}).status_code == 201
    assert_problem(client.create("notes", {"text": "x", "public": False}), 403)
    assert_problem(client.create("mine", {"text": "x"}), 403)  # needs a signed-in user
    assert client.patch("notes", ruled["public"]["id"], {"text": "edited"}).status_code == 200
    assert_problem(client.patch("notes", ruled["locked"]["id"], {"text": "y"}), 404)
    assert_problem(client.patch("notes", ruled["private"]["id"], {"text": "y"}), 404)
    assert_problem(client.delete("notes", ruled["public"]["id"]), 403)  # delete: null
    # Each action is judged by its own rule only (as in PocketBase): delete "" lets anyone
    # delete, even a record the view rule hides.
    assert client.delete("mine", ruled["mine"]["id"]).status_code == 204
    # Nothing the denied calls touched changed.
    assert api.get("notes", ruled["locked"]["id"]).get_json()["text"] == "locked one"
    assert api.get("notes", ruled["private"]["id"]).get_json()["text"] == "hidden"


@pytest.mark.parametrize("scope", ["service", "admin"])
def test_service_and_admin_keys_bypass_rules(
    runtime: Runtime, blog: Project, api_for: Any, ruled: dict[str, Any], scope: str
) -> None:
    client = keyed(runtime, blog, api_for, scope)
    assert len(client.get("notes").get_json()["items"]) == 3
    assert client.get("notes", ruled["private"]["id"]).status_code == 200
    assert client.get("closed").status_code == 200
    assert client.create("notes", {"text": "x"}).status_code == 201
    assert client.delete("notes", ruled["private"]["id"]).status_code == 204


def test_the_tenant_wall_holds_for_records(
    runtime: Runtime, blog: Project, api_for: Any, ruled: dict[str, Any], client: Any
) -> None:
    other = Api(client, blog, make_key(runtime, make_project(runtime)))
    assert_problem(other.get("notes"), 401)
    assert_problem(other.get("notes", ruled["public"]["id"]), 401)
