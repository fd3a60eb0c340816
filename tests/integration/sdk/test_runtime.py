"""The SDK runtime against a live Cairn: records CRUD, If-Match, listing, paging, batch,
errors and settings. No mocks: every call goes over HTTP to the session's app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import cairn_sdk
from cairn.auth.keys import IssuedKey
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn_sdk import (
    APIStatusError,
    BadRequest,
    CairnError,
    Client,
    CollectionResource,
    Conflict,
    Forbidden,
    NotFound,
    Page,
    PreconditionFailed,
    Unauthorized,
    ValidationError,
)
from tests.factories import apply_yaml, make_key

BLOG = """
collections:
  - name: authors
    fields:
      name: {type: text, required: true}
      email: {type: email, unique: true}
    rules: {list: "", view: "", create: "", update: "", delete: ""}
  - name: posts
    fields:
      title: {type: text, required: true, max_length: 200}
      status: {type: select, values: [draft, published], default: draft}
      score: {type: number, min: 0}
      author: {type: relation, collection: authors, on_delete: restrict}
  - name: comments
    fields:
      post: {type: relation, collection: posts, on_delete: cascade, required: true}
      text: {type: text, required: true}
"""


class Requests:
    """Counts the HTTP requests an httpx client sends (an event hook), by method."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> None:
        self.sent.append(request)

    def __len__(self) -> int:
        return len(self.sent)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.sent]


@pytest.fixture
def blog(runtime: Runtime, project: Project) -> Project:
    apply_yaml(runtime, project, BLOG)
    return project


@pytest.fixture
def requests_seen() -> Requests:
    return Requests()


@pytest.fixture
def sdk(
    live_server: str, blog: Project, admin_key: IssuedKey, requests_seen: Requests
) -> Iterator[Client]:
    """An SDK client of the blog project with an admin key, counting its requests."""
    http = httpx.Client(event_hooks={"request": [requests_seen]})
    with Client(live_server, blog.slug, api_key=admin_key.secret, http_client=http) as client:
        yield client
    http.close()


@pytest.fixture
def client_for(live_server: str, blog: Project) -> Iterator[Callable[..., Client]]:
    """Make more SDK clients of the blog project; all closed after the test."""
    made: list[Client] = []

    def make(**kw: Any) -> Client:
        made.append(Client(live_server, blog.slug, **kw))
        return made[-1]

    yield make
    for c in made:
        c.close()


# -- records ----------------------------------------------------------------------------


def test_create_get_update_delete_with_if_match(sdk: Client) -> None:
    posts = sdk.collection("posts")
    assert isinstance(posts, CollectionResource)
    post = posts.create({"title": "Hello", "score": 3})
    assert post["title"] == "Hello" and post["status"] == "draft" and post["version"] == 1
    assert set(post) >= {"id", "created_at", "updated_at", "version", "owner"}
    assert posts.get(post["id"]) == post

    updated = posts.update(post["id"], {"score": 4}, if_match=post["version"])
    assert updated["score"] == 4 and updated["version"] == 2
    # A writer holding the old version loses: 412, nothing written.
    with pytest.raises(PreconditionFailed) as stale:
        posts.update(post["id"], {"score": 99}, if_match=post["version"])
    assert stale.value.status == 412 and stale.value.request_id
    assert posts.get(post["id"])["score"] == 4
    # If-Match as the server's ETag passes through.
    assert posts.update(post["id"], {"score": 5}, if_match='"2"')["version"] == 3

    with pytest.raises(PreconditionFailed):
        posts.delete(post["id"], if_match=1)
    posts.delete(post["id"], if_match=3)
    with pytest.raises(NotFound) as gone:
        posts.get(post["id"])
    assert gone.value.status == 404


def test_an_explicit_idempotency_key_creates_once(sdk: Client) -> None:
    posts = sdk.collection("posts")
    first = posts.create({"title": "once"}, idempotency_key="sdk-key-1")
    again = posts.create({"title": "once"}, idempotency_key="sdk-key-1")
    assert again == first
    assert posts.list(count=True).total == 1
    with pytest.raises(ValidationError) as reused:
        posts.create({"title": "another body"}, idempotency_key="sdk-key-1")
    assert "Idempotency-Key" in reused.value.errors


def test_every_write_carries_a_fresh_idempotency_key(sdk: Client, requests_seen: Requests) -> None:
    posts = sdk.collection("posts")
    a = posts.create({"title": "a"})
    posts.create({"title": "a"})  # same body, another call: another record
    posts.update(a["id"], {"title": "b"})
    posts.get(a["id"])
    keys = [r.headers.get("Idempotency-Key") for r in requests_seen.sent]
    assert keys[3] is None  # reads carry none
    assert None not in keys[:3] and len(set(keys[:3])) == 3
    assert posts.list(count=True).total == 2


