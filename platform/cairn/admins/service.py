"""Platform admins: accounts, sign-in with lockout and an optional TOTP second factor, and
server-side sessions for the admin UI.

- Passwords: argon2id with the configured parameters (`Hasher`), checked by the same policy as
  end users' (`check_password`). A generated password is returned once and never stored.
- Lockout: MAX_FAILED_ATTEMPTS consecutive failures (a wrong password or a wrong TOTP code)
  lock the account for LOCKOUT. While locked every attempt gets the same answer and costs the
  same argon2 verification, whether or not the password was right. An unknown email costs a
  dummy verification too.
- TOTP (RFC 6238, 30 s steps, one step of clock skew either way): the secret is sealed with a
  key derived from CAIRN_SECRET_KEY. The time step of the last accepted code is stored, and a
  code is accepted only for a later step, so no code works twice.
- Sessions: a token `ca_` + 43 URL-safe characters (256 random bits); only
  HMAC-SHA256(pepper, token) is stored. A session lasts SESSION_LIFETIME at most and ends after
  IDLE_TIMEOUT without use; each use slides the idle deadline (written at most once per
  RENEW_AFTER).

These are platform tables: callers use the owner path (`Database.owner()`). As everywhere, the
caller owns the transaction. A failed sign-in must still record its failure, so `sign_in`
returns the outcome instead of raising: commit, then call `SignInAttempt.unwrap()`.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pyotp
from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping

from cairn.admins.models import admin_sessions, admins
from cairn.auth.passwords import Hasher, check_password
from cairn.config import Settings
from cairn.crypto import derive_key, keyed_hash
from cairn.db.ids import new_id
from cairn.email_address import check_email
from cairn.errors import Conflict, Invalid, NotFound, Unauthorized
from cairn.webhooks.service import SecretBox

TOKEN_PREFIX = "ca_"  # noqa: S105 - a marker, not a secret
_TOKEN_BYTES = 32
_TOKEN_LENGTH = len(TOKEN_PREFIX) + 43  # token_urlsafe(32): 43 characters, no padding

SESSION_LIFETIME = timedelta(hours=12)
IDLE_TIMEOUT = timedelta(hours=1)
RENEW_AFTER = timedelta(minutes=1)
MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)

TOTP_ISSUER = "Cairn"
TOTP_DIGITS = 6
TOTP_WINDOW = 1  # steps accepted either side of now: clock skew between server and phone

_MAX_PASSWORD_INPUT = 1024  # far above the policy's maximum: only garbage is cut
_GENERATED_PASSWORD_BYTES = 18  # 24 URL-safe characters, 144 bits

INVALID_CREDENTIALS = "the email or password is not correct"
LOCKED = "too many failed sign-ins: this account is locked for a while; try again later"
TOTP_REQUIRED = "a TOTP code is required"
TOTP_INVALID = "the TOTP code is not correct"
TOTP_REUSED = "this TOTP code has been used already; wait for the next one"


@dataclass(frozen=True)
class AdminCrypto:
    """What the admin services need from the server's secrets and settings. Build it once per
    process (the Hasher makes its dummy hash on first use)."""

    hasher: Hasher
    session_pepper: bytes = field(repr=False)
    totp_box: SecretBox = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, hasher: Hasher | None = None) -> AdminCrypto:
        """`hasher`: the process's (the Runtime shares its own, so one dummy hash)."""
        secret = settings.require_secret_key()
        return cls(
            hasher=hasher or Hasher.from_settings(settings),
            session_pepper=derive_key(secret, "admin-session-pepper"),
            # Sealed with a key of their own, derived from CAIRN_SECRET_KEY.
            totp_box=SecretBox(secret, "admin-totp"),
        )


@dataclass(frozen=True)
class Admin:
    id: UUID
    email: str
    totp_enabled: bool
    disabled: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > datetime.now(UTC)

    @property
    def status(self) -> str:
        if self.disabled:
            return "disabled"
        return "locked" if self.locked else "active"

    @classmethod
    def from_row(cls, row: RowMapping) -> Admin:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


_COLUMNS = [admins.c[name] for name in Admin.__dataclass_fields__]


@dataclass(frozen=True)
class NewAdmin:
    """A created admin; `generated_password` is set only when Cairn chose the password, and
    this is the only time it exists outside the caller."""

    admin: Admin
    generated_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class IssuedSession:
    """A session as it is handed out: the only moment its token exists outside the caller."""

    id: UUID
    admin: Admin
    token: str = field(repr=False)
    expires_at: datetime
    idle_until: datetime


