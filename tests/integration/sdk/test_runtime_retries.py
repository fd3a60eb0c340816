"""Retries: a dropped write is retried with the same Idempotency-Key and runs once;
408/429/5xx are retried after Retry-After (or exponential backoff) at most `max_retries`
times; a real project rate limit surfaces as RateLimited with `retry_after`."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

import cairn_sdk
from cairn.auth.keys import IssuedKey
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn_sdk import (
    AsyncClient,
    BadRequest,
    Client,
    RateLimited,
    ServerError,
    Timeout,
)
from cairn_sdk._client import _BaseClient
from tests.factories import apply_file, make_key, make_project

NOTES = "collections: [{name: notes, fields: {text: {type: text, required: true}}}]"

# -- a TCP proxy that loses the answer to one request ------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    idempotency_key: str | None
    replayed: bool = False
    dropped: bool = False


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def _header(head: bytes, name: str) -> str | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower().encode():
            return value.strip().decode()
    return None


class DroppingProxy:
    """Relays HTTP/1.1 requests to `upstream`, one upstream connection per request. The
    first request `drop(method, path)` selects is forwarded and fully answered upstream
    (so the write happened), then the client's connection is closed without the answer."""

    def __init__(self, upstream: str, drop: Callable[[str, str], bool]) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.drop = drop
        self.seen: list[Seen] = []
        self._dropped = False
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while True:
                request = _read_request(conn)
                if request is None:
                    return
                head, _, body = request.partition(b"\r\n\r\n")
                method, path, _ = head.split(b"\r\n")[0].decode().split(" ", 2)
                lines = [
                    line
                    for line in head.split(b"\r\n")
                    if not line.lower().startswith(b"connection:")
                ]
                forwarded = b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body
                with socket.create_connection(self.upstream) as up:
                    up.sendall(forwarded)
                    response = b""
                    while chunk := up.recv(65536):
                        response += chunk
                seen = Seen(method, path, _header(head, "Idempotency-Key"))
                seen.replayed = (
                    _header(response.partition(b"\r\n\r\n")[0], "Idempotent-Replayed") == "true"
                )
                with self._lock:
                    self.seen.append(seen)
                    if not self._dropped and self.drop(method, path):
                        self._dropped = seen.dropped = True
                        return  # the answer is lost with the connection
                conn.sendall(response)
                if b"\r\nconnection: close" in response.partition(b"\r\n\r\n")[0].lower():
                    return

    def close(self) -> None:
        self.listener.close()


def _first_post(method: str, path: str) -> bool:
    return method == "POST" and path.endswith("/records")


@pytest.fixture
def notes(runtime: Runtime, project: Project) -> Project:
    from tests.factories import apply_yaml

    apply_yaml(runtime, project, NOTES)
    return project


@pytest.fixture
def proxy(live_server: str) -> Iterator[DroppingProxy]:
    p = DroppingProxy(live_server, _first_post)
    yield p
    p.close()


def _records(live_server: str, project: Project, key: IssuedKey) -> list[dict[str, Any]]:
    with Client(live_server, project.slug, api_key=key.secret) as direct:
        return list(direct.collection("notes").list())


def test_a_write_interrupted_by_a_dropped_connection_is_retried_and_creates_one_record(
    live_server: str, notes: Project, admin_key: IssuedKey, proxy: DroppingProxy
) -> None:
    with Client(proxy.url, notes.slug, api_key=admin_key.secret, max_retries=2) as client:
        note = client.collection("notes").create({"text": "exactly once"})

    posts = [s for s in proxy.seen if s.method == "POST"]
    assert [(s.dropped, s.replayed) for s in posts] == [(True, False), (False, True)]
    assert posts[0].idempotency_key and posts[0].idempotency_key == posts[1].idempotency_key
    stored = _records(live_server, notes, admin_key)
    assert [r["id"] for r in stored] == [note["id"]]
    assert stored[0]["text"] == "exactly once"