def test_list_with_filter_sort_fields_expand_and_count(sdk: Client) -> None:
    authors, posts = sdk.collection("authors"), sdk.collection("posts")
    ann = authors.create({"name": "Ann", "email": "ann@example.test"})
    bob = authors.create({"name": "Bob"})
    for title, score, who in [("b", 10, ann), ("a", 10, bob), ("c", 30, ann), ("low", 1, bob)]:
        posts.create({"title": title, "score": score, "author": who["id"]})

    page = posts.list(filter="score >= 10", sort=["-score", "title"], expand=["author"])
    assert isinstance(page, Page)
    assert [p["title"] for p in page.items] == ["c", "a", "b"]
    assert page.next_cursor is None and page.total is None and not page.has_next()
    assert [p["expand"]["author"]["name"] for p in page.items] == ["Ann", "Bob", "Ann"]

    counted = posts.list(filter='title ~ "a" || title = "low"', sort="title", count=True)
    assert counted.total == 2 and [p["title"] for p in counted.items] == ["a", "low"]

    slim = posts.list(sort="title", fields=["id", "title"], limit=1)
    assert list(slim.items[0]) == ["id", "title"] and slim.has_next()

    # One record with fields and expand.
    c = page.items[0]
    one = posts.get(c["id"], fields=["title", "author"], expand=["author"])
    assert one["title"] == "c" and one["expand"]["author"]["email"] == "ann@example.test"
    assert "score" not in one


def test_iterating_a_page_follows_cursors_lazily(sdk: Client, requests_seen: Requests) -> None:
    posts = sdk.collection("posts")
    sdk.batch(
        [
            {"method": "POST", "path": "/collections/posts/records", "body": {"title": f"p{i:02}"}}
            for i in range(25)
        ]
    )
    before = len(requests_seen)
    page = posts.list(sort="title", limit=10)
    assert len(requests_seen) == before + 1 and len(page.items) == 10

    it = iter(page)
    first_ten = [next(it)["title"] for _ in range(10)]
    assert len(requests_seen) == before + 1  # still on the first page
    eleventh = next(it)["title"]
    assert len(requests_seen) == before + 2  # the second page, only when needed
    rest = [p["title"] for p in it]
    assert len(requests_seen) == before + 3  # 25 rows, pages of 10: three requests
    assert [*first_ten, eleventh, *rest] == [f"p{i:02}" for i in range(25)]
    assert all("cursor=" in str(r.url) for r in requests_seen.sent[before + 1 :])

    # iter_all and next_page are the same walk; stopping early stops the requests.
    assert [p["title"] for p in page.iter_all()] == [f"p{i:02}" for i in range(25)]
    second = page.next_page()
    assert second.items[0]["title"] == "p10" and second.next_page().next_cursor is None
    with pytest.raises(CairnError):
        second.next_page().next_page()
    counted = len(requests_seen)
    for _ in posts.list(limit=5):
        break
    assert len(requests_seen) == counted + 1


def test_get_page_casts_items(sdk: Client) -> None:
    sdk.collection("authors").create({"name": "Ann"})
    page = sdk.get_page("/collections/authors/records", {"sort": "name"}, lambda d: d["name"])
    assert list(page) == ["Ann"]
    untyped = sdk.get_page("/collections/authors/records")
    assert untyped.items[0]["name"] == "Ann"


def test_a_typed_subclass_casts_records(sdk: Client) -> None:
    class Author:
        def __init__(self, data: dict[str, Any]) -> None:
            self.id: str = data["id"]
            self.name: str = data["name"]

    class Authors(CollectionResource[Author]):
        def __init__(self, client: Client) -> None:
            super().__init__(client, "authors", Author)

    authors = Authors(sdk)
    ann = authors.create({"name": "Ann"})
    assert isinstance(ann, Author) and authors.get(ann.id).name == "Ann"
    assert [a.name for a in authors.list()] == ["Ann"]


def test_batch_runs_all_or_nothing(sdk: Client) -> None:
    results = sdk.batch(
        [
            {"method": "POST", "path": "/collections/authors/records", "body": {"name": "Ann"}},
            {"method": "POST", "path": "/collections/posts/records", "body": {"title": "t"}},
        ]
    )
    assert [r["status"] for r in results] == [201, 201]
    with pytest.raises(ValidationError) as failed:
        sdk.batch(
            [
                {"method": "POST", "path": "/collections/authors/records", "body": {"name": "X"}},
                {"method": "POST", "path": "/collections/posts/records", "body": {"title": 5}},
            ]
        )
    assert failed.value.body is not None and failed.value.body["operation"] == 1
    assert sdk.collection("authors").list(count=True).total == 1