@dataclass(frozen=True)
class SignInAttempt:
    """The outcome of `sign_in`: a session, or the Unauthorized to raise once the caller has
    committed (so that the failure count survives)."""

    session: IssuedSession | None = None
    error: Unauthorized | None = None

    @property
    def ok(self) -> bool:
        return self.session is not None

    @property
    def totp_required(self) -> bool:
        return self.error is not None and self.error.extra.get("reason") == "totp_required"

    def unwrap(self) -> IssuedSession:
        if self.session is None:
            raise self.error or Unauthorized(INVALID_CREDENTIALS)
        return self.session


@dataclass(frozen=True)
class TotpSetup:
    """A pending TOTP secret: show it (or the URI as a QR code), then `confirm_totp`."""

    secret: str = field(repr=False)
    uri: str = field(repr=False)


# -- accounts -----------------------------------------------------------------------------


def generate_password() -> str:
    return secrets.token_urlsafe(_GENERATED_PASSWORD_BYTES)


def create_admin(
    conn: Connection, crypto: AdminCrypto, email: str, password: str | None = None
) -> NewAdmin:
    """Create an admin. Without a password, a strong one is generated and returned once."""
    email = check_email(email)
    generated = None
    if password is None:
        password = generated = generate_password()
    check_password(password, email=email)
    row = (
        conn.execute(
            insert(admins)
            .values(id=new_id(), email=email, password_hash=crypto.hasher.hash(password))
            .on_conflict_do_nothing(index_elements=[func.lower(admins.c.email)])
            .returning(*_COLUMNS)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise Conflict(f"an admin with the email {email} exists already")
    return NewAdmin(Admin.from_row(row), generated)


def list_admins(conn: Connection) -> list[Admin]:
    """Every admin, in creation order (ids are time-ordered)."""
    rows = conn.execute(select(*_COLUMNS).order_by(admins.c.id)).mappings()
    return [Admin.from_row(row) for row in rows]


def get_admin(conn: Connection, email: str) -> Admin:
    row = (
        conn.execute(select(*_COLUMNS).where(func.lower(admins.c.email) == email.strip().lower()))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no admin with the email {email.strip()}")
    return Admin.from_row(row)


def get_admin_by_id(conn: Connection, admin_id: UUID) -> Admin:
    row = conn.execute(select(*_COLUMNS).where(admins.c.id == admin_id)).mappings().first()
    if row is None:
        raise NotFound(f"no admin {admin_id}")
    return Admin.from_row(row)


def _change(conn: Connection, admin_id: UUID, **values: Any) -> Admin:
    row = (
        conn.execute(
            update(admins).where(admins.c.id == admin_id).values(**values).returning(*_COLUMNS)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no admin {admin_id}")
    return Admin.from_row(row)


def disable_admin(conn: Connection, admin_id: UUID) -> Admin:
    """Refuse every sign-in and end every session of the admin at once."""
    admin = _change(conn, admin_id, disabled=True)
    revoke_sessions(conn, admin_id)
    return admin


def enable_admin(conn: Connection, admin_id: UUID) -> Admin:
    return _change(conn, admin_id, disabled=False)


def unlock_admin(conn: Connection, admin_id: UUID) -> Admin:
    """Lift a lockout and forget the failures that led to it."""
    return _change(conn, admin_id, failed_attempts=0, locked_until=None)


def set_password(
    conn: Connection,
    crypto: AdminCrypto,
    admin_id: UUID,
    password: str,
    *,
    keep_token: str | None = None,
) -> Admin:
    """Replace the password and sign the admin out everywhere, except the session `keep_token`
    names (the one changing its own password)."""
    email = get_admin_by_id(conn, admin_id).email
    check_password(password, email=email)
    admin = _change(conn, admin_id, password_hash=crypto.hasher.hash(password))
    keep = keyed_hash(crypto.session_pepper, keep_token) if keep_token else None
    revoke_sessions(conn, admin_id, keep_token_hash=keep)
    return admin


def delete_admin(conn: Connection, admin_id: UUID) -> Admin:
    """Delete the admin; their sessions go with them."""
    row = (
        conn.execute(delete(admins).where(admins.c.id == admin_id).returning(*_COLUMNS))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no admin {admin_id}")
    return Admin.from_row(row)


# -- TOTP ---------------------------------------------------------------------------------


def _totp(secret: str, email: str | None = None) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, name=email, issuer=TOTP_ISSUER)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step `code` belongs to (within the window around now), or None."""
    code = "".join(code.split())
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = _totp(secret)
    current = totp.timecode(int(now.timestamp()))  # a timestamp: no time zone to misread
    found = None
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        # No early exit: every candidate costs the same.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def begin_totp(conn: Connection, crypto: AdminCrypto, admin_id: UUID) -> TotpSetup:
    """Give the admin a new, pending TOTP secret; sign-in ignores it until `confirm_totp`."""
    admin = get_admin_by_id(conn, admin_id)
    if admin.totp_enabled:
        raise Conflict("TOTP is enabled already; disable it first to enrol a new device")
    secret = base64.b32encode(secrets.token_bytes(20)).decode()  # 160 bits (RFC 4226)
    _change(conn, admin_id, totp_secret=crypto.totp_box.seal(secret), totp_last_counter=None)
    return TotpSetup(secret, _totp(secret, admin.email).provisioning_uri())


def confirm_totp(conn: Connection, crypto: AdminCrypto, admin_id: UUID, code: str) -> Admin:
    """Turn TOTP on once the admin proves their authenticator holds the pending secret."""
    row = conn.execute(
        select(admins.c.totp_secret, admins.c.totp_enabled)
        .where(admins.c.id == admin_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no admin {admin_id}")
    if row.totp_enabled:
        raise Conflict("TOTP is enabled already")
    if row.totp_secret is None:
        raise Conflict("no TOTP enrolment is pending; begin one first")
    step = _matching_step(crypto.totp_box.open(row.totp_secret), code, datetime.now(UTC))
    if step is None:
        raise Invalid(TOTP_INVALID, errors={"code": ["does not match the authenticator"]})
    return _change(conn, admin_id, totp_enabled=True, totp_last_counter=step)


def disable_totp(conn: Connection, admin_id: UUID) -> Admin:
    """Turn TOTP off and forget the secret (pending or in force)."""
    return _change(conn, admin_id, totp_enabled=False, totp_secret=None, totp_last_counter=None)


# -- signing in ---------------------------------------------------------------------------


def _refused(detail: str, reason: str) -> SignInAttempt:
    return SignInAttempt(error=Unauthorized(detail, reason=reason))


def sign_in(
    conn: Connection,
    crypto: AdminCrypto,
    *,
    email: str,
    password: str,
    totp_code: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> SignInAttempt:
    """Check the credentials and, if they hold, open a session. Never raises for bad
    credentials: the caller commits (failures are counted) and then calls `unwrap()`."""
    now = datetime.now(UTC)
    password = password[:_MAX_PASSWORD_INPUT]  # bound the argon2 input even for garbage
    # FOR UPDATE: concurrent guesses for one account queue up, so each sees the count so far.
    row = (
        conn.execute(
            select(admins)
            .where(func.lower(admins.c.email) == email.strip().lower())
            .with_for_update()
        )
        .mappings()
        .first()
    )
    if row is None:
        crypto.hasher.burn(password)
        return _refused(INVALID_CREDENTIALS, "invalid_credentials")
    if row["locked_until"] is not None and row["locked_until"] > now:
        # The same answer and the same cost, right password or not.
        crypto.hasher.burn(password)
        return _refused(LOCKED, "locked")
    if not crypto.hasher.verify(row["password_hash"], password):
        return _fail(conn, row, now, INVALID_CREDENTIALS, "invalid_credentials")
    if row["disabled"]:
        return _refused(INVALID_CREDENTIALS, "invalid_credentials")

    values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None, "last_login_at": now}
    if row["totp_enabled"]:
        if not totp_code:
            return _refused(TOTP_REQUIRED, "totp_required")
        step = _matching_step(crypto.totp_box.open(row["totp_secret"]), totp_code, now)
        if step is None:
            return _fail(conn, row, now, TOTP_INVALID, "totp_invalid")
        last = row["totp_last_counter"]
        if last is not None and step <= last:
            return _fail(conn, row, now, TOTP_REUSED, "totp_reused")
        values["totp_last_counter"] = step
    if crypto.hasher.needs_rehash(row["password_hash"]):
        values["password_hash"] = crypto.hasher.hash(password)
    admin = _change(conn, row["id"], **values)
    return SignInAttempt(session=_open_session(conn, crypto, admin, now, ip, user_agent))


def _fail(
    conn: Connection, row: RowMapping, now: datetime, detail: str, reason: str
) -> SignInAttempt:
    """Count a failure; the one that reaches the limit locks the account."""
    lock_over = row["locked_until"] is not None and row["locked_until"] <= now
    attempts = (0 if lock_over else row["failed_attempts"]) + 1
    locked_until = now + LOCKOUT if attempts >= MAX_FAILED_ATTEMPTS else None
    _change(conn, row["id"], failed_attempts=attempts, locked_until=locked_until)
    if locked_until is not None:
        return _refused(LOCKED, "locked")
    return _refused(detail, reason)


def _open_session(
    conn: Connection,
    crypto: AdminCrypto,
    admin: Admin,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
) -> IssuedSession:
    token = TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    session_id = new_id()
    expires_at = now + SESSION_LIFETIME
    idle_until = min(now + IDLE_TIMEOUT, expires_at)
    conn.execute(
        insert(admin_sessions).values(
            id=session_id,
            admin_id=admin.id,
            token_hash=keyed_hash(crypto.session_pepper, token),
            created_at=now,
            last_seen_at=now,
            idle_until=idle_until,
            expires_at=expires_at,
            ip=ip[:100] if ip else None,
            user_agent=user_agent[:300] if user_agent else None,
        )
    )
    return IssuedSession(session_id, admin, token, expires_at, idle_until)


def _token_hash(crypto: AdminCrypto, token: str) -> bytes | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) != _TOKEN_LENGTH:
        return None
    return keyed_hash(crypto.session_pepper, token)


def session_admin(conn: Connection, crypto: AdminCrypto, token: str) -> Admin:
    """The admin a session token belongs to, sliding its idle deadline; Unauthorized when the
    session is unknown, signed out, expired or idle too long, or the admin is disabled."""
    token_hash = _token_hash(crypto, token)
    if token_hash is None:
        raise Unauthorized("the admin session is not valid")
    row = (
        conn.execute(
            select(
                admin_sessions.c.id.label("session_id"),
                admin_sessions.c.last_seen_at,
                admin_sessions.c.idle_until,
                admin_sessions.c.expires_at,
                admin_sessions.c.revoked_at,
                *_COLUMNS,
            )
            .join(admins, admins.c.id == admin_sessions.c.admin_id)
            .where(admin_sessions.c.token_hash == token_hash)
        )
        .mappings()
        .first()
    )
    now = datetime.now(UTC)
    if row is None:
        raise Unauthorized("the admin session is not valid")
    if row["revoked_at"] is not None:
        raise Unauthorized("the admin session has been signed out")
    if row["expires_at"] <= now:
        raise Unauthorized("the admin session has expired; sign in again")
    if row["idle_until"] <= now:
        raise Unauthorized("the admin session timed out after inactivity; sign in again")
    if row["disabled"]:
        raise Unauthorized("this admin account is disabled")
    if now - row["last_seen_at"] >= RENEW_AFTER:
        conn.execute(
            update(admin_sessions)
            .where(
                admin_sessions.c.id == row["session_id"],
                admin_sessions.c.last_seen_at < now - RENEW_AFTER,
            )
            .values(last_seen_at=now, idle_until=min(now + IDLE_TIMEOUT, row["expires_at"]))
        )
    return Admin.from_row(row)


def sign_out(conn: Connection, crypto: AdminCrypto, token: str) -> bool:
    """End the session `token` names; False if there was no live one (signing out twice is
    harmless)."""
    token_hash = _token_hash(crypto, token)
    if token_hash is None:
        return False
    result = conn.execute(
        update(admin_sessions)
        .where(admin_sessions.c.token_hash == token_hash, admin_sessions.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return result.rowcount > 0


def revoke_sessions(
    conn: Connection, admin_id: UUID, *, keep_token_hash: bytes | None = None
) -> int:
    """Sign the admin out everywhere (but the session `keep_token_hash` names); how many live
    sessions ended."""
    query = update(admin_sessions).where(
        admin_sessions.c.admin_id == admin_id,
        admin_sessions.c.revoked_at.is_(None),
        admin_sessions.c.expires_at > func.now(),
    )
    if keep_token_hash is not None:
        query = query.where(admin_sessions.c.token_hash != keep_token_hash)
    return conn.execute(query.values(revoked_at=func.now())).rowcount


__all__ = [
    "IDLE_TIMEOUT",
    "LOCKOUT",
    "MAX_FAILED_ATTEMPTS",
    "SESSION_LIFETIME",
    "TOKEN_PREFIX",
    "Admin",
    "AdminCrypto",
    "IssuedSession",
    "NewAdmin",
    "SignInAttempt",
    "TotpSetup",
    "begin_totp",
    "confirm_totp",
    "create_admin",
    "delete_admin",
    "disable_admin",
    "disable_totp",
    "enable_admin",
    "generate_password",
    "get_admin",
    "get_admin_by_id",
    "list_admins",
    "revoke_sessions",
    "session_admin",
    "set_password",
    "sign_in",
    "sign_out",
    "unlock_admin",
]
