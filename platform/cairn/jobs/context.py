"""The Runtime a worker process lends to its tasks (set by `cairn worker` before it works)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from sqlalchemy import Connection

from cairn.runtime import Runtime
from cairn.tenancy.service import Project, list_projects

_runtime: Runtime | None = None


def use(runtime: Runtime, *, forking: bool = False) -> None:
    global _runtime
    _runtime = runtime
    if forking:
        # RQ forks a work horse per job: the child must not share the parent's connections.
        os.register_at_fork(after_in_child=runtime.db.forget_connections)


def each_project() -> Iterator[tuple[Project, Connection]]:
    """Every project in turn, each in a tenant transaction of its own: how background sweeps
    visit all projects without ever reading two in one transaction."""
    rt = runtime()
    with rt.db.unscoped() as conn:
        projects = list_projects(conn)
    for project in projects:
        with rt.db.tenant(project.id) as conn:
            yield project, conn


def runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("no Runtime: tasks run inside `cairn worker` (or a test that sets one)")
    return _runtime
