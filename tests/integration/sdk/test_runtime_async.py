"""The AsyncClient twins of the main SDK paths against a live Cairn (each test drives its
coroutine with asyncio.run)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from cairn.auth.keys import IssuedKey
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn_sdk import (
    AsyncClient,
    AsyncCollectionResource,
    AsyncPage,
    CairnError,
    Conflict,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    ValidationError,
)
from tests.factories import apply_yaml
from tests.integration.sdk.test_runtime import BLOG, Requests
from tests.integration.sdk.test_runtime_auth import NOTES, PASSWORD


@pytest.fixture
def blog(runtime: Runtime, project: Project) -> Project:
    apply_yaml(runtime, project, BLOG)
    return project


def test_async_crud_with_if_match(live_server: str, blog: Project, admin_key: IssuedKey) -> None:
    async def main() -> None:
        async with AsyncClient(live_server, blog.slug, api_key=admin_key.secret) as client:
            posts = client.collection("posts")
            assert isinstance(posts, AsyncCollectionResource)
            post = await posts.create({"title": "Hello", "score": 1})
            assert (await posts.get(post["id"]))["title"] == "Hello"
            updated = await posts.update(post["id"], {"score": 2}, if_match=1)
            assert updated["version"] == 2
            with pytest.raises(PreconditionFailed) as stale:
                await posts.update(post["id"], {"score": 3}, if_match=1)
            assert stale.value.request_id
            with pytest.raises(PreconditionFailed):
                await posts.delete(post["id"], if_match=1)
            await posts.delete(post["id"], if_match=2)
            with pytest.raises(NotFound):
                await posts.get(post["id"])

    asyncio.run(main())


def test_async_list_filter_sort_expand_and_lazy_pages(
    live_server: str, blog: Project, admin_key: IssuedKey
) -> None:
    seen = Requests()

    async def main() -> None:
        http = httpx.AsyncClient(event_hooks={"request": [_async(seen)]})
        async with AsyncClient(
            live_server, blog.slug, api_key=admin_key.secret, http_client=http
        ) as client:
            ann = await client.collection("authors").create({"name": "Ann"})
            await client.batch(
                [
                    {
                        "method": "POST",
                        "path": "/collections/posts/records",
                        "body": {"title": f"p{i:02}", "score": i, "author": ann["id"]},
                    }
                    for i in range(12)
                ]
            )
            posts = client.collection("posts")
            top = await posts.list(filter="score >= 10", sort="-score", expand=["author"])
            assert [p["title"] for p in top.items] == ["p11", "p10"]
            assert top.items[0]["expand"]["author"]["name"] == "Ann"
            one = await posts.get(top.items[0]["id"], expand=["author"])
            assert one["expand"]["author"]["id"] == ann["id"]

            before = len(seen)
            page = await posts.list(sort="title", limit=5, count=True)
            assert isinstance(page, AsyncPage) and page.total == 12 and page.has_next()
            assert len(seen) == before + 1
            titles: list[str] = []
            async for post in page:
                titles.append(post["title"])
                if len(titles) == 5:
                    assert len(seen) == before + 1  # nothing fetched ahead
            assert titles == [f"p{i:02}" for i in range(12)]
            assert len(seen) == before + 3
            assert [p["title"] async for p in page.iter_all()] == titles
            third = await (await page.next_page()).next_page()
            assert not third.has_next()
            with pytest.raises(CairnError):
                await third.next_page()
        await http.aclose()

    asyncio.run(main())


def _async(hook: Requests) -> Any:
    async def call(request: httpx.Request) -> None:
        hook(request)

    return call


def test_async_errors_are_typed(live_server: str, blog: Project, admin_key: IssuedKey) -> None:
    async def main() -> None:
        async with AsyncClient(live_server, blog.slug, api_key=admin_key.secret) as client:
            with pytest.raises(ValidationError) as invalid:
                await client.collection("posts").create({"score": -1})
            assert set(invalid.value.errors) == {"title", "score"}
            assert invalid.value.request_id == invalid.value.response.headers["X-Request-ID"]
            authors = client.collection("authors")
            await authors.create({"name": "A", "email": "a@example.test"})
            with pytest.raises(Conflict):
                await authors.create({"name": "B", "email": "a@example.test"})
        async with AsyncClient(live_server, blog.slug, api_key="ck_nope_not_a_key") as bad:
            with pytest.raises(Unauthorized):
                await bad.collection("posts").list()

    asyncio.run(main())


def test_async_auth_and_rule_limited_access(
    runtime: Runtime, project: Project, live_server: str
) -> None:
    apply_yaml(runtime, project, NOTES)

    async def main() -> None:
        async with (
            AsyncClient(live_server, project.slug) as ada,
            AsyncClient(live_server, project.slug) as bob,
        ):
            signed = await ada.auth.signup("ada@example.test", PASSWORD)
            assert ada.token == signed.token and signed.token
            await bob.auth.signup("bob@example.test", PASSWORD)
            await bob.auth.logout()
            assert bob.token is None
            logged = await bob.auth.login("bob@example.test", PASSWORD)
            assert bob.token == logged.token
            assert (await bob.auth.me())["email"] == "bob@example.test"
            assert [s["current"] for s in await bob.auth.sessions()] == [True]

            note = await ada.collection("notes").create({"text": "ada's"})
            assert [n["id"] async for n in await ada.collection("notes").list()] == [note["id"]]
            assert (await bob.collection("notes").list()).items == []
            with pytest.raises(NotFound):
                await bob.collection("notes").get(note["id"])
            assert "/auth/oauth/github/authorize?redirect_to=" in ada.auth.authorize_url(
                "github", "https://app.example.com/"
            )

    asyncio.run(main())


def test_async_settings_fall_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch, live_server: str, blog: Project, admin_key: IssuedKey
) -> None:
    monkeypatch.setenv("CAIRN_URL", live_server)
    monkeypatch.setenv("CAIRN_PROJECT", blog.slug)
    monkeypatch.setenv("CAIRN_API_KEY", admin_key.secret)

    async def main() -> None:
        async with AsyncClient() as client:
            assert (await client.collection("authors").create({"name": "E"}))["name"] == "E"

    asyncio.run(main())
    monkeypatch.delenv("CAIRN_PROJECT")
    with pytest.raises(CairnError, match="CAIRN_PROJECT"):
        AsyncClient()