# -- errors -----------------------------------------------------------------------------


def test_errors_are_typed_with_request_id_and_field_errors(
    sdk: Client, client_for: Callable[..., Client], runtime: Runtime, blog: Project
) -> None:
    posts = sdk.collection("posts")
    with pytest.raises(ValidationError) as invalid:
        posts.create({"title": "x" * 201, "score": -1})
    err = invalid.value
    assert err.status == 422 and isinstance(err, APIStatusError)
    assert set(err.errors) == {"title", "score"} and all(err.errors.values())
    assert err.request_id and err.request_id == err.response.headers["X-Request-ID"]
    assert err.body is not None and err.body["type"].startswith("urn:cairn:problem:")
    assert err.title and err.detail and err.request_id in str(err)

    with pytest.raises(BadRequest) as bad:
        posts.list(filter="score >>> 1")
    assert bad.value.status == 400
    with pytest.raises(NotFound):
        sdk.collection("nope").list()
    with pytest.raises(NotFound):
        posts.get("01890000-0000-7000-8000-000000000000")

    with pytest.raises(Unauthorized) as unauthorized:
        client_for(api_key="ck_not_a_real_key_at_all").collection("posts").list()
    assert unauthorized.value.status == 401 and unauthorized.value.request_id

    reader = client_for(api_key=make_key(runtime, blog, scope="read").secret)
    with pytest.raises(Forbidden):
        reader.collection("posts").create({"title": "no"})

    authors = sdk.collection("authors")
    authors.create({"name": "Ann", "email": "ann@example.test"})
    with pytest.raises(Conflict) as dup:
        authors.create({"name": "Ann 2", "email": "ann@example.test"})
    assert dup.value.status == 409


def test_other_statuses_are_api_status_errors(sdk: Client) -> None:
    with pytest.raises(APIStatusError) as wrong:
        sdk.request("PUT", "/collections/posts/records")  # no such method here: 405
    assert type(wrong.value) is APIStatusError and wrong.value.status == 405


def test_an_unreachable_server_is_a_connection_error(unused_port: int) -> None:
    client = Client(f"http://127.0.0.1:{unused_port}", "p", api_key="ck_x", max_retries=0)
    with client, pytest.raises(cairn_sdk.ConnectionError) as failed:
        client.collection("posts").list()
    assert not isinstance(failed.value, cairn_sdk.Timeout)


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# -- settings ---------------------------------------------------------------------------


def test_settings_fall_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch, live_server: str, blog: Project, admin_key: IssuedKey
) -> None:
    monkeypatch.setenv("CAIRN_URL", live_server + "/")
    monkeypatch.setenv("CAIRN_PROJECT", blog.slug)
    monkeypatch.setenv("CAIRN_API_KEY", admin_key.secret)
    with Client() as client:
        assert client.base_url == live_server and client.project == blog.slug
        assert client.collection("posts").create({"title": "env"})["title"] == "env"
    # Explicit arguments win over the environment.
    with Client(api_key="ck_wrong_key_for_this_project") as wrong:
        assert wrong.base_url == live_server
        with pytest.raises(Unauthorized):
            wrong.collection("posts").list()

    monkeypatch.delenv("CAIRN_URL")
    with pytest.raises(CairnError, match="CAIRN_URL"):
        Client()
    monkeypatch.setenv("CAIRN_URL", live_server)
    monkeypatch.delenv("CAIRN_PROJECT")
    with pytest.raises(CairnError, match="CAIRN_PROJECT"):
        Client()


def test_with_options_shares_the_pool(sdk: Client, requests_seen: Requests) -> None:
    quick = sdk.with_options(max_retries=0, timeout=5.0)
    assert quick.max_retries == 0 and quick.api_key == sdk.api_key
    assert quick.http_client is sdk.http_client
    quick.collection("posts").list()
    quick.close()  # leaves the shared pool open
    sdk.collection("posts").list()
    assert len(requests_seen) == 2


def test_the_sdk_imports_nothing_but_httpx_and_the_stdlib() -> None:
    """cairn_sdk never imports the server package (it is blocked here) and needs no
    third-party module beyond what `import httpx` loads itself."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "def tops():\n"
        "    return {m.split('.')[0] for m in sys.modules if sys.modules[m] is not None}\n"
        "import httpx\n"
        "before = tops()\n"
        "sys.modules['cairn'] = None\n"
        "import cairn_sdk\n"
        "extra = tops() - before - set(sys.stdlib_module_names) - {'cairn_sdk'}\n"
        "print(sorted(m for m in extra if not m.startswith('_')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
