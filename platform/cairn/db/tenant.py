"""The tenant context: the one place that tells Postgres which project a transaction serves.

Settings are transaction-local, so nothing leaks to the next user of a pooled connection.
Plain Postgres uses `set_config(..., true)` (one round trip for all settings); Citus only
propagates `SET LOCAL` to worker nodes, so that form is kept behind the same function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from uuid import UUID

from psycopg import sql
from sqlalchemy import Connection, text

PROJECT_SETTING = "cairn.project_id"
CLAIM_PREFIX = "cairn."
ContextMode = Literal["set_config", "set_local"]


def enter_tenant(
    conn: Connection, mode: ContextMode, project_id: UUID, claims: Mapping[str, str]
) -> None:
    values = {PROJECT_SETTING: str(project_id)}
    for name, value in claims.items():
        if not name.isidentifier():
            raise ValueError(f"bad claim name {name!r}")
        values[CLAIM_PREFIX + name] = value
    if mode == "set_config":
        calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(values)))
        params: dict[str, str] = {}
        for i, (name, value) in enumerate(values.items()):
            params[f"n{i}"], params[f"v{i}"] = name, value
        conn.execute(text(f"SELECT {calls}"), params)
        return
    raw = conn.connection.driver_connection
    statements = sql.SQL("; ").join(
        sql.SQL("SET LOCAL {} = {}").format(sql.SQL(name), sql.Literal(value))
        for name, value in values.items()
    )
    conn.exec_driver_sql(statements.as_string(raw))
