"""What every benchmark starts with: its own embedded Postgres and Redis in a temporary
directory, the CAIRN_* environment pointing at them, and a migrated Runtime."""

from __future__ import annotations

import tempfile
from pathlib import Path

from cairn.config import load_settings
from cairn.db import migrate
from cairn.embedded import EmbeddedServices
from cairn.runtime import Runtime


def start(prefix: str, **extra_env: str) -> tuple[EmbeddedServices, dict[str, str], Runtime]:
    """Stop them with `runtime.close()` then `services.stop()`."""
    data = Path(tempfile.mkdtemp(prefix=prefix))
    services = EmbeddedServices(data)
    services.start(postgres=True, redis=True)
    env = {
        "CAIRN_DATABASE_URL": services.urls["database"],
        "CAIRN_REDIS_URL": services.urls["redis"],
        "CAIRN_SECRET_KEY": "bench-secret-key-0123456789abcdefghijkl",
        "CAIRN_LOG_LEVEL": "WARNING",
        "CAIRN_DATA_DIR": str(data),
        # Benchmarks measure throughput: the data API's rate limit would be what they hit.
        "CAIRN_RATE_LIMIT_DATA": "100000000/minute",
        **extra_env,
    }
    runtime = Runtime(load_settings(env))
    migrate.upgrade(runtime.db)
    return services, env, runtime
