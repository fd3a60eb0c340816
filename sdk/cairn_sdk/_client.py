"""`Client` and `AsyncClient`: one project of one Cairn server, over httpx.

Every call goes through `request()`: it adds the credential, gives each write an
`Idempotency-Key`, retries what is safe to retry, and turns error answers into typed
exceptions (see `cairn_sdk._errors`).

Retries: a request that got no answer (connection refused or dropped, timeout) or an answer
of 408, 429 or 5xx is sent again, at most `max_retries` times, after 0.5 s * 2^n (capped at
8 s, minus up to 25 % jitter) or after the server's `Retry-After` when it gives one (one
over 60 s is not waited for: the error is raised at once, `RateLimited.retry_after` says how
long to wait). Reads are always safe to repeat; writes are repeated with the same
`Idempotency-Key`, so the server runs a write once and replays its first answer to the
repeats.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Final, Self, TypeVar, overload
from urllib.parse import quote

import httpx

from cairn_sdk._auth import AsyncAuth, Auth
from cairn_sdk._errors import (
    CairnError,
    ConnectionError,
    Timeout,
    make_status_error,
    parse_retry_after,
)
from cairn_sdk._pagination import AsyncPage, Page
from cairn_sdk._version import __version__
from cairn_sdk.resources import AsyncCollectionResource, CollectionResource

__all__ = ["AsyncClient", "Client"]

T = TypeVar("T")

log = logging.getLogger("cairn_sdk")

DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_MAX_RETRIES: Final = 2
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
# A Retry-After longer than this is not waited for: the error is raised (RateLimited carries
# `retry_after`) and the caller decides.
MAX_RETRY_AFTER: Final = 60.0
RETRY_STATUSES: Final = frozenset({408, 429})
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
API_PREFIX: Final = "/api/v1/projects/"

# Transport failures worth another attempt; anything else (a bad URL, a local protocol
# error) would fail the same way again.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class _NotGiven:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = _NotGiven()


def _identity(item: dict[str, Any]) -> dict[str, Any]:
    return item


def _no_cookies() -> CookieJar:
    """A jar that keeps nothing: the SDK authenticates with `Authorization: Bearer`, never
    with the browser session cookie the auth endpoints also set."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence):
        return ",".join(_param(v) for v in value)
    return str(value)


