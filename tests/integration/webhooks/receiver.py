"""A real HTTP receiver for webhook tests: records every request, answers a script."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: str
    at: float


@dataclass
class Receiver:
    """`script` is the status of each successive answer (the last one repeats); an item
    may be (status, {header: value}) or ("sleep", seconds) to hang before answering 200."""

    script: list[object] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length).decode()
                receiver.received.append(Received(dict(self.headers), body, time.monotonic()))
                step = receiver.script[min(len(receiver.received), len(receiver.script)) - 1]
                headers: dict[str, str] = {}
                if isinstance(step, tuple) and step[0] == "sleep":
                    time.sleep(float(step[1]))
                    status = 200
                elif isinstance(step, tuple):
                    status, headers = step  # type: ignore[assignment]
                else:
                    status = int(step)  # type: ignore[call-overload]
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
