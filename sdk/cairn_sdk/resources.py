"""Collection resources: create, get, update, delete and list the records of one collection.

`CollectionResource[RecordT]` is generic over the record type: `client.collection("posts")`
gives records as plain dicts; a generated package subclasses it with its own record model
and `cast` (e.g. `Post.from_dict`). `AsyncCollectionResource` is the asyncio twin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

from cairn_sdk._pagination import AsyncPage, Page

if TYPE_CHECKING:
    from cairn_sdk._client import AsyncClient, Client

__all__ = ["AsyncCollectionResource", "CollectionResource", "etag"]

RecordT = TypeVar("RecordT")


def etag(version: int | str) -> str:
    """The `If-Match` value for a record version: `3` → `"3"`; an ETag as the server sent
    it (`"3"`, `W/"3"`) or `*` passes through unchanged."""
    if isinstance(version, int):
        return f'"{version}"'
    text = version.strip()
    if text == "*" or text.startswith(('"', "W/")):
        return text
    return f'"{text}"'


def _join(value: str | Sequence[str] | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return ",".join(value)


def _list_params(
    filter: str | None,
    sort: str | Sequence[str] | None,
    limit: int | None,
    cursor: str | None,
    fields: Sequence[str] | None,
    expand: Sequence[str] | None,
    count: bool,
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "filter": filter,
        "sort": _join(sort),
        "limit": limit,
        "cursor": cursor,
        "fields": _join(fields),
        "expand": _join(expand),
    }
    if count:
        params["count"] = True
    return {k: v for k, v in params.items() if v is not None}


def _shape(fields: Sequence[str] | None, expand: Sequence[str] | None) -> dict[str, Any] | None:
    params = {"fields": ",".join(fields) if fields else None,
              "expand": ",".join(expand) if expand else None}  # fmt: skip
    return {k: v for k, v in params.items() if v} or None


class CollectionResource(Generic[RecordT]):
    """The records of one collection, each returned as `cast(record_dict)`."""

    def __init__(
        self, client: Client, name: str, cast: Callable[[dict[str, Any]], RecordT]
    ) -> None:
        """Bind the resource to `client` and collection `name`."""
        self._client = client
        self.name = name
        self._cast = cast

    @property
    def path(self) -> str:
        """The collection's records path, relative to the project."""
        return f"/collections/{quote(self.name, safe='')}/records"

    def _record_path(self, id: str) -> str:
        return f"{self.path}/{quote(str(id), safe='')}"

    def create(self, data: Mapping[str, Any], *, idempotency_key: str | None = None) -> RecordT:
        """Create a record from `data` and return it (with `id`, `version` and the other
        system fields). Retried safely: the same `idempotency_key` (generated unless given)
        makes the server create it once."""
        body = self._client.request(
            "POST", self.path, json=dict(data), idempotency_key=idempotency_key
        )
        return self._cast(body)

    def get(
        self,
        id: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> RecordT:
        """The record `id` (raises `NotFound` if it does not exist or a rule hides it).
        `fields` keeps only those keys; `expand` inlines the named relations under
        `"expand"` (each through its collection's view rule)."""
        params = _shape(fields, expand)
        return self._cast(self._client.request("GET", self._record_path(id), params=params))

    def update(
        self, id: str, data: Mapping[str, Any], *, if_match: int | str | None = None
    ) -> RecordT:
        """Change the fields in `data` of record `id` and return the updated record.
        With `if_match` (the version you read) the update only happens if nobody wrote the
        record since; otherwise `PreconditionFailed` is raised."""
        headers = {"If-Match": etag(if_match)} if if_match is not None else None
        body = self._client.request(
            "PATCH", self._record_path(id), json=dict(data), headers=headers
        )
        return self._cast(body)

    def delete(self, id: str, *, if_match: int | str | None = None) -> None:
        """Delete record `id` (with `if_match`: only if it is still at that version)."""
        headers = {"If-Match": etag(if_match)} if if_match is not None else None
        self._client.request("DELETE", self._record_path(id), headers=headers)

    def list(
        self,
        *,
        filter: str | None = None,
        sort: str | Sequence[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        count: bool = False,
    ) -> Page[RecordT]:
        """The first page of records matching `filter` (e.g. `'score >= 10 && status =
        "draft"'`), ordered by `sort` (`"-created_at"` or `["-score", "title"]`), `limit`
        per page (1-500, default 50). Iterate the page to read every matching record; the
        next pages are fetched as needed. `count=True` fills `page.total`."""
        params = _list_params(filter, sort, limit, cursor, fields, expand, count)
        return self._client.get_page(self.path, params, self._cast)


class AsyncCollectionResource(Generic[RecordT]):
    """The asyncio twin of `CollectionResource`."""

    def __init__(
        self, client: AsyncClient, name: str, cast: Callable[[dict[str, Any]], RecordT]
    ) -> None:
        """Bind the resource to `client` and collection `name`."""
        self._client = client
        self.name = name
        self._cast = cast

    @property
    def path(self) -> str:
        """The collection's records path, relative to the project."""
        return f"/collections/{quote(self.name, safe='')}/records"

    def _record_path(self, id: str) -> str:
        return f"{self.path}/{quote(str(id), safe='')}"

    async def create(
        self, data: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> RecordT:
        """Create a record from `data` and return it; see `CollectionResource.create`."""
        body = await self._client.request(
            "POST", self.path, json=dict(data), idempotency_key=idempotency_key
        )
        return self._cast(body)

    async def get(
        self,
        id: str,
        *,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> RecordT:
        """The record `id`; see `CollectionResource.get`."""
        params = _shape(fields, expand)
        return self._cast(await self._client.request("GET", self._record_path(id), params=params))

    async def update(
        self, id: str, data: Mapping[str, Any], *, if_match: int | str | None = None
    ) -> RecordT:
        """Change the fields in `data` of record `id`; see `CollectionResource.update`."""
        headers = {"If-Match": etag(if_match)} if if_match is not None else None
        body = await self._client.request(
            "PATCH", self._record_path(id), json=dict(data), headers=headers
        )
        return self._cast(body)

    async def delete(self, id: str, *, if_match: int | str | None = None) -> None:
        """Delete record `id`; see `CollectionResource.delete`."""
        headers = {"If-Match": etag(if_match)} if if_match is not None else None
        await self._client.request("DELETE", self._record_path(id), headers=headers)

    async def list(
        self,
        *,
        filter: str | None = None,
        sort: str | Sequence[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        fields: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        count: bool = False,
    ) -> AsyncPage[RecordT]:
        """The first page of matching records; `async for` over it reads them all. See
        `CollectionResource.list`."""
        params = _list_params(filter, sort, limit, cursor, fields, expand, count)
        return await self._client.get_page(self.path, params, self._cast)
