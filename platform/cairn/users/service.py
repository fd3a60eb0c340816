"""A project's end users: sign up, sign in, profile, password, admin management.

Passwords are argon2id hashes (rehashed on sign-in when the parameters change); a sign-in
for an unknown email verifies a dummy hash, so its answer and its timing give nothing away.
Every function runs inside the caller's tenant transaction and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from cairn.audit import service as audit
from cairn.auth.passwords import Hasher, check_password
from cairn.auth.principal import Principal
from cairn.db.ids import new_id
from cairn.email_address import MAX_EMAIL_LENGTH, check_email
from cairn.errors import BadRequest, Conflict, Forbidden, Invalid, NotFound, Unauthorized
from cairn.tenancy.service import Project
from cairn.users import sessions
from cairn.users.models import users
from cairn.users.settings import AuthSettings, ProfileFields, auth_of, profile_fields

WRONG_CREDENTIALS = "the email or password is not correct"


@dataclass(frozen=True)
class UserAuth:
    """What the user services need from the running process: the password hasher and the
    peppers of session and mailed tokens."""

    hasher: Hasher
    session_pepper: bytes
    token_pepper: bytes
    smtp_configured: bool


@dataclass(frozen=True)
class User:
    id: UUID
    email: str
    verified: bool
    disabled: bool
    profile: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    has_password: bool

    def to_dict(self) -> dict[str, Any]:
        """Flat, like a record: the user's own fields, then the profile fields."""
        return {
            "id": str(self.id),
            "email": self.email,
            "verified": self.verified,
            "disabled": self.disabled,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_login_at": self.last_login_at,
            **self.profile,
        }

    @classmethod
    def from_row(cls, row: RowMapping) -> User:
        return cls(
            id=row["id"],
            email=row["email"],
            verified=row["verified"],
            disabled=row["disabled"],
            profile=dict(row["profile"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            last_login_at=row["last_login_at"],
            has_password=row["password_hash"] is not None,
        )


@dataclass(frozen=True)
class SignedIn:
    user: User
    session: sessions.IssuedSession


_COLUMNS = [
    users.c.id, users.c.email, users.c.verified, users.c.disabled, users.c.profile,
    users.c.created_at, users.c.updated_at, users.c.last_login_at, users.c.password_hash,
]  # fmt: skip


def auth_settings(project: Project) -> AuthSettings:
    return auth_of(project.auth)


def user_fields(project: Project) -> ProfileFields:
    return profile_fields(project.user_fields)


def _split_body(project: Project, body: dict[str, Any], own: set[str]) -> dict[str, Any]:
    """The profile part of a body; anything neither the user's own nor a profile field is
    refused by name."""
    fields = user_fields(project)
    unknown = sorted(set(body) - own - set(fields.names))
    if unknown:
        raise Invalid(errors={name: ["unknown field"] for name in unknown})
    return {k: v for k, v in body.items() if k not in own}


def _find_by_email(conn: Connection, project_id: UUID, email: str) -> RowMapping | None:
    return (
        conn.execute(
            select(*_COLUMNS).where(
                users.c.project_id == project_id, func.lower(users.c.email) == email.lower()
            )
        )
        .mappings()
        .first()
    )


def get_user(conn: Connection, project_id: UUID, user_id: UUID) -> User:
    row = (
        conn.execute(
            select(*_COLUMNS).where(users.c.project_id == project_id, users.c.id == user_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no user {user_id} in this project")
    return User.from_row(row)


def find_user(conn: Connection, project_id: UUID, email: str) -> User | None:
    row = _find_by_email(conn, project_id, email)
    return None if row is None else User.from_row(row)


def create_user(
    conn: Connection,
    kit: UserAuth,
    project: Project,
    *,
    email: object,
    password: object | None,
    profile: dict[str, Any],
    actor: str,
    verified: bool = False,
) -> User:
    """A new account. `password` None: the account signs in only through OAuth."""
    errors: dict[str, list[str]] = {}
    address = ""
    try:
        address = check_email(email)
    except Invalid as exc:
        errors.update(exc.errors)
    if password is not None:
        try:
            check_password(password, email=address or None)
        except Invalid as exc:
            errors.update(exc.errors)
    try:
        values = user_fields(project).validate(profile, partial=False)
    except Invalid as exc:
        errors.update(exc.errors)
    if errors:
        raise Invalid(errors=errors)
    hashed = kit.hasher.hash(str(password)) if password is not None else None
    try:
        with conn.begin_nested():
            row = (
                conn.execute(
                    insert(users)
                    .values(
                        project_id=project.id,
                        id=new_id(),
                        email=address,
                        password_hash=hashed,
                        verified=verified,
                        profile=values,
                    )
                    .returning(*_COLUMNS)
                )
                .mappings()
                .one()
            )
    except IntegrityError:
        raise Conflict(
            "an account with this email already exists", errors={"email": ["is taken"]}
        ) from None
    user = User.from_row(row)
    audit.record(conn, project.id, actor, "user.created", str(user.id), {"email": user.email})
    return user


def signup(
    conn: Connection,
    kit: UserAuth,
    project: Project,
    body: dict[str, Any],
) -> User:
    if not auth_settings(project).signup:
        raise Forbidden("signup is disabled for this project; ask its administrator")
    profile = _split_body(project, body, {"email", "password"})
    for required in ("email", "password"):
        if required not in body:
            raise Invalid(errors={required: ["is required"]})
    user = create_user(
        conn,
        kit,
        project,
        email=body["email"],
        password=body["password"],
        profile=profile,
        actor="anonymous",
    )
    return user


class LoginRefused(Unauthorized):
    """A refused sign-in. The attempt is audited, so the caller commits before answering."""


def authenticate(
    conn: Connection, kit: UserAuth, project: Project, email: object, password: object
) -> User:
    """The user these credentials belong to; LoginRefused otherwise (audited)."""
    address = email.strip() if isinstance(email, str) else ""
    secret = password if isinstance(password, str) else ""
    if len(secret) > 1024:  # bound the argon2 input even for garbage
        secret = secret[:1024]
    row = _find_by_email(conn, project.id, address) if address else None
    if row is None or row["password_hash"] is None:
        kit.hasher.burn(secret)
        audit.record(conn, project.id, "anonymous", "user.login_failed", None,
                     {"email": address[:MAX_EMAIL_LENGTH], "reason": "unknown"})  # fmt: skip
        raise LoginRefused(WRONG_CREDENTIALS)
    user = User.from_row(row)
    if not kit.hasher.verify(row["password_hash"], secret):
        audit.record(conn, project.id, "anonymous", "user.login_failed", str(user.id),
                     {"email": user.email, "reason": "password"})  # fmt: skip
        raise LoginRefused(WRONG_CREDENTIALS)
    if user.disabled:
        audit.record(conn, project.id, "anonymous", "user.login_failed", str(user.id),
                     {"email": user.email, "reason": "disabled"})  # fmt: skip
        raise LoginRefused("the account is disabled")
    if kit.hasher.needs_rehash(row["password_hash"]):
        conn.execute(
            update(users)
            .where(users.c.project_id == project.id, users.c.id == user.id)
            .values(password_hash=kit.hasher.hash(secret))
        )
    return user


def start_session(
    conn: Connection,
    kit: UserAuth,
    project: Project,
    user: User,
    *,
    method: str,
    ip: str | None,
    user_agent: str | None,
) -> SignedIn:
    """Sign the user in: a new session, last_login_at, an audit entry. Refused while the
    project requires a verified email and the user has none."""
    settings = auth_settings(project)
    if settings.require_verified_email and not user.verified:
        raise Forbidden(
            "verify your email address first: follow the link in the mail we sent",
            reason="email_not_verified",
        )
    issued = sessions.start_session(
        conn, kit.session_pepper, project.id, user.id, settings,
        method=method, ip=ip, user_agent=user_agent,
    )  # fmt: skip
    row = (
        conn.execute(
            update(users)
            .where(users.c.project_id == project.id, users.c.id == user.id)
            .values(last_login_at=issued.session.created_at)
            .returning(*_COLUMNS)
        )
        .mappings()
        .one()
    )
    audit.record(conn, project.id, f"user:{user.id}", "user.login", str(user.id),
                 {"method": method, "session": str(issued.session.id)})  # fmt: skip
    return SignedIn(User.from_row(row), issued)


def update_profile(conn: Connection, project: Project, user_id: UUID, body: dict[str, Any]) -> User:
    """The user changes their own profile fields (email and password have their own flows)."""
    for own in ("email", "password", "verified", "disabled"):
        if own in body:
            raise Invalid(errors={own: ["cannot be changed here"]})
    changes = user_fields(project).validate(_split_body(project, body, set()), partial=True)
    return _update(conn, project.id, user_id, profile=users.c.profile.op("||")(changes))


def mark_verified(conn: Connection, project_id: UUID, user_id: UUID) -> User:
    return _update(conn, project_id, user_id, verified=True)


def verify_without_password(conn: Connection, project_id: UUID, user_id: UUID) -> User:
    """Verified by a provider that proved the address; a password nobody proved goes."""
    return _update(conn, project_id, user_id, verified=True, password_hash=None)


def change_email(conn: Connection, project_id: UUID, user_id: UUID, email: str) -> User:
    """The confirmed new address (a mail to it was followed, so it counts as verified)."""
    return _update(conn, project_id, user_id, email=email, verified=True)


def _update(conn: Connection, project_id: UUID, user_id: UUID, **values: Any) -> User:
    try:
        with conn.begin_nested():
            row = (
                conn.execute(
                    update(users)
                    .where(users.c.project_id == project_id, users.c.id == user_id)
                    .values(**values, updated_at=func.now())
                    .returning(*_COLUMNS)
                )
                .mappings()
                .first()
            )
    except IntegrityError:
        raise Conflict(
            "an account with this email already exists", errors={"email": ["is taken"]}
        ) from None
    if row is None:
        raise NotFound(f"no user {user_id} in this project")
    return User.from_row(row)


def change_password(
    conn: Connection,
    kit: UserAuth,
    project: Project,
    principal: Principal,
    current: object,
    new: object,
) -> User:
    """Needs the current password; ends every other session of the user."""
    assert principal.user_id is not None
    row = (
        conn.execute(
            select(users.c.password_hash).where(
                users.c.project_id == project.id, users.c.id == principal.user_id
            )
        )
        .mappings()
        .one()
    )
    if row["password_hash"] is not None and not (
        isinstance(current, str) and kit.hasher.verify(row["password_hash"], current[:1024])
    ):
        raise Invalid(errors={"current_password": ["is not correct"]})
    user = set_password(conn, kit, project, principal.user_id, new, keep=principal.session_id)
    audit.record(conn, project.id, principal.actor, "user.password_changed", str(user.id))
    return user


def set_password(
    conn: Connection,
    kit: UserAuth,
    project: Project,
    user_id: UUID,
    new: object,
    *,
    keep: UUID | None = None,
    field: str = "new_password",
    **values: Any,
) -> User:
    """Replace the password and end the user's sessions (but `keep`)."""
    current = get_user(conn, project.id, user_id)
    try:
        password = check_password(new, email=current.email)
    except Invalid as exc:
        raise Invalid(exc.detail, errors={field: exc.errors["password"]}) from None
    user = _update(conn, project.id, user_id, password_hash=kit.hasher.hash(password), **values)
    sessions.revoke_all(conn, project.id, user_id, keep=keep)
    return user


# -- administration ---------------------------------------------------------------------


def count_users(conn: Connection, project_id: UUID) -> int:
    return int(
        conn.execute(select(func.count()).where(users.c.project_id == project_id)).scalar() or 0
    )


def list_users(
    conn: Connection,
    project_id: UUID,
    *,
    search: str | None = None,
    limit: int,
    after: UUID | None = None,
) -> tuple[list[User], bool]:
    """Users in sign-up order, a page at a time; `search` matches the start of the email."""
    if search and "\x00" in search:
        raise BadRequest("search contains a NUL character (\\u0000)")
    query = select(*_COLUMNS).where(users.c.project_id == project_id)
    if search:
        escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(users.c.email).like(escaped + "%", escape="\\"))
    if after is not None:
        query = query.where(users.c.id > after)
    rows = conn.execute(query.order_by(users.c.id).limit(limit + 1)).mappings().all()
    found = [User.from_row(row) for row in rows]
    return found[:limit], len(found) > limit


_ADMIN_FIELDS = {"email", "password", "verified", "disabled"}


def admin_update(
    conn: Connection,
    kit: UserAuth,
    project: Project,
    actor: Principal,
    user_id: UUID,
    body: dict[str, Any],
) -> User:
    """An administrator changes a user: email, password, verified, disabled, profile.
    Disabling or a new password ends the user's sessions."""
    profile = user_fields(project).validate(_split_body(project, body, _ADMIN_FIELDS), partial=True)
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for flag in ("verified", "disabled"):
        if flag in body:
            if isinstance(body[flag], bool):
                values[flag] = body[flag]
            else:
                errors[flag] = ["must be true or false"]
    if "email" in body:
        try:
            values["email"] = check_email(body["email"])
        except Invalid as exc:
            errors.update(exc.errors)
    if errors:
        raise Invalid(errors=errors)
    if profile:
        values["profile"] = users.c.profile.op("||")(profile)
    if "password" in body:
        user = set_password(conn, kit, project, user_id, body["password"], field="password",
                            **values)  # fmt: skip
    else:
        user = _update(conn, project.id, user_id, **values)
    if values.get("disabled"):
        sessions.revoke_all(conn, project.id, user_id)
    changed = sorted(set(body) & _ADMIN_FIELDS) + (["profile"] if profile else [])
    action = "user.disabled" if values.get("disabled") else "user.updated"
    audit.record(conn, project.id, actor.actor, action, str(user_id), {"changed": changed})
    return user


def delete_user(conn: Connection, project_id: UUID, actor: Principal, user_id: UUID) -> None:
    """The account, its sessions, tokens and linked identities go; records it owns stay
    (their `owner` keeps the id, like a deleted author's posts)."""
    found = conn.execute(
        delete(users)
        .where(users.c.project_id == project_id, users.c.id == user_id)
        .returning(users.c.email)
    ).first()
    if found is None:
        raise NotFound(f"no user {user_id} in this project")
    audit.record(
        conn, project_id, actor.actor, "user.deleted", str(user_id), {"email": found.email}
    )


def force_logout(conn: Connection, project_id: UUID, actor: Principal, user_id: UUID) -> int:
    get_user(conn, project_id, user_id)
    ended = sessions.revoke_all(conn, project_id, user_id)
    audit.record(
        conn, project_id, actor.actor, "user.logged_out", str(user_id), {"sessions": ended}
    )
    return ended


__all__ = [
    "LoginRefused",
    "SignedIn",
    "User",
    "UserAuth",
    "admin_update",
    "authenticate",
    "change_password",
    "check_email",
    "create_user",
    "delete_user",
    "find_user",
    "force_logout",
    "get_user",
    "list_users",
    "set_password",
    "signup",
    "start_session",
    "update_profile",
]
