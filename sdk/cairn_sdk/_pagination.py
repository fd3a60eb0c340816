"""Cursor pages that follow themselves.

A list call answers one page: `{"items": [...], "next_cursor": "..." | null}` (+ `"total"`
with `count=True`). `Page` holds that page; iterating it yields its items, then fetches the
next page only when the previous one is used up, until there is no cursor left. So

    for post in client.collection("posts").list(limit=100):
        ...

reads every record, one request per 100, and stopping early stops the requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

from cairn_sdk._errors import CairnError

__all__ = ["AsyncPage", "Page"]

T = TypeVar("T")


def _parse(
    body: Any, cast: Callable[[dict[str, Any]], T]
) -> tuple[list[T], str | None, int | None]:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise CairnError("the server's answer is not a page: expected {'items': [...], ...}")
    cursor = body.get("next_cursor")
    total = body.get("total")
    return (
        [cast(item) for item in body["items"]],
        cursor if isinstance(cursor, str) and cursor else None,
        total if isinstance(total, int) else None,
    )


class Page(Generic[T]):
    """One page of a list: `items`, `next_cursor` (None on the last page) and `total`
    (only when the list asked for `count=True`).

    Iterating the page (`for x in page` or `page.iter_all()`) yields the items of this page
    and then of every following page, fetched lazily one request at a time.
    """

    items: list[T]
    next_cursor: str | None
    total: int | None

    def __init__(
        self,
        items: list[T],
        next_cursor: str | None = None,
        total: int | None = None,
        *,
        fetch: Callable[[str], Page[T]] | None = None,
    ) -> None:
        """Build a page; `fetch(cursor)` returns the page after it (None: no more pages)."""
        self.items = items
        self.next_cursor = next_cursor
        self.total = total
        self._fetch = fetch

    @classmethod
    def from_body(
        cls,
        body: Any,
        cast: Callable[[dict[str, Any]], T],
        fetch: Callable[[str], Page[T]] | None = None,
    ) -> Page[T]:
        """A page from a list response body, each item passed through `cast`."""
        items, cursor, total = _parse(body, cast)
        return cls(items, cursor, total, fetch=fetch)

    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.next_cursor is not None and self._fetch is not None

    def next_page(self) -> Page[T]:
        """Fetch the page after this one (raises `CairnError` on the last page)."""
        if self.next_cursor is None or self._fetch is None:
            raise CairnError("this is the last page: check has_next() before next_page()")
        return self._fetch(self.next_cursor)

    def iter_pages(self) -> Iterator[Page[T]]:
        """This page and each following page, fetched lazily."""
        page: Page[T] = self
        while True:
            yield page
            if not page.has_next():
                return
            page = page.next_page()

    def iter_all(self) -> Iterator[T]:
        """Every item of this and the following pages, fetched lazily."""
        for page in self.iter_pages():
            yield from page.items

    def __iter__(self) -> Iterator[T]:
        """Same as `iter_all()`: the items of this and every following page."""
        return self.iter_all()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(items=<{len(self.items)} items>, "
            f"next_cursor={self.next_cursor!r}, total={self.total!r})"
        )


class AsyncPage(Generic[T]):
    """The async twin of `Page`: `async for x in page` (or `page.iter_all()`) yields the
    items of this and every following page; `await page.next_page()` fetches the next."""

    items: list[T]
    next_cursor: str | None
    total: int | None

    def __init__(
        self,
        items: list[T],
        next_cursor: str | None = None,
        total: int | None = None,
        *,
        fetch: Callable[[str], Awaitable[AsyncPage[T]]] | None = None,
    ) -> None:
        """Build a page; `await fetch(cursor)` returns the page after it."""
        self.items = items
        self.next_cursor = next_cursor
        self.total = total
        self._fetch = fetch

    @classmethod
    def from_body(
        cls,
        body: Any,
        cast: Callable[[dict[str, Any]], T],
        fetch: Callable[[str], Awaitable[AsyncPage[T]]] | None = None,
    ) -> AsyncPage[T]:
        """A page from a list response body, each item passed through `cast`."""
        items, cursor, total = _parse(body, cast)
        return cls(items, cursor, total, fetch=fetch)

    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.next_cursor is not None and self._fetch is not None

    async def next_page(self) -> AsyncPage[T]:
        """Fetch the page after this one (raises `CairnError` on the last page)."""
        if self.next_cursor is None or self._fetch is None:
            raise CairnError("this is the last page: check has_next() before next_page()")
        return await self._fetch(self.next_cursor)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page and each following page, fetched lazily."""
        page: AsyncPage[T] = self
        while True:
            yield page
            if not page.has_next():
                return
            page = await page.next_page()

    async def iter_all(self) -> AsyncIterator[T]:
        """Every item of this and the following pages, fetched lazily."""
        async for page in self.iter_pages():
            for item in page.items:
                yield item

    def __aiter__(self) -> AsyncIterator[T]:
        """Same as `iter_all()`: the items of this and every following page."""
        return self.iter_all()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(items=<{len(self.items)} items>, "
            f"next_cursor={self.next_cursor!r}, total={self.total!r})"
        )
