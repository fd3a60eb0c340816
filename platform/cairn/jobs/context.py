"""The Runtime a worker process lends to its tasks (set by `cairn worker` before it works)."""

from __future__ import annotations

import os

from cairn.runtime import Runtime

_runtime: Runtime | None = None


def use(runtime: Runtime, *, forking: bool = False) -> None:
    global _runtime
    _runtime = runtime
    if forking:
        # RQ forks a work horse per job: the child must not share the parent's connections.
        os.register_at_fork(after_in_child=runtime.db.forget_connections)


def runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("no Runtime: tasks run inside `cairn worker` (or a test that sets one)")
    return _runtime
