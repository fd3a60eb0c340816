"""The generated SDK's `AsyncClient` against a live Cairn: the same journeys as
test_generate.py, awaited (each test drives its coroutine with asyncio.run)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

import cairn_sdk
from cairn.runtime import Runtime
from tests.factories import make_key
from tests.integration.sdk.test_generate import PASSWORD, Generated, generate_and_import


@pytest.fixture(scope="module")
def blog(
    env: dict[str, str], runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Generated]:
    out = tmp_path_factory.mktemp("sdk-async")
    yield from generate_and_import(env, runtime, out, "blog_async_sdk")


def test_async_crud_with_if_match(live_server: str, blog: Generated) -> None:
    models = blog.models

    async def main() -> None:
        async with blog.sdk.AsyncClient(
            live_server, blog.project.slug, api_key=blog.key.secret
        ) as admin:
            assert isinstance(admin.posts, blog.sdk.AsyncPostsResource)
            author = await admin.authors.create(name="Ada", born=date(1815, 12, 10))
            assert isinstance(author, models.Author) and author.born == date(1815, 12, 10)
            post = await admin.posts.create(title="Hello", score=1, tags=["tech"], author=author.id)
            assert isinstance(post, models.Post) and post.tags == ("tech",)
            assert await admin.posts.get(post.id) == post

            updated = await admin.posts.update(post.id, if_match=1, score=2, featured=True)
            assert (updated.version, updated.score, updated.featured) == (2, 2.0, True)
            with pytest.raises(cairn_sdk.PreconditionFailed) as stale:
                await admin.posts.update(post.id, if_match=1, score=3)
            assert stale.value.request_id
            with pytest.raises(cairn_sdk.PreconditionFailed):
                await admin.posts.delete(post.id, if_match=1)
            await admin.posts.delete(post.id, if_match=2)
            with pytest.raises(cairn_sdk.NotFound):
                await admin.posts.get(post.id)

    asyncio.run(main())


def test_async_list_with_filters_sort_expand_and_pages(live_server: str, blog: Generated) -> None:
    Post = blog.filters.Post
    tag = uuid.uuid4().hex[:8]

    async def main() -> None:
        async with blog.sdk.AsyncClient(
            live_server, blog.project.slug, api_key=blog.key.secret
        ) as admin:
            ada = await admin.authors.create(name=f"Ada {tag}")
            for i in range(5):
                await admin.posts.create(
                    title=f"{tag} {i}",
                    score=float(i),
                    status="published" if i % 2 else "draft",
                    author=ada.id,
                    published_at=datetime(2024, 2, 1 + i, tzinfo=UTC),
                )
            mine = Post.title.contains(tag)
            page = await admin.posts.list(
                filter=mine & Post.status.eq("published") & Post.score.gte(1),
                sort=["-score"],
                expand=["author"],
            )
            assert [p.score for p in page.items] == [3.0, 1.0]
            assert all(p.expand and p.expand["author"] == ada for p in page.items)

            first = await admin.posts.list(filter=mine, sort="score", limit=2, count=True)
            assert first.total == 5 and first.next_cursor
            scores = [p.score async for p in first]
            assert scores == [0.0, 1.0, 2.0, 3.0, 4.0]
            pages = [p async for p in first.iter_pages()]
            assert [len(p.items) for p in pages] == [2, 2, 1]

            late = Post.published_at >= datetime(2024, 2, 4, tzinfo=UTC)
            assert [p.score async for p in await admin.posts.list(filter=mine & late)] == [
                4.0,
                3.0,
            ]

    asyncio.run(main())


def test_async_signup_login_and_rules(live_server: str, blog: Generated) -> None:
    Post = blog.filters.Post
    tag = uuid.uuid4().hex[:8]
    email = f"ada-{tag}@example.test"
    read_key = make_key(blog.runtime, blog.project, scope="read").secret

    async def main() -> None:
        def client(**kw: Any) -> Any:
            return blog.sdk.AsyncClient(live_server, blog.project.slug, **kw)

        async with client() as ada, client() as laptop, client() as bob:
            signed = await ada.auth.signup(email, PASSWORD)
            assert ada.token == signed.token
            draft = await ada.posts.create(title=f"{tag} draft")
            public = await ada.posts.create(title=f"{tag} public", status="published")

            await laptop.auth.login(email, PASSWORD)
            seen = await laptop.posts.list(filter=Post.title.contains(tag))
            assert {p.id for p in seen.items} == {draft.id, public.id}

            await bob.auth.signup(f"bob-{tag}@example.test", PASSWORD)
            seen = await bob.posts.list(filter=Post.title.contains(tag))
            assert [p.id for p in seen.items] == [public.id]
            with pytest.raises(cairn_sdk.NotFound):
                await bob.posts.get(draft.id)
            with pytest.raises(cairn_sdk.NotFound):
                await bob.posts.delete(public.id)

        async with client(api_key=read_key) as reader:
            seen = await reader.posts.list(filter=Post.title.contains(tag))
            assert [p.id for p in seen.items] == [public.id]
            with pytest.raises((cairn_sdk.Forbidden, cairn_sdk.Unauthorized)):
                await reader.posts.create(title=f"{tag} anonymous")

    asyncio.run(main())
