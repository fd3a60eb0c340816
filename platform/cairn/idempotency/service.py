"""Claim a key, store the first response, replay it.

The claim is an INSERT in the request's own transaction: a concurrent duplicate waits on the
unique key until the first commits (then replays) or rolls back (then runs). A failed request
rolls its claim back with everything else, so a retry runs again; only successes are kept.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from cairn.errors import BadRequest, Invalid
from cairn.idempotency.models import idempotency_keys as keys

LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: str


def fingerprint(method: str, path: str, body: bytes) -> bytes:
    """The request as far as idempotency cares: same method, path and JSON body."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(b"\n".join((method.encode(), path.encode(), canonical))).digest()


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters")
    return key


def claim(
    conn: Connection, project_id: UUID, principal: str, key: str, print_: bytes
) -> StoredResponse | None:
    """None: this request owns the key and must run. A StoredResponse: replay it."""
    where = (
        keys.c.project_id == project_id,
        keys.c.principal == principal,
        keys.c.key == key,
    )
    conn.execute(delete(keys).where(*where, keys.c.expires_at < func.now()))
    claimed = conn.execute(
        insert(keys)
        .values(
            project_id=project_id,
            principal=principal,
            key=key,
            fingerprint=print_,
            expires_at=func.now() + LIFETIME,
        )
        .on_conflict_do_nothing()
        .returning(keys.c.key)
    ).first()
    if claimed is not None:
        return None
    row = conn.execute(
        select(keys.c.fingerprint, keys.c.status, keys.c.headers, keys.c.body).where(*where)
    ).one()
    if bytes(row.fingerprint) != print_:
        raise Invalid(
            "this Idempotency-Key was used with a different request",
            errors={"Idempotency-Key": ["already used with another method, path or body"]},
        )
    return StoredResponse(row.status, dict(row.headers or {}), row.body or "")


def store(
    conn: Connection, project_id: UUID, principal: str, key: str, response: StoredResponse
) -> None:
    conn.execute(
        update(keys)
        .where(keys.c.project_id == project_id, keys.c.principal == principal, keys.c.key == key)
        .values(status=response.status, headers=response.headers, body=response.body)
    )


def purge_expired(conn: Connection, project_id: UUID) -> int:
    """Delete the project's expired keys (the index on project_id, expires_at serves it)."""
    result = conn.execute(
        delete(keys).where(keys.c.project_id == project_id, keys.c.expires_at < func.now())
    )
    return int(result.rowcount)