def test_the_async_client_retries_a_dropped_write_once_too(
    live_server: str, notes: Project, admin_key: IssuedKey, proxy: DroppingProxy
) -> None:
    async def main() -> dict[str, Any]:
        async with AsyncClient(proxy.url, notes.slug, api_key=admin_key.secret) as client:
            return await client.collection("notes").create({"text": "async once"})

    note = asyncio.run(main())
    posts = [s for s in proxy.seen if s.method == "POST"]
    assert len(posts) == 2 and posts[0].idempotency_key == posts[1].idempotency_key
    assert posts[1].replayed
    assert [r["id"] for r in _records(live_server, notes, admin_key)] == [note["id"]]


def test_without_retries_a_dropped_write_is_a_connection_error(
    live_server: str, notes: Project, admin_key: IssuedKey, proxy: DroppingProxy
) -> None:
    with Client(proxy.url, notes.slug, api_key=admin_key.secret, max_retries=0) as client:
        with pytest.raises(cairn_sdk.ConnectionError):
            client.collection("notes").create({"text": "lost answer"})
        # The write did happen; repeating it by hand with a new key would duplicate it,
        # which is why the SDK retries with the same key.
        assert len(_records(live_server, notes, admin_key)) == 1


def test_a_dropped_read_is_retried(live_server: str, notes: Project, admin_key: IssuedKey) -> None:
    proxy = DroppingProxy(live_server, lambda method, path: method == "GET")
    try:
        with Client(proxy.url, notes.slug, api_key=admin_key.secret) as client:
            assert client.collection("notes").list().items == []
        assert [s.dropped for s in proxy.seen] == [True, False]
    finally:
        proxy.close()


# -- a tiny server that answers what the test says ----------------------------------------


@dataclass
class Script:
    """Answers `statuses` in order (then the last forever) with `headers`, and records
    every attempt's method and Idempotency-Key."""

    statuses: list[int]
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    attempts: list[tuple[str, str | None]] = field(default_factory=list)


@pytest.fixture
def scripted() -> Iterator[Callable[..., tuple[str, Script]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(
        statuses: list[int], headers: dict[str, str] | None = None, delay: float = 0.0
    ) -> tuple[str, Script]:
        script = Script(statuses, headers or {}, delay)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                n = len(script.attempts)
                script.attempts.append((self.command, self.headers.get("Idempotency-Key")))
                if script.delay and n == 0:
                    time.sleep(script.delay)
                status = script.statuses[min(n, len(script.statuses) - 1)]
                if status < 400:
                    body = json.dumps({"id": "r1", "title": "ok"}).encode()
                    ctype = "application/json"
                else:
                    body = json.dumps(
                        {
                            "type": "urn:cairn:problem:test",
                            "title": "Scripted",
                            "status": status,
                            "detail": f"attempt {n + 1}",
                            "instance": self.path,
                            "request_id": f"req-{n + 1}",
                        }
                    ).encode()
                    ctype = "application/problem+json"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in script.headers.items():
                    if status >= 400:
                        self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", script

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def test_retries_honour_retry_after_and_stop_at_max_retries(
    scripted: Callable[..., tuple[str, Script]],
) -> None:
    url, script = scripted([503], {"Retry-After": "0"})
    started = time.monotonic()
    with Client(url, "p", api_key="ck_x", max_retries=3) as client:
        with pytest.raises(ServerError) as failed:
            client.collection("posts").create({"title": "t"})
    # Retry-After: 0 is honoured (backoff alone would wait 0.5 + 1 + 2 s).
    assert time.monotonic() - started < 0.4
    assert len(script.attempts) == 4  # the call and max_retries=3 retries
    keys = {key for _, key in script.attempts}
    assert len(keys) == 1 and None not in keys  # one key for every attempt of one call
    assert failed.value.status == 503 and failed.value.request_id == "req-4"
    assert failed.value.detail == "attempt 4"

    script.attempts.clear()
    with Client(url, "p", api_key="ck_x", max_retries=0) as client:
        with pytest.raises(ServerError):
            client.collection("posts").list()
    assert script.attempts == [("GET", None)]


def test_429_and_408_are_retried_until_success(
    scripted: Callable[..., tuple[str, Script]],
) -> None:
    url, script = scripted([429, 408, 201], {"Retry-After": "0"})
    with Client(url, "p", api_key="ck_x") as client:
        assert client.collection("posts").create({"title": "t"})["id"] == "r1"
    assert [m for m, _ in script.attempts] == ["POST"] * 3
    assert len({k for _, k in script.attempts}) == 1


def test_a_long_retry_after_is_not_waited_for(
    scripted: Callable[..., tuple[str, Script]],
) -> None:
    url, script = scripted([429], {"Retry-After": "120"})
    with Client(url, "p", api_key="ck_x") as client:
        with pytest.raises(RateLimited) as limited:
            client.collection("posts").list()
    assert limited.value.retry_after == 120 and len(script.attempts) == 1


def test_client_errors_are_not_retried(scripted: Callable[..., tuple[str, Script]]) -> None:
    url, script = scripted([400])
    with Client(url, "p", api_key="ck_x") as client:
        with pytest.raises(BadRequest):
            client.collection("posts").list()
    assert len(script.attempts) == 1


def test_without_retry_after_the_backoff_is_exponential_with_jitter(
    scripted: Callable[..., tuple[str, Script]],
) -> None:
    delays = [[_BaseClient._retry_delay(n, None) for n in range(6)] for _ in range(50)]
    for n, cap in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 8.0]):
        seen = [d[n] for d in delays]
        assert all(0.75 * cap <= d <= cap for d in seen)
        assert len(set(seen)) > 1  # jittered
    url, script = scripted([500, 200])
    started = time.monotonic()
    with Client(url, "p", api_key="ck_x") as client:
        client.request("GET", "/anything")
    assert 0.37 <= time.monotonic() - started < 2 and len(script.attempts) == 2