def encode_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Query parameters as the API reads them: None dropped, booleans `true`/`false`,
    sequences comma-joined."""
    return {k: _param(v) for k, v in (params or {}).items() if v is not None}


class _BaseClient:
    """Settings, headers, URLs and the retry policy shared by `Client` and `AsyncClient`."""

    base_url: str
    project: str
    api_key: str | None
    token: str | None
    timeout: float | httpx.Timeout | None
    max_retries: int

    def _configure(
        self,
        base_url: str | None,
        project: str | None,
        api_key: str | None,
        token: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
    ) -> None:
        base_url = base_url or os.environ.get("CAIRN_URL") or None
        project = project or os.environ.get("CAIRN_PROJECT") or None
        if base_url is None:
            raise CairnError(
                "no Cairn server: pass base_url='https://cairn.example.com' or set CAIRN_URL"
            )
        if project is None:
            raise CairnError("no project: pass project='my-project' or set CAIRN_PROJECT")
        if max_retries < 0:
            raise CairnError("max_retries must be 0 or more")
        self.base_url = base_url.rstrip("/")
        self.project = project
        self.api_key = api_key or os.environ.get("CAIRN_API_KEY") or None
        self.token = token
        self.timeout = timeout
        self.max_retries = max_retries

    # -- URLs and headers ------------------------------------------------------------

    @property
    def project_url(self) -> str:
        """Absolute URL of the project's API root (`…/api/v1/projects/{project}`)."""
        return f"{self.base_url}{API_PREFIX}{quote(self.project, safe='')}"

    def _url(self, path: str) -> str:
        if not path.startswith("/"):
            path = "/" + path
        return self.project_url + path

    @property
    def credential(self) -> str | None:
        """The bearer token sent: the signed-in session token if any, else the API key."""
        return self.token or self.api_key

    def _headers(
        self, method: str, headers: Mapping[str, str] | None, idempotency_key: str | None
    ) -> dict[str, str]:
        out = {"Accept": "application/json", "User-Agent": f"cairn-sdk-python/{__version__}"}
        credential = self.credential
        if credential:
            out["Authorization"] = f"Bearer {credential}"
        out.update(headers or {})
        if idempotency_key is not None:
            out["Idempotency-Key"] = idempotency_key
        elif method not in SAFE_METHODS and not any(k.lower() == "idempotency-key" for k in out):
            out["Idempotency-Key"] = str(uuid.uuid4())
        return out

    # -- retry policy ----------------------------------------------------------------

    @staticmethod
    def _retryable_request(method: str, headers: Mapping[str, str]) -> bool:
        """Reads always; writes only when they carry an Idempotency-Key."""
        return method in SAFE_METHODS or any(k.lower() == "idempotency-key" for k in headers)

    @staticmethod
    def _retryable_response(response: httpx.Response) -> bool:
        status = response.status_code
        if status not in RETRY_STATUSES and status < 500:
            return False
        after = parse_retry_after(response.headers.get("Retry-After"))
        return after is None or after <= MAX_RETRY_AFTER

    @staticmethod
    def _retry_delay(retries_taken: int, response: httpx.Response | None) -> float:
        if response is not None:
            after = parse_retry_after(response.headers.get("Retry-After"))
            if after is not None:
                return after
        delay = min(INITIAL_RETRY_DELAY * 2.0**retries_taken, MAX_RETRY_DELAY)
        return delay * (1 - 0.25 * random.random())

    @staticmethod
    def _transport_error(exc: httpx.TransportError, method: str, url: str) -> ConnectionError:
        if isinstance(exc, httpx.TimeoutException):
            return Timeout(f"{method} {url} timed out: {exc}")
        return ConnectionError(f"{method} {url} failed: {exc or type(exc).__name__}")

    @staticmethod
    def _result(method: str, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise make_status_error(response)
        if response.status_code == 204 or method == "HEAD" or not response.content:
            return None
        if "json" in response.headers.get("Content-Type", ""):
            return response.json()
        return response.text

    def _log_retry(self, method: str, url: str, retries_taken: int, delay: float, why: str) -> None:
        log.info(
            "retrying %s %s in %.2fs (retry %d of %d): %s",
            method,
            url,
            delay,
            retries_taken + 1,
            self.max_retries,
            why,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, project={self.project!r})"


class Client(_BaseClient):
    """A synchronous client for one Cairn project.

        client = Client("https://cairn.example.com", "shop", api_key="ck_…")
        post = client.collection("posts").create({"title": "Hello"})

    Settings not given fall back to the environment: `CAIRN_URL`, `CAIRN_PROJECT`,
    `CAIRN_API_KEY`. `token` is an end-user session token (`cs_…`); when both are set the
    session token is sent. `client.auth.login(...)` signs in and sets `token`.
    Pass `http_client` to reuse your own `httpx.Client` (it is not closed by `close()`).
    """

    def __init__(
        self,
        base_url: str | None = None,
        project: str | None = None,
        *,
        api_key: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        """Configure the client; raises `CairnError` if the server or project is unknown."""
        self._configure(base_url, project, api_key, token, timeout, max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout, cookies=_no_cookies())
        self.auth = Auth(self)

    @property
    def http_client(self) -> httpx.Client:
        """The underlying `httpx.Client`."""
        return self._http

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one API call and return its parsed JSON body (None for an empty answer).

        `path` is relative to the project (`/collections/posts/records`). Writes carry
        `idempotency_key` (a fresh UUID unless given), the same on every retry. Raises an
        `APIStatusError` subclass for an error status, `ConnectionError`/`Timeout` when no
        answer came after the retries.
        """
        method = method.upper()
        url = self._url(path)
        sent = self._headers(method, headers, idempotency_key)
        query = encode_params(params)
        retryable = self._retryable_request(method, sent)
        retries_taken = 0
        while True:
            try:
                response = self._http.request(
                    method, url, params=query, json=json, headers=sent, timeout=self.timeout
                )
            except httpx.TransportError as exc:
                if retryable and isinstance(exc, _TRANSIENT) and retries_taken < self.max_retries:
                    delay = self._retry_delay(retries_taken, None)
                    self._log_retry(method, url, retries_taken, delay, type(exc).__name__)
                    time.sleep(delay)
                    retries_taken += 1
                    continue
                raise self._transport_error(exc, method, url) from exc
            if (
                retryable
                and retries_taken < self.max_retries
                and self._retryable_response(response)
            ):
                delay = self._retry_delay(retries_taken, response)
                self._log_retry(method, url, retries_taken, delay, str(response.status_code))
                response.close()
                time.sleep(delay)
                retries_taken += 1
                continue
            return self._result(method, response)

    @overload
    def get_page(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> Page[dict[str, Any]]: ...
    @overload
    def get_page(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        cast: Callable[[dict[str, Any]], T],
    ) -> Page[T]: ...
    @overload
    def get_page(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        cast: Callable[[dict[str, Any]], T],
    ) -> Page[T]: ...
    def get_page(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        cast: Callable[[dict[str, Any]], Any] = _identity,
    ) -> Page[Any]:
        """GET a list endpoint and return its first page; iterating the page follows
        `next_cursor` lazily. Each item is passed through `cast`."""
        base = dict(params or {})

        def fetch(cursor: str) -> Page[Any]:
            return self.get_page(path, {**base, "cursor": cursor}, cast)

        return Page.from_body(self.request("GET", path, params=base), cast, fetch)

    def collection(self, name: str) -> CollectionResource[dict[str, Any]]:
        """An untyped resource for collection `name` (records as plain dicts)."""
        return CollectionResource(self, name, dict)

    def batch(
        self, operations: Sequence[Mapping[str, Any]], *, idempotency_key: str | None = None
    ) -> list[dict[str, Any]]:
        """Run up to 100 writes in one transaction (all or nothing) and return their
        results, `[{"status": 201, "body": {...}}, ...]`, in order.

        Each operation is `{"method": "POST", "path": "/collections/posts/records",
        "body": {...}}` (PATCH/DELETE may add `"if_match": '"3"'`). If one fails, nothing is
        written and its error is raised (the problem names the failing `operation`).
        """
        body = self.request(
            "POST",
            "/batch",
            json={"operations": [dict(op) for op in operations]},
            idempotency_key=idempotency_key,
        )
        results = body.get("results", []) if isinstance(body, dict) else []
        return [r for r in results if isinstance(r, dict)]

    def with_options(
        self,
        *,
        project: str | _NotGiven = NOT_GIVEN,
        api_key: str | _NotGiven | None = NOT_GIVEN,
        token: str | _NotGiven | None = NOT_GIVEN,
        timeout: float | httpx.Timeout | _NotGiven | None = NOT_GIVEN,
        max_retries: int | _NotGiven = NOT_GIVEN,
    ) -> Self:
        """A new client of the same class (a generated client keeps its typed resources)
        with some settings changed, sharing this one's HTTP connection pool (closing the
        copy leaves the pool open; closing this client closes it)."""
        return type(self)(
            self.base_url,
            self.project if isinstance(project, _NotGiven) else project,
            api_key=self.api_key if isinstance(api_key, _NotGiven) else api_key,
            token=self.token if isinstance(token, _NotGiven) else token,
            timeout=self.timeout if isinstance(timeout, _NotGiven) else timeout,
            max_retries=self.max_retries if isinstance(max_retries, _NotGiven) else max_retries,
            http_client=self._http,
        )

    copy = with_options

    def close(self) -> None:
        """Close the connection pool (unless it was passed in as `http_client`)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        """`with Client(...) as client:` closes the client at the end of the block."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the client (see `close`)."""
        self.close()


class AsyncClient(_BaseClient):
    """The asyncio twin of `Client`: the same settings and calls, awaited.

    async with AsyncClient("https://cairn.example.com", "shop", api_key="ck_…") as c:
        post = await c.collection("posts").create({"title": "Hello"})
    """

    def __init__(
        self,
        base_url: str | None = None,
        project: str | None = None,
        *,
        api_key: str | None = None,
        token: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """Configure the client; raises `CairnError` if the server or project is unknown."""
        self._configure(base_url, project, api_key, token, timeout, max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout, cookies=_no_cookies())
        self.auth = AsyncAuth(self)

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The underlying `httpx.AsyncClient`."""
        return self._http

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one API call and return its parsed JSON body (None for an empty answer).

        Same contract as `Client.request`: project-relative `path`, an `Idempotency-Key`
        on every write (the same on each retry), typed errors.
        """
        method = method.upper()
        url = self._url(path)
        sent = self._headers(method, headers, idempotency_key)
        query = encode_params(params)
        retryable = self._retryable_request(method, sent)
        retries_taken = 0
        while True:
            try:
                response = await self._http.request(
                    method, url, params=query, json=json, headers=sent, timeout=self.timeout
                )
            except httpx.TransportError as exc:
                if retryable and isinstance(exc, _TRANSIENT) and retries_taken < self.max_retries:
                    delay = self._retry_delay(retries_taken, None)
                    self._log_retry(method, url, retries_taken, delay, type(exc).__name__)
                    await asyncio.sleep(delay)
                    retries_taken += 1
                    continue
                raise self._transport_error(exc, method, url) from exc
            if (
                retryable
                and retries_taken < self.max_retries
                and self._retryable_response(response)
            ):
                delay = self._retry_delay(retries_taken, response)
                self._log_retry(method, url, retries_taken, delay, str(response.status_code))
                await response.aclose()
                await asyncio.sleep(delay)
                retries_taken += 1
                continue
            return self._result(method, response)

    @overload
    async def get_page(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> AsyncPage[dict[str, Any]]: ...
    @overload
    async def get_page(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        cast: Callable[[dict[str, Any]], T],
    ) -> AsyncPage[T]: ...
    @overload
    async def get_page(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        cast: Callable[[dict[str, Any]], T],
    ) -> AsyncPage[T]: ...
    async def get_page(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        cast: Callable[[dict[str, Any]], Any] = _identity,
    ) -> AsyncPage[Any]:
        """GET a list endpoint and return its first page; `async for` over the page
        follows `next_cursor` lazily. Each item is passed through `cast`."""
        base = dict(params or {})

        def fetch(cursor: str) -> Awaitable[AsyncPage[Any]]:
            return self.get_page(path, {**base, "cursor": cursor}, cast)

        return AsyncPage.from_body(await self.request("GET", path, params=base), cast, fetch)

    def collection(self, name: str) -> AsyncCollectionResource[dict[str, Any]]:
        """An untyped resource for collection `name` (records as plain dicts)."""
        return AsyncCollectionResource(self, name, dict)

    async def batch(
        self, operations: Sequence[Mapping[str, Any]], *, idempotency_key: str | None = None
    ) -> list[dict[str, Any]]:
        """Run up to 100 writes in one transaction (all or nothing) and return their
        results in order; see `Client.batch`."""
        body = await self.request(
            "POST",
            "/batch",
            json={"operations": [dict(op) for op in operations]},
            idempotency_key=idempotency_key,
        )
        results = body.get("results", []) if isinstance(body, dict) else []
        return [r for r in results if isinstance(r, dict)]

    def with_options(
        self,
        *,
        project: str | _NotGiven = NOT_GIVEN,
        api_key: str | _NotGiven | None = NOT_GIVEN,
        token: str | _NotGiven | None = NOT_GIVEN,
        timeout: float | httpx.Timeout | _NotGiven | None = NOT_GIVEN,
        max_retries: int | _NotGiven = NOT_GIVEN,
    ) -> Self:
        """A new client with some settings changed, sharing this one's HTTP connection
        pool (closing the copy leaves the pool open; closing this client closes it)."""
        return type(self)(
            self.base_url,
            self.project if isinstance(project, _NotGiven) else project,
            api_key=self.api_key if isinstance(api_key, _NotGiven) else api_key,
            token=self.token if isinstance(token, _NotGiven) else token,
            timeout=self.timeout if isinstance(timeout, _NotGiven) else timeout,
            max_retries=self.max_retries if isinstance(max_retries, _NotGiven) else max_retries,
            http_client=self._http,
        )

    copy = with_options

    async def close(self) -> None:
        """Close the connection pool (unless it was passed in as `http_client`)."""
        if self._owns_http:
            await self._http.aclose()

    aclose = close

    async def __aenter__(self) -> Self:
        """`async with AsyncClient(...) as client:` closes the client at the end."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the client (see `close`)."""
        await self.close()
