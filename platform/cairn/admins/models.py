"""Platform admins and their server-side sessions.

Only the owner role reaches these tables (the admin UI works through `Database.owner()`); the
app role that serves tenant requests is granted nothing on them. Secrets are stored only as an
argon2id hash (the password), sealed (the TOTP secret) or as a keyed hash (session tokens).
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)

from cairn.db.metadata import metadata

admins = Table(
    "admins",
    metadata,
    Column("id", Uuid, primary_key=True),
    # Unique case-insensitively: uq_admins_lower_email on lower(email).
    Column("email", String(320), nullable=False),
    Column("password_hash", Text, nullable=False),
    # Fernet-sealed base32 secret; set by begin_totp, in force once totp_enabled.
    Column("totp_secret", LargeBinary),
    Column("totp_enabled", Boolean, nullable=False, server_default=text("false")),
    # The time step of the last code accepted: a code is never accepted twice.
    Column("totp_last_counter", BigInteger),
    Column("failed_attempts", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", DateTime(timezone=True)),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_login_at", DateTime(timezone=True)),
    CheckConstraint("failed_attempts >= 0", name="failed_attempts"),
)
Index("uq_admins_lower_email", func.lower(admins.c.email), unique=True)

admin_sessions = Table(
    "admin_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column(
        "admin_id",
        Uuid,
        ForeignKey("admins.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("idle_until", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("ip", String(100)),
    Column("user_agent", String(300)),
)
