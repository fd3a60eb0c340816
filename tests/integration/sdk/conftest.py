"""A live Cairn for the SDK tests: the session's Flask app served over real HTTP in a thread.

`live_server` is the base URL (``http://127.0.0.1:<port>``) of that server; the SDK talks to
it exactly as it would to a deployed instance. Both the runtime tests and the generated-SDK
tests use it, so keep its name and return value stable.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """Base URL of the session's app served over HTTP (threaded werkzeug server)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
