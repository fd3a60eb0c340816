"""Project API keys: issue, list, revoke, rotate, authenticate.

A token is `ck_` + 55 random URL-safe characters (330 bits); its first 12 are the public
lookup prefix, leaving 258 secret bits. Only HMAC-SHA256(pepper, token) is stored; the pepper
is derived from the server's secret key, so a stolen table is useless without it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection, Select, insert, or_, select, text, update
from sqlalchemy.engine import RowMapping

from cairn.audit import service as audit_service
from cairn.auth.models import api_keys
from cairn.auth.principal import Principal, Scope, anonymous
from cairn.crypto import keyed_hash, same_digest
from cairn.db.ids import new_id
from cairn.db.tenant import ContextMode, enter_tenant
from cairn.errors import Invalid, NotFound, Unauthorized
from cairn.schema.models import collections

TOKEN_PREFIX = "ck_"  # noqa: S105 - a marker, not a secret
_LOOKUP_CHARS = 12
_TOKEN_LENGTH = len(TOKEN_PREFIX) + _LOOKUP_CHARS + 43


@dataclass(frozen=True)
class ApiKey:
    id: UUID
    name: str
    prefix: str
    scope: Scope
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    rotated_from: UUID | None

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):
            return "expired"
        return "active"

    @classmethod
    def from_row(cls, row: RowMapping) -> ApiKey:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class IssuedKey:
    """A key as it is handed out: the only moment the secret exists outside the caller."""

    key: ApiKey
    secret: str


def lookup_prefix(token: str) -> str:
    """The public part of a key that finds its row (and names it in rate limits and logs)."""
    return token[: len(TOKEN_PREFIX) + _LOOKUP_CHARS]


def _new_token() -> tuple[str, str]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(48)[: _TOKEN_LENGTH - len(TOKEN_PREFIX)]
    return token, lookup_prefix(token)


_COLUMNS = [api_keys.c[name] for name in ApiKey.__dataclass_fields__]


def create_key(
    conn: Connection,
    pepper: bytes,
    actor: Principal,
    *,
    scope: str,
    name: str | None = None,
    expires_in: timedelta | None = None,
    rotated_from: UUID | None = None,
) -> IssuedKey:
    if scope not in ("read", "write", "service", "admin"):
        raise Invalid(errors={"scope": ["must be one of read, write, service, admin"]})
    if name is not None and not (1 <= len(name) <= 100):
        raise Invalid(errors={"name": ["must be 1 to 100 characters"]})
    token, prefix = _new_token()
    expires_at = datetime.now(UTC) + expires_in if expires_in else None
    row = (
        conn.execute(
            insert(api_keys)
            .values(
                project_id=actor.project_id,
                id=new_id(),
                name=name or f"{scope} key",
                prefix=prefix,
                key_hash=keyed_hash(pepper, token),
                scope=scope,
                expires_at=expires_at,
                rotated_from=rotated_from,
            )
            .returning(*_COLUMNS)
        )
        .mappings()
        .one()
    )
    key = ApiKey.from_row(row)
    audit_service.record(
        conn, actor.project_id, actor.actor, "api_key.created", str(key.id), {"scope": scope}
    )
    return IssuedKey(key=key, secret=token)


def list_keys(
    conn: Connection,
    project_id: UUID,
    *,
    include_revoked: bool = False,
    limit: int | None = None,
    after: UUID | None = None,
) -> tuple[list[ApiKey], bool]:
    """Keys in creation order (ids are time-ordered), a page at a time; True if more follow."""
    query = select(*_COLUMNS).where(api_keys.c.project_id == project_id)
    if not include_revoked:
        query = query.where(api_keys.c.revoked_at.is_(None))
    if after is not None:
        query = query.where(api_keys.c.id > after)
    query = query.order_by(api_keys.c.id)
    if limit is not None:
        query = query.limit(limit + 1)
    found = [ApiKey.from_row(row) for row in conn.execute(query).mappings()]
    if limit is not None and len(found) > limit:
        return found[:limit], True
    return found, False


def get_key(conn: Connection, project_id: UUID, key_id: UUID) -> ApiKey:
    row = (
        conn.execute(
            select(*_COLUMNS).where(api_keys.c.project_id == project_id, api_keys.c.id == key_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no API key {key_id} in this project")
    return ApiKey.from_row(row)


def revoke_key(conn: Connection, actor: Principal, key_id: UUID) -> ApiKey:
    """Revoke at once. Revoking a revoked key changes nothing (DELETE stays idempotent)."""
    row = (
        conn.execute(
            update(api_keys)
            .where(
                api_keys.c.project_id == actor.project_id,
                api_keys.c.id == key_id,
                api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=datetime.now(UTC))
            .returning(*_COLUMNS)
        )
        .mappings()
        .first()
    )
    if row is None:
        return get_key(conn, actor.project_id, key_id)
    audit_service.record(conn, actor.project_id, actor.actor, "api_key.revoked", str(key_id))
    return ApiKey.from_row(row)


def rotate_key(conn: Connection, pepper: bytes, actor: Principal, key_id: UUID) -> IssuedKey:
    """Issue a successor with the same name, scope and remaining lifetime; revoke the old one
    at once (clients switch to the new secret; there is no grace period)."""
    old = get_key(conn, actor.project_id, key_id)
    if old.status != "active":
        raise Invalid(
            f"a {old.status} key cannot be rotated; create a new one",
            errors={"id": [f"the key is {old.status}"]},
        )
    revoke_key(conn, actor, key_id)
    remaining = old.expires_at - datetime.now(UTC) if old.expires_at else None
    return create_key(
        conn,
        pepper,
        actor,
        scope=old.scope,
        name=old.name,
        expires_in=remaining,
        rotated_from=old.id,
    )


@dataclass(frozen=True)
class Entry:
    """What a request's first statement established: who is calling, and the registry
    version of the collection the URL names (None when it does not exist)."""

    principal: Principal
    collection_version: int | None


def enter_with_key(
    conn: Connection,
    mode: ContextMode,
    pepper: bytes,
    project_id: UUID,
    token: str,
    touch_after: timedelta,
    collection: str | None = None,
    source: str = "",
) -> Entry:
    """Open the request: scope the transaction to the project, authenticate the key inside
    it (a key of another project is simply not found), set the caller's claims.

    With set_config (plain Postgres) this is one round trip through cairn.enter_request;
    Citus needs SET LOCAL, which is spelled out statement by statement.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) != _TOKEN_LENGTH:
        raise Unauthorized("the API key is malformed")
    prefix = lookup_prefix(token)
    if mode == "set_config":
        row = conn.execute(
            text("SELECT * FROM cairn.enter_request(:project, :prefix, :collection, :source)"),
            {
                "project": project_id,
                "prefix": prefix,
                "collection": collection or "",
                "source": source,
            },
        ).first()
    else:
        enter_tenant(conn, mode, project_id, {"source": source})
        version = collection_version(project_id, collection).scalar_subquery()
        row = conn.execute(
            select(
                api_keys.c.id.label("key_id"),
                api_keys.c.key_hash,
                api_keys.c.scope,
                api_keys.c.expires_at,
                api_keys.c.revoked_at,
                api_keys.c.last_used_at,
                version.label("collection_version"),
            ).where(api_keys.c.project_id == project_id, api_keys.c.prefix == prefix)
        ).first()
    if row is None or not same_digest(bytes(row.key_hash), keyed_hash(pepper, token)):
        raise Unauthorized("the API key is not valid for this project")
    now = datetime.now(UTC)
    if row.revoked_at is not None:
        raise Unauthorized("the API key has been revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("the API key has expired")
    principal = Principal(kind="api_key", project_id=project_id, scope=row.scope, key_id=row.key_id)
    if mode != "set_config":
        enter_tenant(conn, mode, project_id, {**principal.claims(), "source": source})
    if row.last_used_at is None or now - row.last_used_at >= touch_after:
        _touch(conn, project_id, row.key_id, now, touch_after)
    return Entry(principal, row.collection_version)


def collection_version(project_id: UUID, collection: str | None) -> Select[tuple[int]]:
    """The registered version of the collection a request names (none: no row), read in the
    statement that enters the request (for the Citus path, where the SQL function is not)."""
    return select(collections.c.version).where(
        collections.c.project_id == project_id, collections.c.name == (collection or "")
    )


def enter_anonymous(
    conn: Connection,
    mode: ContextMode,
    project_id: UUID,
    collection: str | None = None,
    source: str = "",
) -> Entry:
    """Open the request of a caller without a credential: collection rules decide."""
    principal = anonymous(project_id)
    if mode == "set_config":
        version = conn.execute(
            text("SELECT collection_version FROM cairn.enter_request(:p, '', :c, :s)"),
            {"p": project_id, "c": collection or "", "s": source},
        ).scalar()
    else:
        enter_tenant(conn, mode, project_id, {**principal.claims(), "source": source})
        version = conn.execute(collection_version(project_id, collection)).scalar()
    return Entry(principal, version)


def _touch(
    conn: Connection, project_id: UUID, key_id: UUID, now: datetime, every: timedelta
) -> None:
    """Record use at most once per `every`: the guard makes concurrent touches a no-op."""
    conn.execute(
        update(api_keys)
        .where(
            api_keys.c.project_id == project_id,
            api_keys.c.id == key_id,
            or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < now - every),
        )
        .values(last_used_at=now)
    )


__all__ = [
    "ApiKey",
    "Entry",
    "IssuedKey",
    "create_key",
    "enter_anonymous",
    "enter_with_key",
    "get_key",
    "list_keys",
    "revoke_key",
    "rotate_key",
]
