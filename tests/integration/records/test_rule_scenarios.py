"""Access rules with end users: who sees and changes which posts, in every way of reading and
writing (list with counts and cursors, get, expand, update, delete, batch).

posts:  list/view `published = true || owner = @request.auth.id`, create needs a user,
        update/delete `owner = @request.auth.id`.
topics: view `public = true` (expand must respect it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, text

from cairn.auth.principal import Principal
from cairn.records import collection as collections
from cairn.records import query
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import auth
from tests.factories import apply_file, insert_rows, make_key, make_project
from tests.integration.http.test_app import assert_problem

PROJECT_FILE = """
collections:
  - name: topics
    fields: {title: {type: text}, public: {type: boolean, required: true}}
    rules: {list: "public = true", view: "public = true", create: null, update: null, delete: null}
  - name: posts
    fields:
      title: {type: text, required: true}
      published: {type: boolean, required: true, default: false}
      topic: {type: relation, collection: topics}
    rules:
      list: "published = true || owner = @request.auth.id"
      view: "published = true || owner = @request.auth.id"
      create: "@request.auth.id != ''"
      update: "owner = @request.auth.id"
      delete: "owner = @request.auth.id"
"""


@dataclass
class World:
    project: Project
    headers: dict[str, dict[str, str]]  # who → request headers
    posts: dict[str, str]  # post title → id
    user_ids: dict[str, str]


def _signup(client: FlaskClient, project: Project, email: str) -> tuple[str, str]:
    body = client.post(
        f"/api/v1/projects/{project.slug}/auth/signup",
        json={"email": email, "password": "a long passphrase"},
    ).json
    return body["token"], body["user"]["id"]


@pytest.fixture
def world(client: FlaskClient, runtime: Runtime) -> World:
    project = apply_file(runtime, make_project(runtime), PROJECT_FILE)
    token_a, id_a = _signup(client, project, "a@example.test")
    token_b, id_b = _signup(client, project, "b@example.test")
    client.delete_cookie("cairn_session", path=f"/api/v1/projects/{project.slug}/")
    headers = {
        "anonymous": {},
        "A": auth(token_a),
        "B": auth(token_b),
        "read key": auth(make_key(runtime, project, "read")),
        "service key": auth(make_key(runtime, project, "service")),
    }
    base = f"/api/v1/projects/{project.slug}/collections"
    open_topic = client.post(
        f"{base}/topics/records",
        json={"title": "open", "public": True},
        headers=headers["service key"],
    ).json["id"]
    hidden_topic = client.post(
        f"{base}/topics/records",
        json={"title": "hidden", "public": False},
        headers=headers["service key"],
    ).json["id"]
    posts = {}
    for who, title, published, topic in [
        ("A", "a-published", True, hidden_topic),
        ("A", "a-draft", False, open_topic),
        ("B", "b-draft", False, open_topic),
        ("service key", "s-published", True, open_topic),
    ]:
        response = client.post(
            f"{base}/posts/records",
            json={"title": title, "published": published, "topic": topic},
            headers=headers[who],
        )
        assert response.status_code == 201, response.json
        posts[title] = response.json["id"]
    return World(project, headers, posts, {"A": id_a, "B": id_b})


VISIBLE = {
    "anonymous": {"a-published", "s-published"},
    "A": {"a-published", "a-draft", "s-published"},
    "B": {"a-published", "b-draft", "s-published"},
    "read key": {"a-published", "s-published"},
    "service key": {"a-published", "a-draft", "b-draft", "s-published"},
}
CHANGEABLE = {
    "anonymous": set(),
    "A": {"a-published", "a-draft"},
    "B": {"b-draft"},
    "read key": set(),
    "service key": {"a-published", "a-draft", "b-draft", "s-published"},
}
WHO = list(VISIBLE)


def _posts(world: World, suffix: str = "") -> str:
    return f"/api/v1/projects/{world.project.slug}/collections/posts/records{suffix}"


def test_owner_is_the_creating_user(client: FlaskClient, world: World) -> None:
    service = world.headers["service key"]
    owners = {
        title: client.get(_posts(world, f"/{pid}"), headers=service).json["owner"]
        for title, pid in world.posts.items()
    }
    assert owners == {
        "a-published": world.user_ids["A"],
        "a-draft": world.user_ids["A"],
        "b-draft": world.user_ids["B"],
        "s-published": None,
    }


@pytest.mark.parametrize("who", WHO)
def test_list_with_count_and_cursor_pages(client: FlaskClient, world: World, who: str) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        query = "?count=true&limit=1" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(_posts(world, query), headers=world.headers[who])
        assert response.status_code == 200, response.json
        assert response.json["total"] == len(VISIBLE[who])
        seen += [item["title"] for item in response.json["items"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and set(seen) == VISIBLE[who]


@pytest.mark.parametrize("who", WHO)
def test_get_answers_404_for_hidden_records(client: FlaskClient, world: World, who: str) -> None:
    for title, pid in world.posts.items():
        response = client.get(_posts(world, f"/{pid}"), headers=world.headers[who])
        if title in VISIBLE[who]:
            assert response.status_code == 200 and response.json["title"] == title
        else:
            assert_problem(response, 404)


@pytest.mark.parametrize("who", WHO)
def test_expand_respects_the_related_view_rule(client: FlaskClient, world: World, who: str) -> None:
    response = client.get(_posts(world, "?expand=topic"), headers=world.headers[who])
    expanded = {
        item["title"]: ((item.get("expand") or {}).get("topic") or {}).get("title")
        for item in response.json["items"]
    }
    for title, topic in expanded.items():
        if who == "service key":
            assert topic == ("hidden" if title == "a-published" else "open")
        else:  # the hidden topic is left out even though the post is visible
            assert topic == (None if title == "a-published" else "open")


@pytest.mark.parametrize("who", WHO)
def test_update_and_delete(client: FlaskClient, world: World, who: str) -> None:
    for title, pid in world.posts.items():
        response = client.patch(
            _posts(world, f"/{pid}"), json={"title": f"{title}!"}, headers=world.headers[who]
        )
        if title in CHANGEABLE[who]:
            assert response.status_code == 200 and response.json["title"] == f"{title}!"
        elif who == "read key":
            assert_problem(response, 403)  # scope, before any rule
        elif who == "anonymous":
            assert_problem(response, 404)
        else:
            assert_problem(response, 404)
    for title, pid in world.posts.items():
        response = client.delete(_posts(world, f"/{pid}"), headers=world.headers[who])
        if title in CHANGEABLE[who]:
            assert response.status_code == 204
        else:
            assert_problem(response, 403 if who == "read key" else 404)
    remaining = client.get(_posts(world), headers=world.headers["service key"]).json["items"]
    assert {i["title"].rstrip("!") for i in remaining} == set(world.posts) - CHANGEABLE[who]


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 403), ("A", 201), ("read key", 403), ("service key", 201)],
)
def test_create_rule(client: FlaskClient, world: World, who: str, status: int) -> None:
    response = client.post(_posts(world), json={"title": "new"}, headers=world.headers[who])
    assert response.status_code == status, response.json


def test_batch_is_all_or_nothing_under_rules(client: FlaskClient, world: World) -> None:
    path = "/collections/posts/records"
    operations: list[dict[str, Any]] = [
        {"method": "PATCH", "path": f"{path}/{world.posts['a-draft']}", "body": {"title": "x"}},
        {"method": "PATCH", "path": f"{path}/{world.posts['b-draft']}", "body": {"title": "x"}},
    ]
    batch_url = f"/api/v1/projects/{world.project.slug}/batch"
    refused = client.post(batch_url, json={"operations": operations}, headers=world.headers["A"])
    assert_problem(refused, 404)
    titles = {
        i["title"]
        for i in client.get(_posts(world), headers=world.headers["service key"]).json["items"]
    }
    assert "x" not in titles
    mine = client.post(batch_url, json={"operations": operations[:1]}, headers=world.headers["A"])
    assert mine.status_code == 200, mine.json
    created = client.post(
        batch_url,
        json={"operations": [{"method": "POST", "path": path, "body": {"title": "by batch"}}]},
        headers=world.headers["B"],
    )
    assert created.status_code == 200, created.json
    new_id = created.json["results"][0]["body"]["id"]
    owner = client.get(_posts(world, f"/{new_id}"), headers=world.headers["service key"])
    assert owner.json["owner"] == world.user_ids["B"]


def test_rules_can_use_profile_fields_and_verified(client: FlaskClient, runtime: Runtime) -> None:
    project = apply_file(
        runtime,
        make_project(runtime),
        """
        users: {fields: {role: {type: select, values: [reader, editor], default: reader}}}
        collections:
          - name: notes
            fields: {body: {type: text}}
            rules:
              list: "@request.auth.role = 'editor' && @request.auth.verified = true"
              view: ""
              create: ""
              update: null
              delete: null
        """,
    )
    service = auth(make_key(runtime, project, "service"))
    notes = f"/api/v1/projects/{project.slug}/collections/notes/records"
    client.post(notes, json={"body": "n"}, headers=service)
    token, user_id = _signup(client, project, "e@example.test")
    client.delete_cookie("cairn_session", path=f"/api/v1/projects/{project.slug}/")
    assert client.get(notes, headers=auth(token)).json["items"] == []
    assert client.get(notes).json["items"] == []  # anonymous: the profile field is null
    admin = auth(make_key(runtime, project, "admin"))
    users_url = f"/api/v1/projects/{project.slug}/users/{user_id}"
    assert client.patch(users_url, json={"role": "editor"}, headers=admin).status_code == 200
    assert client.get(notes, headers=auth(token)).json["items"] == []  # not verified yet
    assert client.patch(users_url, json={"verified": True}, headers=admin).status_code == 200
    assert len(client.get(notes, headers=auth(token)).json["items"]) == 1


def test_a_rule_naming_an_undeclared_profile_field_is_refused(
    client: FlaskClient, runtime: Runtime
) -> None:
    project = make_project(runtime)
    with pytest.raises(Exception) as refused:
        apply_file(
            runtime,
            project,
            "collections: [{name: notes, fields: {b: {type: text}}, "
            "rules: {list: \"@request.auth.team = 'x'\"}}]",
        )
    assert "@request.auth.team" in str(getattr(refused.value, "errors", refused.value))


def test_an_owner_rule_is_served_by_the_owner_index_under_rls(runtime: Runtime) -> None:
    """The rule joins the WHERE as a bare `owner = $1`, so the planner can use the owner
    index the table always has; checked on the plan of the statement the list really runs,
    as the app role inside the user's tenant context."""
    project = apply_file(
        runtime,
        make_project(runtime),
        "collections: [{name: notes, fields: {body: {type: text}}, "
        "rules: {list: 'owner = @request.auth.id', view: 'owner = @request.auth.id'}}]",
    )
    owners = [uuid.uuid4() for _ in range(1000)]
    insert_rows(
        runtime, project, "notes", [{"body": "x", "owner": owners[i % 1000]} for i in range(20_000)]
    )
    with runtime.db.owner(project.id) as conn:
        conn.execute(text(f'ANALYZE "{project.schema_name}".notes'))
    user = Principal(kind="user", project_id=project.id, scope="write", user_id=owners[7])
    with runtime.db.tenant(project.id, user.claims()) as conn:
        notes = collections.load(conn, project, "notes")
        ran: list[tuple[str, Any]] = []

        def remember(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
            ran.append((statement, params))

        event.listen(conn, "before_cursor_execute", remember)
        page = query.list_records(conn, notes, user, query.ListRequest(limit=50, count=True))
        event.remove(conn, "before_cursor_execute", remember)
        assert len(page.items) == 20 and page.total == 20
        plans = [
            "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {sql}", params))
            for sql, params in ran
        ]
    index = "ix_notes_owner"
    assert plans and all(index in plan and "Seq Scan" not in plan for plan in plans), plans


@pytest.mark.parametrize("who", WHO)
def test_get_by_id_takes_fields_and_expand_like_a_list(
    client: FlaskClient, world: World, who: str
) -> None:
    post = world.posts["a-published"]  # visible to everyone; its topic is hidden by a rule
    response = client.get(
        _posts(world, f"/{post}?expand=topic&fields=id,title,topic"), headers=world.headers[who]
    )
    assert response.status_code == 200 and response.headers["ETag"] == '"1"'
    assert set(response.json) == {"id", "title", "topic", "expand"}
    expanded = (response.json["expand"] or {}).get("topic")
    if who == "service key":
        assert expanded["title"] == "hidden"
    else:
        assert expanded is None
    bad = client.get(_posts(world, f"/{post}?expand=nope"), headers=world.headers[who])
    assert_problem(bad, 400)
