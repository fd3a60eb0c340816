"""A generated SDK against a live Cairn: `cairn sdk generate` writes the package for a
project of three related collections, the test imports it and drives every typed call over
HTTP: create/get/update (If-Match conflicts)/delete, list with typed filters, sort, expand
and lazy multi-page iteration, end-user sign-up and sign-in, and rules that limit what each
caller sees. The asyncio twin is test_generate_async.py.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import cairn_sdk
from cairn.auth.keys import IssuedKey
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import CairnCli
from tests.factories import apply_yaml, make_key, make_project

PASSWORD = "correct horse battery"

# Authors, their posts, and comments on posts. Reading is open (drafts only to their
# owner), writing needs a signed-in user and each user may change only their own records.
BLOG = """
collections:
  - name: authors
    fields:
      name: {type: text, required: true, max_length: 100}
      email: {type: email, unique: true}
      born: {type: date}
    rules:
      list: ""
      view: ""
      create: "@request.auth.id != ''"
      update: "owner = @request.auth.id"
      delete: "owner = @request.auth.id"
  - name: posts
    fields:
      title: {type: text, required: true, max_length: 200}
      status: {type: select, values: [draft, published], default: draft}
      score: {type: number, min: 0}
      views: {type: integer, default: 0}
      featured: {type: boolean, default: false}
      published_at: {type: datetime}
      tags: {type: select, values: [news, tech, life], multiple: true}
      meta: {type: json}
      author: {type: relation, collection: authors, on_delete: restrict}
    indexes: [{fields: [status, score]}]
    rules:
      list: "status = 'published' || owner = @request.auth.id"
      view: "status = 'published' || owner = @request.auth.id"
      create: "@request.auth.id != ''"
      update: "owner = @request.auth.id"
      delete: "owner = @request.auth.id"
  - name: comments
    fields:
      post: {type: relation, collection: posts, required: true, on_delete: cascade}
      body: {type: text, required: true}
      approved: {type: boolean, default: false}
    rules:
      list: ""
      view: ""
      create: "@request.auth.id != ''"
      update: "owner = @request.auth.id"
      delete: null
