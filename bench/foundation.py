"""Foundation figures: `cairn serve` start-up (embedded) and request latency.

    .venv/bin/python bench/foundation.py [--requests 2000]

Starts a real `cairn serve` on a fresh data dir (first start: initdb, migrations, bootstrap),
stops it, starts it again (warm start), then measures sequential keep-alive requests:
/healthz (the framework floor, no I/O), /readyz (Postgres + Redis round trips) and an
authenticated API request (tenant transaction + key lookup + one SELECT). Ratios are
against /healthz measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.e2e.serve import ServeProcess


def measure(client: httpx.Client, path: str, n: int, headers: dict[str, str]) -> list[float]:
    for _ in range(min(50, n)):  # warm every worker's pool
        client.get(path, headers=headers)
    timings = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        timings.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.text}")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        first = ServeProcess(data)
        cold = first.start()
        first.stop()
        key = first.bootstrap_key()
        assert key, "no bootstrap key printed"
        second = ServeProcess(data, first.port)
        warm = second.start()
        try:
            auth = {"Authorization": f"Bearer {key}"}
            rows = []
            with httpx.Client(base_url=second.base) as client:
                for label, path, headers in [
                    ("GET /healthz (floor)", "/healthz", {}),
                    ("GET /readyz", "/readyz", {}),
                    ("GET api-keys (authenticated)", "/api/v1/projects/default/api-keys", auth),
                ]:
                    t = measure(client, path, args.requests, headers)
                    rows.append((label, t))
        finally:
            second.stop()
    print(f"cairn serve start-up, embedded: first start {cold:.2f} s, warm restart {warm:.2f} s")
    print(f"{args.requests} sequential keep-alive requests each, one client:")
    floor = statistics.mean(rows[0][1])
    print(f"{'request':32} {'mean ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'x floor':>8}")
    for label, t in rows:
        ordered = sorted(t)
        mean = statistics.mean(t)
        print(
            f"{label:32} {mean * 1000:8.2f} {ordered[len(t) // 2] * 1000:8.2f} "
            f"{ordered[int(len(t) * 0.95)] * 1000:8.2f} {1 / mean:8.0f} {mean / floor:8.2f}"
        )


if __name__ == "__main__":
    main()
