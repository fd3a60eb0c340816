"""Requests and errors per project per hour, as aggregate counters (never a row per request).

Each process counts in memory and a background thread adds its counts to Redis hashes
(`cairn:traffic:<project>:<hour>`, kept 49 hours) every few seconds in one pipeline. A
request never waits on Redis; a crash loses at most the last few seconds of counts, which
is the price of that. When Redis is away, counts wait in memory for the next flush.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

HOUR = 3600
KEEP_SECONDS = 49 * HOUR
FIELDS = ("requests", "client_errors", "server_errors")
_MAX_PENDING = 100_000  # project-hours held while Redis is away; beyond that, counts drop


def _key(project_id: UUID, hour: int) -> str:
    return f"cairn:traffic:{project_id}:{hour}"


@dataclass(frozen=True)
class HourCount:
    hour: datetime
    requests: int
    client_errors: int
    server_errors: int

    @property
    def errors(self) -> int:
        return self.client_errors + self.server_errors


class TrafficCounter:
    def __init__(self, redis: Callable[[], Redis[bytes]], flush_every: float = 5.0) -> None:
        self._redis = redis
        self._flush_every = flush_every
        self._lock = threading.Lock()
        self._pending: dict[tuple[UUID, int], list[int]] = {}
        self._thread: threading.Thread | None = None

    def count(self, project_id: UUID, status: int, now: float | None = None) -> None:
        hour = int((time.time() if now is None else now) // HOUR) * HOUR
        with self._lock:
            counts = self._pending.get((project_id, hour))
            if counts is None:
                if len(self._pending) >= _MAX_PENDING:
                    return
                counts = self._pending[(project_id, hour)] = [0, 0, 0]
            counts[0] += 1
            if 400 <= status < 500:
                counts[1] += 1
            elif status >= 500:
                counts[2] += 1
            if self._thread is None or not self._thread.is_alive():
                # Started by the first request of each process: threads do not survive fork.
                self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self._flush_every)
            self.flush()

    def flush(self) -> None:
        """Add the counts so far to Redis; on failure keep them for the next flush."""
        with self._lock:
            taken, self._pending = self._pending, {}
        if not taken:
            return
        try:
            with self._redis().pipeline(transaction=False) as pipe:
                for (project_id, hour), counts in taken.items():
                    name = _key(project_id, hour)
                    for field, value in zip(FIELDS, counts, strict=True):
                        if value:
                            pipe.hincrby(name, field, value)
                    pipe.expire(name, KEEP_SECONDS)
                pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("traffic counts not flushed; kept for the next try: %s", exc)
            with self._lock:
                for bucket, counts in taken.items():
                    merged = self._pending.setdefault(bucket, [0, 0, 0])
                    for i, value in enumerate(counts):
                        merged[i] += value


def hourly(
    redis: Redis[bytes], project_id: UUID, hours: int = 24, now: float | None = None
) -> list[HourCount]:
    """The last `hours` hours, oldest first, the current hour last, in one round trip."""
    current = int((time.time() if now is None else now) // HOUR) * HOUR
    starts = [current - HOUR * back for back in range(hours - 1, -1, -1)]
    with redis.pipeline(transaction=False) as pipe:
        for start in starts:
            pipe.hmget(_key(project_id, start), list(FIELDS))
        rows = pipe.execute()
    return [
        HourCount(
            datetime.fromtimestamp(start, UTC),
            *(int(value or 0) for value in row),
        )
        for start, row in zip(starts, rows, strict=True)
    ]