"""


class Generated:
    """A project with the blog schema, its admin key, and its generated SDK (imported)."""

    def __init__(
        self, project: Project, key: IssuedKey, sdk: ModuleType, out: Path, runtime: Runtime
    ) -> None:
        self.project = project
        self.key = key
        self.sdk = sdk
        self.out = out
        self.runtime = runtime
        self.models: Any = importlib.import_module(f"{sdk.__name__}.models")
        self.filters: Any = importlib.import_module(f"{sdk.__name__}.filters")


def generate_and_import(
    env: dict[str, str], runtime: Runtime, out: Path, package: str
) -> Iterator[Generated]:
    """Make the project, generate its SDK with `cairn sdk generate`, import it; forget the
    package again afterwards."""
    project = make_project(runtime)
    apply_yaml(runtime, project, BLOG)
    key = make_key(runtime, project, scope="admin")
    result = CairnCli(env)(
        "sdk", "generate", "--project", project.slug, "--out", str(out), "--package", package
    )
    assert result.exit_code == 0, result.output
    sys.path.insert(0, str(out))
    try:
        yield Generated(project, key, importlib.import_module(package), out, runtime)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def blog(
    env: dict[str, str], runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Generated]:
    yield from generate_and_import(env, runtime, tmp_path_factory.mktemp("sdk"), "blog_sdk")


@pytest.fixture
def clients(live_server: str, blog: Generated) -> Iterator[Callable[..., Any]]:
    """Make generated `Client`s of the blog project; all closed after the test."""
    made: list[Any] = []

    def make(**kw: Any) -> Any:
        made.append(blog.sdk.Client(live_server, blog.project.slug, **kw))
        return made[-1]

    yield make
    for client in made:
        client.close()


def signed_up(make: Callable[..., Any]) -> Any:
    """A client signed in as a new end user."""
    client = make()
    client.auth.signup(f"u-{uuid.uuid4().hex[:10]}@example.test", PASSWORD)
    return client


# -- the package --------------------------------------------------------------------------


def test_package_shape(blog: Generated) -> None:
    sdk, models = blog.sdk, blog.models
    assert issubclass(sdk.Client, cairn_sdk.Client)
    assert issubclass(sdk.AsyncClient, cairn_sdk.AsyncClient)
    assert {"Author", "Post", "Comment", "PostCreate", "PostUpdate", "PostStatus"} <= set(
        sdk.__all__
    )
    assert models.Post.__dataclass_params__.frozen
    fields = list(models.Post.__dataclass_fields__)
    assert fields[:5] == ["id", "created_at", "updated_at", "version", "owner"]
    assert fields[5:] == [
        "title", "status", "score", "views", "featured", "published_at", "tags", "meta",
        "author", "expand",
    ]  # fmt: skip
    assert models.PostCreate.__required_keys__ == {"title"}
    assert models.PostUpdate.__required_keys__ == frozenset()
    assert models.PostStatus.__args__ == ("draft", "published")
    for path in sorted((blog.out / "blog_sdk").glob("*.py")):
        text = path.read_text()
        head = text.splitlines()[:3]
        assert head[0].startswith("# Generated by `cairn sdk generate`"), path.name
        command = f"cairn sdk generate --project {blog.project.slug} --package blog_sdk"
        assert head[1] == f"# Command: {command}"
        assert head[2].startswith("# OpenAPI document version: 0.1.0+")
    # Every public call carries a docstring.
    for cls in (sdk.Client, sdk.PostsResource, sdk.AsyncPostsResource, models.Post):
        assert cls.__doc__
        for name, member in vars(cls).items():
            if not name.startswith("_") and callable(member):
                assert member.__doc__, f"{cls.__name__}.{name}"
    assert "Args:" in (sdk.PostsResource.create.__doc__ or "")


# -- records ------------------------------------------------------------------------------


def test_create_get_update_delete_with_if_match(
    blog: Generated, clients: Callable[..., Any]
) -> None:
    admin = clients(api_key=blog.key.secret)
    models = blog.models
    author = admin.authors.create(name="Ada", email="ada@example.test", born=date(1815, 12, 10))
    assert isinstance(author, models.Author)
    assert author.born == date(1815, 12, 10) and author.owner is None
    assert isinstance(author.created_at, datetime) and author.version == 1

    when = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    post = admin.posts.create(
        title="Hello",
        score=2.5,
        published_at=when,
        tags=["news", "tech"],
        meta={"words": 3},
        author=author.id,
    )
    assert isinstance(post, models.Post)
    assert post.status == "draft" and post.views == 0 and post.featured is False  # defaults
    assert post.published_at == when and post.tags == ("news", "tech")
    assert post.meta == {"words": 3} and post.author == author.id and post.expand is None
    with pytest.raises(FrozenInstanceError):
        post.title = "changed"  # type: ignore[misc]

    assert admin.posts.get(post.id) == post

    # Left out keeps a value; None writes null.
    updated = admin.posts.update(post.id, if_match=post.version, status="published", score=None)
    assert (updated.status, updated.score, updated.title) == ("published", None, "Hello")
    assert updated.version == 2 and updated.updated_at >= post.updated_at

    # A writer holding the old version loses: 412, nothing written.
    with pytest.raises(cairn_sdk.PreconditionFailed) as stale:
        admin.posts.update(post.id, if_match=post.version, title="Lost update")
    assert stale.value.status == 412
    assert admin.posts.get(post.id).title == "Hello"
    with pytest.raises(cairn_sdk.PreconditionFailed):
        admin.posts.delete(post.id, if_match=1)

    # Validation errors come back typed, per field.
    with pytest.raises(cairn_sdk.ValidationError) as invalid:
        admin.posts.create(title="x" * 201)
    assert "title" in invalid.value.errors

    admin.posts.delete(post.id, if_match=updated.version)
    with pytest.raises(cairn_sdk.NotFound):
        admin.posts.get(post.id)
    # The author is no longer referenced, so it may go too.
    admin.authors.delete(author.id)


def test_list_with_filters_sort_expand_and_pages(
    blog: Generated, clients: Callable[..., Any]
) -> None:
    admin = clients(api_key=blog.key.secret)
    Post, Comment = blog.filters.Post, blog.filters.Comment
    tag = uuid.uuid4().hex[:8]  # this test's records, apart from the other tests'
    ada = admin.authors.create(name=f"Ada {tag}")
    bob = admin.authors.create(name=f"Bob {tag}")
    posts = [
        admin.posts.create(
            title=f"{tag} post {i}",
            score=float(i),
            status="published" if i % 2 else "draft",
            author=(ada if i < 4 else bob).id,
            tags=["news"] if i % 3 == 0 else ["life"],
            published_at=datetime(2024, 1, 1 + i, tzinfo=UTC),
        )
        for i in range(7)
    ]
    mine = Post.title.contains(tag)

    # Typed filter and sort: the published ones scoring 2 or more, best first.
    page = admin.posts.list(
        filter=mine & (Post.score >= 2) & Post.status.eq("published"), sort="-score"
    )
    assert [p.score for p in page.items] == [5.0, 3.0]
    assert page.next_cursor is None and page.total is None

    # or, not, is_null, one_of, multi-valued contains, datetimes, relations by record.
    def titles(expr: Any, **kw: Any) -> list[str]:
        return [p.title for p in admin.posts.list(filter=mine & expr, sort=["title"], **kw)]

    assert titles((Post.score < 1) | (Post.score > 5)) == [f"{tag} post 0", f"{tag} post 6"]
    assert titles(~Post.status.eq("draft") & Post.score.one_of(1, 5)) == [
        f"{tag} post 1",
        f"{tag} post 5",
    ]
    assert titles(Post.tags.contains("news")) == [f"{tag} post {i}" for i in (0, 3, 6)]
    assert titles(Post.published_at.gt(datetime(2024, 1, 6, tzinfo=UTC))) == [f"{tag} post 6"]
    assert titles(Post.author.eq(bob)) == [f"{tag} post {i}" for i in (4, 5, 6)]
    assert titles(Post.meta.is_null() & Post.author.ne(ada)) == titles(Post.author == bob.id)
    assert len(titles(Post.featured.is_false())) == 7
    # Filter text works as well.
    text = admin.posts.list(filter=f'score >= 6 && title ~ "{tag}"')
    assert [p.title for p in text] == [f"{tag} post 6"]

    # Expand: related records come back as typed records, also nested one level down.
    for post in admin.posts.list(filter=mine, expand=["author"], limit=3):
        related = post.expand["author"]
        assert isinstance(related, blog.models.Author)
        assert related.id == post.author
    one = admin.posts.get(posts[0].id, expand=["author"])
    assert one.expand is not None and one.expand["author"].name == f"Ada {tag}"
    comment = admin.comments.create(post=posts[1].id, body="Nice")
    listed = admin.comments.list(filter=Comment.post.eq(posts[1]), expand=["post"])
    assert [c.id for c in listed.items] == [comment.id]
    assert listed.items[0].expand["post"] == admin.posts.get(posts[1].id)

    # Many pages, fetched lazily: 7 records, 2 per page, 4 requests, no repeats.
    first = admin.posts.list(filter=mine, sort=["-score"], limit=2, count=True)
    assert len(first.items) == 2 and first.next_cursor and first.total == 7
    every = list(first)
    assert [p.score for p in every] == [6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0]
    pages = list(first.iter_pages())
    assert [len(p.items) for p in pages] == [2, 2, 2, 1]
    assert pages[-1].next_cursor is None
    second = admin.posts.list(filter=mine, sort=["-score"], limit=2, cursor=first.next_cursor)
    assert [p.id for p in second.items] == [p.id for p in pages[1].items]

    # A filter the server cannot read is a typed 400.
    with pytest.raises(cairn_sdk.BadRequest):
        admin.posts.list(filter="nope = 1")


# -- end users and rules ------------------------------------------------------------------


def test_signup_login_and_rule_limited_access(blog: Generated, clients: Callable[..., Any]) -> None:
    Post = blog.filters.Post
    tag = uuid.uuid4().hex[:8]
    email = f"ada-{tag}@example.test"

    ada = clients()
    signed = ada.auth.signup(email, PASSWORD)
    assert ada.token == signed.token and signed.token.startswith("cs_")
    me = ada.auth.me()
    author = ada.authors.create(name="Ada")
    assert author.owner == me["id"]
    draft = ada.posts.create(title=f"{tag} draft", author=author.id)
    public = ada.posts.create(title=f"{tag} public", status="published", author=author.id)
    assert draft.owner == public.owner == me["id"]

    # The same user signed in elsewhere sees their drafts too.
    laptop = clients()
    logged = laptop.auth.login(email, PASSWORD)
    assert logged.token != signed.token
    assert {p.id for p in laptop.posts.list(filter=Post.title.contains(tag))} == {
        draft.id,
        public.id,
    }
    assert laptop.posts.get(draft.id) == ada.posts.get(draft.id)

    # Another user sees only the published post; the draft does not exist for them.
    bob = signed_up(clients)
    assert [p.id for p in bob.posts.list(filter=Post.title.contains(tag))] == [public.id]
    with pytest.raises(cairn_sdk.NotFound):
        bob.posts.get(draft.id)
    with pytest.raises(cairn_sdk.NotFound):
        bob.posts.update(public.id, title="Mine now")
    with pytest.raises(cairn_sdk.NotFound):
        bob.authors.delete(author.id)
    # Comments are open to every signed-in user, and never deletable by them.
    comment = bob.comments.create(post=public.id, body="Hi Ada")
    with pytest.raises(cairn_sdk.Forbidden):
        bob.comments.delete(comment.id)

    # Anonymous readers (a read key: rules apply as anonymous) see published posts only
    # and may not write.
    reader = clients(api_key=make_key(blog.runtime, blog.project, scope="read").secret)
    assert [p.id for p in reader.posts.list(filter=Post.title.contains(tag))] == [public.id]
    with pytest.raises((cairn_sdk.Forbidden, cairn_sdk.Unauthorized)):
        reader.posts.create(title=f"{tag} anonymous")

    # The owner may update with If-Match; after logging out the drafts are hidden again.
    changed = ada.posts.update(draft.id, if_match=draft.version, title=f"{tag} draft 2")
    assert changed.version == 2
    ada.auth.logout()
    with pytest.raises((cairn_sdk.Unauthorized, cairn_sdk.NotFound)):
        ada.posts.get(draft.id)
    laptop.posts.delete(draft.id, if_match=changed.version)
