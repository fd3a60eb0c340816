"""Per-project hourly traffic counters on the real Redis: counted in memory, flushed in one
pipeline, read back per hour; kept when Redis is away."""

from __future__ import annotations

import time
import uuid

from redis import Redis

from cairn.runtime import Runtime
from cairn.traffic import HOUR, TrafficCounter, hourly


def test_counts_flush_and_read_back_per_hour(runtime: Runtime) -> None:
    project = uuid.uuid4()
    counter = TrafficCounter(lambda: runtime.redis, flush_every=3600)
    now = time.time()
    for status in (200, 201, 404, 500, 503):
        counter.count(project, status, now=now)
    counter.count(project, 200, now=now - 2 * HOUR)
    counter.flush()
    counter.count(project, 200, now=now)
    counter.flush()  # adds to what is there
    hours = hourly(runtime.redis, project, now=now)
    assert len(hours) == 24
    assert (hours[-1].requests, hours[-1].client_errors, hours[-1].server_errors) == (6, 1, 2)
    assert hours[-3].requests == 1 and hours[-2].requests == 0
    assert sum(h.requests for h in hours[:-3]) == 0
    other = hourly(runtime.redis, uuid.uuid4(), now=now)
    assert sum(h.requests for h in other) == 0
    ttl = runtime.redis.ttl(f"cairn:traffic:{project}:{int(now // HOUR) * HOUR}")
    assert 48 * HOUR < ttl <= 49 * HOUR


def test_counts_wait_in_memory_while_redis_is_away(runtime: Runtime) -> None:
    project = uuid.uuid4()
    away = Redis(unix_socket_path="/nonexistent/redis.sock", socket_connect_timeout=0.2)
    target = {"redis": away}
    counter = TrafficCounter(lambda: target["redis"], flush_every=3600)
    # Mid-hour, so both counts share a bucket however long the failing flush takes.
    now = (time.time() // HOUR) * HOUR + HOUR / 2
    counter.count(project, 200, now=now)
    counter.flush()  # fails quietly, keeps the count
    target["redis"] = runtime.redis
    counter.count(project, 500, now=now)
    counter.flush()
    latest = hourly(runtime.redis, project, now=now)[-1]
    assert (latest.requests, latest.server_errors) == (2, 1)
