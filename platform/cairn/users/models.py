"""End users of a project and what authenticates them: sessions, one-time tokens (email
verification, password reset, email change), OAuth providers, linked identities and pending
OAuth logins. Secrets are stored only as keyed hashes or sealed."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from cairn.db.metadata import metadata

TOKEN_PURPOSES = ("verify_email", "password_reset", "email_change")


def _project() -> Column[object]:
    return Column("project_id", Uuid, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)


def _user_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["project_id", "user_id"], ["users.project_id", "users.id"], ondelete="CASCADE"
    )


users = Table(
    "users",
    metadata,
    _project(),
    Column("id", Uuid, nullable=False),
    # Unique per project case-insensitively: uq_users_project_id_email on lower(email).
    Column("email", String(320), nullable=False),
    Column("password_hash", Text),  # None: the account signs in through OAuth only
    Column("verified", Boolean, nullable=False, server_default=text("false")),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("profile", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_login_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("project_id", "id"),
)

sessions = Table(
    "sessions",
    metadata,
    _project(),
    Column("id", Uuid, nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("token_hash", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("idle_until", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("method", String(40), nullable=False),  # "password", "signup", "oauth:<provider>"
    Column("ip", String(100)),
    Column("user_agent", String(300)),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("project_id", "token_hash"),
    _user_fk(),
)

auth_tokens = Table(
    "auth_tokens",
    metadata,
    _project(),
    Column("id", Uuid, nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("purpose", String(20), nullable=False),
    Column("token_hash", LargeBinary(32), nullable=False),
    Column("new_email", String(320)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    CheckConstraint(f"purpose IN {TOKEN_PURPOSES!r}", name="purpose"),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("project_id", "token_hash"),
    _user_fk(),
)

auth_providers = Table(
    "auth_providers",
    metadata,
    _project(),
    Column("id", Uuid, nullable=False),
    Column("name", String(63), nullable=False),
    Column("definition", JSONB, nullable=False),
    Column("client_secret", LargeBinary, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("project_id", "id"),
    UniqueConstraint("project_id", "name"),
)

oauth_identities = Table(
    "oauth_identities",
    metadata,
    _project(),
    Column("provider", String(63), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("email", String(320)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("project_id", "provider", "subject"),
    _user_fk(),
)

oauth_states = Table(
    "oauth_states",
    metadata,
    _project(),
    Column("state_hash", LargeBinary(32), nullable=False),
    Column("provider", String(63), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("project_id", "state_hash"),
)
