"""End-user sessions: opaque `cs_` tokens of 256 random bits, stored as keyed hashes.

A session ends at its absolute expiry, after an idle spell longer than the project's idle
timeout, or when revoked (logout, password change or reset, disable, force logout). Use
slides the idle deadline forward, written at most once per `touch_after`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.engine import RowMapping

from cairn.auth.keys import Entry, collection_version
from cairn.auth.principal import Principal
from cairn.crypto import keyed_hash
from cairn.db.ids import new_id
from cairn.db.tenant import ContextMode, enter_tenant
from cairn.errors import NotFound, Unauthorized
from cairn.users.models import sessions, users
from cairn.users.settings import AuthSettings

TOKEN_PREFIX = "cs_"  # noqa: S105 - a marker, not a secret
_TOKEN_LENGTH = len(TOKEN_PREFIX) + 43  # token_urlsafe(32): 32 random bytes


@dataclass(frozen=True)
class Session:
    id: UUID
    user_id: UUID
    created_at: datetime
    last_seen_at: datetime
    idle_until: datetime
    expires_at: datetime
    revoked_at: datetime | None
    method: str
    ip: str | None
    user_agent: str | None

    @property
    def active(self) -> bool:
        now = datetime.now(UTC)
        return self.revoked_at is None and min(self.idle_until, self.expires_at) > now

    def to_dict(self, current: UUID | None = None) -> dict[str, object]:
        return {
            "id": str(self.id),
            "created_at": self.created_at,
            "last_seen_at": self.last_seen_at,
            "expires_at": min(self.idle_until, self.expires_at),
            "method": self.method,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "current": self.id == current,
        }

    @classmethod
    def from_row(cls, row: RowMapping) -> Session:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class IssuedSession:
    """A session as it is handed out: the only moment its token exists outside the client."""

    session: Session
    token: str


_COLUMNS = [sessions.c[name] for name in Session.__dataclass_fields__]


def looks_like_session(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def start_session(
    conn: Connection,
    pepper: bytes,
    project_id: UUID,
    user_id: UUID,
    policy: AuthSettings,
    *,
    method: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> IssuedSession:
    """A new session with a new token (never one the client brought: no fixation)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires_at = now + policy.lifetime
    row = (
        conn.execute(
            insert(sessions)
            .values(
                project_id=project_id,
                id=new_id(),
                user_id=user_id,
                token_hash=keyed_hash(pepper, token),
                created_at=now,
                last_seen_at=now,
                idle_until=min(now + policy.idle, expires_at),
                expires_at=expires_at,
                method=method,
                ip=ip,
                user_agent=(user_agent or "")[:300] or None,
            )
            .returning(*_COLUMNS)
        )
        .mappings()
        .one()
    )
    return IssuedSession(Session.from_row(row), token)


def enter_with_session(
    conn: Connection,
    mode: ContextMode,
    pepper: bytes,
    project_id: UUID,
    token: str,
    policy: AuthSettings,
    touch_after: timedelta,
    collection: str | None = None,
    source: str = "",
) -> Entry:
    """Open the request of an end user: scope the transaction to the project and find the
    session inside it (another project's session is simply not found)."""
    if len(token) != _TOKEN_LENGTH:
        raise Unauthorized("the session token is malformed")
    token_hash = keyed_hash(pepper, token)
    if mode == "set_config":
        row = conn.execute(
            text("SELECT * FROM cairn.enter_session(:project, :hash, :collection, :source)"),
            {"project": project_id, "hash": token_hash, "collection": collection or "",
             "source": source},
        ).first()  # fmt: skip
    else:
        enter_tenant(conn, mode, project_id, {"source": source})
        version = collection_version(project_id, collection).scalar_subquery()
        row = conn.execute(
            select(
                sessions.c.id.label("session_id"),
                users.c.id.label("user_id"),
                users.c.email,
                users.c.verified,
                users.c.disabled,
                users.c.profile,
                sessions.c.idle_until,
                sessions.c.expires_at,
                sessions.c.revoked_at,
                sessions.c.last_seen_at,
                version.label("collection_version"),
            )
            .join(
                users,
                (users.c.project_id == sessions.c.project_id) & (users.c.id == sessions.c.user_id),
            )
            .where(sessions.c.project_id == project_id, sessions.c.token_hash == token_hash)
        ).first()
    if row is None:
        raise Unauthorized("the session is not valid for this project")
    now = datetime.now(UTC)
    if row.revoked_at is not None:
        raise Unauthorized("the session has ended; sign in again")
    if row.expires_at <= now or row.idle_until <= now:
        raise Unauthorized("the session has expired; sign in again")
    if row.disabled:
        raise Unauthorized("the account is disabled")
    principal = Principal(
        kind="user",
        project_id=project_id,
        scope="write",
        user_id=row.user_id,
        session_id=row.session_id,
        email=row.email,
        verified=row.verified,
        profile=dict(row.profile),
    )
    if mode != "set_config":
        enter_tenant(conn, mode, project_id, {**principal.claims(), "source": source})
    if now - row.last_seen_at >= touch_after:
        _touch(conn, project_id, row.session_id, now, policy.idle, touch_after)
    return Entry(principal, row.collection_version)


def _touch(
    conn: Connection,
    project_id: UUID,
    session_id: UUID,
    now: datetime,
    idle: timedelta,
    every: timedelta,
) -> None:
    """Slide the idle deadline (never past the absolute expiry); the guard makes concurrent
    touches a no-op."""
    conn.execute(
        update(sessions)
        .where(
            sessions.c.project_id == project_id,
            sessions.c.id == session_id,
            sessions.c.last_seen_at < now - every,
        )
        .values(last_seen_at=now, idle_until=func.least(now + idle, sessions.c.expires_at))
    )


def list_sessions(conn: Connection, project_id: UUID, user_id: UUID) -> list[Session]:
    """The user's sessions that can still be used, newest first."""
    now = datetime.now(UTC)
    rows = conn.execute(
        select(*_COLUMNS)
        .where(
            sessions.c.project_id == project_id,
            sessions.c.user_id == user_id,
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > now,
            sessions.c.idle_until > now,
        )
        .order_by(sessions.c.id.desc())
    ).mappings()
    return [Session.from_row(row) for row in rows]


def revoke_session(conn: Connection, project_id: UUID, user_id: UUID, session_id: UUID) -> None:
    """End one of the user's sessions. Another user's session is not found (404)."""
    found = conn.execute(
        update(sessions)
        .where(
            sessions.c.project_id == project_id,
            sessions.c.user_id == user_id,
            sessions.c.id == session_id,
        )
        .values(revoked_at=func.coalesce(sessions.c.revoked_at, func.now()))
        .returning(sessions.c.id)
    ).first()
    if found is None:
        raise NotFound(f"no session {session_id} of this user")


def revoke_all(
    conn: Connection, project_id: UUID, user_id: UUID, *, keep: UUID | None = None
) -> int:
    """End every session of the user (but `keep`); how many were ended."""
    statement = update(sessions).where(
        sessions.c.project_id == project_id,
        sessions.c.user_id == user_id,
        sessions.c.revoked_at.is_(None),
    )
    if keep is not None:
        statement = statement.where(sessions.c.id != keep)
    return conn.execute(statement.values(revoked_at=func.now())).rowcount