def test_a_timeout_is_retried_then_raised_as_timeout(
    scripted: Callable[..., tuple[str, Script]],
) -> None:
    url, script = scripted([200], delay=1.0)  # the first attempt is slow
    with Client(url, "p", api_key="ck_x", timeout=0.2, max_retries=0) as client:
        with pytest.raises(Timeout):
            client.request("GET", "/slow")
    assert isinstance(Timeout("x"), cairn_sdk.ConnectionError)
    script.attempts.clear()
    with Client(url, "p", api_key="ck_x", timeout=0.2, max_retries=1) as client:
        assert client.request("GET", "/slow")["id"] == "r1"  # the retry is fast
    assert len(script.attempts) == 2


def test_async_retries_honour_retry_after(scripted: Callable[..., tuple[str, Script]]) -> None:
    url, script = scripted([503, 503, 200], {"Retry-After": "0"})

    async def main() -> Any:
        async with AsyncClient(url, "p", api_key="ck_x", max_retries=1) as client:
            with pytest.raises(ServerError):
                await client.request("POST", "/x", json={})
            return await client.request("GET", "/x")

    assert asyncio.run(main())["id"] == "r1"
    assert [m for m, _ in script.attempts] == ["POST", "POST", "GET"]


# -- a real project limit -----------------------------------------------------------------


def test_a_project_rate_limit_is_rate_limited_with_retry_after(
    runtime: Runtime, live_server: str
) -> None:
    project = make_project(runtime)
    apply_file(runtime, project, NOTES + "\nlimits: {data: 2/minute}\n")
    key = make_key(runtime, project, scope="admin")
    with Client(live_server, project.slug, api_key=key.secret, max_retries=0) as client:
        notes = client.collection("notes")
        notes.create({"text": "one"})
        notes.list()
        with pytest.raises(RateLimited) as limited:
            notes.list()
    err = limited.value
    assert err.status == 429 and err.request_id
    assert err.retry_after is not None and 0 < err.retry_after <= 60
    assert err.response.headers["RateLimit-Limit"] == "2"
