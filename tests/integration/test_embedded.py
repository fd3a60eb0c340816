"""The embedded Redis stops when asked, even while this process still holds connections to
it (its rate limiter and queue pools do): nothing is left running after tests or benches."""

from __future__ import annotations

from pathlib import Path

import psutil
from redis import Redis

from cairn.embedded import EmbeddedServices


def test_stopping_stops_the_redis_server_despite_other_clients(tmp_path: Path) -> None:
    services = EmbeddedServices(tmp_path)
    services.start(postgres=False, redis=True)
    server = psutil.Process(services._redis.pid)
    other = Redis.from_url(services.urls["redis"])
    other.set("k", "v")  # a second client, connected
    services.stop()
    server.wait(timeout=10)
    assert not server.is_running()
