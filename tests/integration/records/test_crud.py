"""Records over HTTP: create/get/update/delete, ETags and If-Match, relations, errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.http.test_app import assert_problem
from tests.integration.records.conftest import Api


def test_create_get_update_delete(api: Api) -> None:
    author = api.made("authors", {"name": "Ann", "email": "ann@example.com"})
    created = api.create("posts", {"title": "Hello", "author": author["id"], "tags": ["a"]})
    assert created.status_code == 201
    post = created.get_json()
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"].endswith(api.url("posts", f"/{post['id']}"))
    assert set(post) >= {"id", "created_at", "updated_at", "version", "owner", "title"}
    assert (post["status"], post["views"], post["published"], post["version"]) == (
        "draft",
        0,
        False,
        1,
    )
    assert post["owner"] is None and post["author"] == author["id"] and post["tags"] == ["a"]

    fetched = api.get("posts", post["id"])
    assert fetched.get_json() == post and fetched.headers["ETag"] == '"1"'

    patched = api.patch(
        "posts", post["id"], {"score": 4.5, "status": "published"}, **{"If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["version"] == 2 and patched.headers["ETag"] == '"2"'
    assert patched.get_json()["score"] == 4.5 and patched.get_json()["title"] == "Hello"
    assert patched.get_json()["updated_at"] >= post["updated_at"]

    stale = api.patch("posts", post["id"], {"score": 1}, **{"If-Match": '"1"'})
    problem = assert_problem(stale, 412)
    assert problem["current_version"] == 2
    assert api.get("posts", post["id"]).get_json()["score"] == 4.5

    assert_problem(api.delete("posts", post["id"], **{"If-Match": '"1"'}), 412)
    assert api.delete("posts", post["id"], **{"If-Match": 'W/"2"'}).status_code == 204
    assert_problem(api.get("posts", post["id"]), 404)
    assert_problem(api.delete("posts", post["id"]), 404)


VALID: list[tuple[str, Any, Any]] = [
    ("body", "x" * 5000, "x" * 5000),
    ("status", "published", "published"),
    ("score", 0, 0),
    ("score", 3.25, 3.25),
    ("views", 2**62, 2**62),
    ("published", True, True),
    ("due", "2024-02-29", "2024-02-29"),
    ("posted_at", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00+00:00"),
    ("posted_at", "2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00+00:00"),
    ("meta", {"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}),
    ("meta", [1, 2], [1, 2]),
    ("link", "https://example.com/x?y=1", "https://example.com/x?y=1"),
    ("tags", ["a", "c"], ["a", "c"]),
    ("tags", [], []),
    ("body", None, None),
]


@pytest.mark.parametrize(("field", "value", "stored"), VALID)
def test_valid_values_round_trip(api: Api, field: str, value: Any, stored: Any) -> None:
    post = api.made("posts", {"title": "t", field: value})
    assert post[field] == stored
    assert api.get("posts", post["id"]).get_json()[field] == stored


INVALID: list[tuple[dict[str, Any], str]] = [
    ({}, "title"),
    ({"title": None}, "title"),
    ({"title": 5}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "t", "status": "gone"}, "status"),
    ({"title": "t", "score": -1}, "score"),
    ({"title": "t", "score": "3"}, "score"),
    ({"title": "t", "score": True}, "score"),
    ({"title": "t", "views": 1.5}, "views"),
    ({"title": "t", "views": 2**63}, "views"),
    ({"title": "t", "published": "true"}, "published"),
    ({"title": "t", "published": 1}, "published"),
    ({"title": "t", "due": "2024-02-30"}, "due"),
    ({"title": "t", "due": "01/02/2024"}, "due"),
    ({"title": "t", "posted_at": "yesterday"}, "posted_at"),
    ({"title": "t", "link": "not a url"}, "link"),
    ({"title": "t", "link": "ftp://example.com"}, "link"),
    ({"title": "t", "tags": ["z"]}, "tags"),
    ({"title": "t", "tags": ["a", "a"]}, "tags"),
    ({"title": "t", "tags": "a"}, "tags"),
    ({"title": "t", "author": "not-a-uuid"}, "author"),
    ({"title": "t", "author": "01890000-0000-7000-8000-000000000000"}, "author"),
    ({"title": "t", "reviewers": ["01890000-0000-7000-8000-000000000000"]}, "reviewers"),
    ({"title": "t", "surprise": 1}, "surprise"),
    ({"title": "t", "id": "01890000-0000-7000-8000-000000000000"}, "id"),
    ({"title": "t", "version": 7}, "version"),
    ({"title": "t", "owner": None}, "owner"),
]


@pytest.mark.parametrize(("body", "field"), INVALID)
def test_invalid_bodies_are_422_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(api.create("posts", body), 422)
    assert field in problem["errors"], problem  # type: ignore[operator]
    assert api.get("posts").get_json()["items"] == []


def test_invalid_patch_changes_nothing(api: Api) -> None:
    post = api.made("posts", {"title": "t", "views": 1})
    for body, field in [({"title": None}, "title"), ({"views": "2"}, "views"), ({"id": "x"}, "id")]:
        problem = assert_problem(api.patch("posts", post["id"], body), 422)
        assert field in problem["errors"]  # type: ignore[operator]
    assert api.get("posts", post["id"]).get_json() == post


def test_unique_violation_is_409_naming_the_field(api: Api) -> None:
    api.made("authors", {"name": "Ann", "email": "ann@example.com"})
    problem = assert_problem(
        api.create("authors", {"name": "Bob", "email": "ann@example.com"}), 409
    )
    assert "email" in problem["detail"] and "email" in problem["errors"]  # type: ignore[operator]
    assert len(api.get("authors").get_json()["items"]) == 1


def test_relations_restrict_cascade_and_set_null(api: Api) -> None:
    ann = api.made("authors", {"name": "Ann"})
    bob = api.made("authors", {"name": "Bob"})
    post = api.made(
        "posts", {"title": "t", "author": ann["id"], "reviewers": [ann["id"], bob["id"]]}
    )
    comment = api.made("comments", {"post": post["id"], "text": "nice"})

    problem = assert_problem(api.delete("authors", ann["id"]), 409)
    assert "posts.author" in problem["detail"]  # type: ignore[operator]
    assert api.get("authors", ann["id"]).status_code == 200

    # set_null on a multiple relation removes the id from the list.
    assert api.delete("authors", bob["id"]).status_code == 204
    assert api.get("posts", post["id"]).get_json()["reviewers"] == [ann["id"]]
    # cascade: deleting the post deletes its comments.
    assert api.delete("posts", post["id"]).status_code == 204
    assert_problem(api.get("comments", comment["id"]), 404)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/nope/records", 404),
        ("/Bad-Name/records", 404),
        ("/posts/records/not-a-uuid", 404),
        ("/posts/records/01890000-0000-7000-8000-000000000000", 404),
    ],
)
def test_unknown_collections_and_records(api: Api, path: str, status: int) -> None:
    url = f"/api/v1/projects/{api.project.slug}/collections{path}"
    assert_problem(api.client.get(url, headers=api.headers), status)


@pytest.mark.parametrize("header", ['"x"', "1", '"1", garbage'])
def test_malformed_if_match_is_400(api: Api, header: str) -> None:
    post = api.made("posts", {"title": "t"})
    assert_problem(api.patch("posts", post["id"], {"views": 2}, **{"If-Match": header}), 400)


def test_if_match_star_and_lists(api: Api) -> None:
    post = api.made("posts", {"title": "t"})
    assert api.patch("posts", post["id"], {"views": 2}, **{"If-Match": "*"}).status_code == 200
    assert (
        api.patch("posts", post["id"], {"views": 3}, **{"If-Match": '"1", "2"'}).status_code == 200
    )
