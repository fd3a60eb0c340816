"""Jobs benchmark: event throughput from commit to a real receiver, and what the outbox
adds to a record write.

    .venv/bin/python bench/jobs.py [--events 1000] [--workers 2] [--writes 500]

(a) events/s: N record creates (committed one by one) → outbox → RQ → `cairn worker`
    processes → signed POSTs to a local receiver; measured from the first commit to the
    last delivery received.
(b) write latency with the outbox (event row in the same statement + hand-off to Redis
    after commit) vs the same records service with the outbox switched off, same run.
(c) write latency with a webhook declared vs none (fan-out happens in the worker, so the
    write path should not change).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.factories import apply_yaml, make_project  # noqa: E402

from bench import embedded  # noqa: E402
from cairn.auth.principal import operator  # noqa: E402
from cairn.records import collection as collections  # noqa: E402
from cairn.records import service as records  # noqa: E402
from cairn.runtime import Runtime  # noqa: E402
from cairn.webhooks import service as webhooks  # noqa: E402

NOTES = "collections: [{name: notes, fields: {text: {type: text}, n: {type: integer}}}]"


class Counter(BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()
    last_at = 0.0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with Counter.lock:
            Counter.received += 1
            Counter.last_at = time.perf_counter()
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def timed_writes(runtime: Runtime, project: Any, n: int) -> list[float]:
    times = []
    with runtime.db.tenant(project.id) as conn:
        coll = collections.load(conn, project, "notes")
    for i in range(n):
        t = time.perf_counter()
        with runtime.db.tenant(project.id) as conn:
            records.create_record(conn, coll, operator(project.id), {"text": "x", "n": i})
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--writes", type=int, default=500)
    args = parser.parse_args()
    services, env, runtime = embedded.start("cairn-bench-jobs-", CAIRN_WEBHOOK_ALLOW_PRIVATE="1")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    workers: list[subprocess.Popen[bytes]] = []
    rows = []
    try:
        # (b) and (c) first, with no worker running (the queue just fills).
        plain, hooked = make_project(runtime, "plain"), make_project(runtime, "hooked")
        for p in (plain, hooked):
            apply_yaml(runtime, p, NOTES)
        with runtime.db.tenant(hooked.id) as conn:
            webhooks.save_webhook(
                conn,
                runtime.webhook_box,
                hooked.id,
                webhooks.load_webhook({"name": "h", "url": url, "events": ["record.created"]}),
                actor="bench",
                allow_private=True,
            )
        timed_writes(runtime, plain, 50)  # warm up
        with_outbox = statistics.mean(timed_writes(runtime, plain, args.writes))
        with_webhook = statistics.mean(timed_writes(runtime, hooked, args.writes))
        original, on_commit = records.with_event, runtime.db.on_commit
        records.with_event = lambda conn, write, **kw: write  # type: ignore[assignment]
        runtime.db.on_commit = None
        try:
            without_outbox = statistics.mean(timed_writes(runtime, plain, args.writes))
        finally:
            records.with_event, runtime.db.on_commit = original, on_commit
        rows.append(
            (
                "(b) record write: outbox / no outbox",
                f"{with_outbox * 1000:.2f} ms / {without_outbox * 1000:.2f} ms",
                f"{with_outbox / without_outbox:.2f}",
            )
        )
        rows.append(
            (
                "(c) record write: webhook declared / none",
                f"{with_webhook * 1000:.2f} ms / {with_outbox * 1000:.2f} ms",
                f"{with_webhook / with_outbox:.2f}",
            )
        )
        # Drain what (b)/(c) queued before measuring throughput.
        worker_env = {**os.environ, **env}
        for _ in range(args.workers):
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "cairn", "worker", "--queues", "default,webhooks"],
                    env=worker_env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        deadline = time.time() + 300
        while Counter.received < args.writes and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        # (a) throughput
        Counter.received = 0
        start = time.perf_counter()
        timed_writes(runtime, hooked, args.events)
        committed = time.perf_counter() - start
        while Counter.received < args.events and time.time() < deadline + 300:
            time.sleep(0.05)
        elapsed = Counter.last_at - start
        rows.append(
            (
                f"(a) {args.events} events, commit → receiver ({args.workers} workers)",
                f"{elapsed:.1f} s (writes took {committed:.1f} s)",
                f"{args.events / elapsed:.0f} events/s",
            )
        )
    finally:
        for w in workers:
            os.killpg(w.pid, 15)
            w.wait(30)
        server.shutdown()
        runtime.close()
        services.stop()
    width = max(len(r[0]) for r in rows) + 2
    print(f"\n{'measure':{width}}{'figures':40}result")
    for name, figures, result in rows:
        print(f"{name:{width}}{figures:40}{result}")


if __name__ == "__main__":
    main()
