"""End users: accounts, sessions, one-time tokens, OAuth providers and identities; project
auth settings; where an audited action came from; entering a request with a session.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from cairn_migrations.tenant_ops import app_role, enable_tenant_rls, grant_to_app
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "cairn"


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _project_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["project_id"],
        [f"{SCHEMA}.projects.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_project_id_projects",
    )


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    # project_id leads the key so the constraint stays local to one project's shard.
    return sa.ForeignKeyConstraint(
        ["project_id", "user_id"],
        [f"{SCHEMA}.users.project_id", f"{SCHEMA}.users.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_user_id_users",
    )


def upgrade() -> None:
    jsonb_empty = sa.text("'{}'::jsonb")
    # Settings every request for the project needs travel on the cached directory row.
    op.add_column(
        "projects",
        sa.Column("auth", postgresql.JSONB(), server_default=jsonb_empty, nullable=False),
        schema=SCHEMA,
    )
    op.add_column(
        "projects",
        sa.Column("user_fields", postgresql.JSONB(), server_default=jsonb_empty, nullable=False),
        schema=SCHEMA,
    )
    # "From where": the request entry sets cairn.source, so no caller has to pass it along.
    op.add_column(
        "audit_log",
        sa.Column(
            "source",
            sa.String(100),
            server_default=sa.text("NULLIF(current_setting('cairn.source', true), '')"),
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_audit_log_project_id_action_id", "audit_log", ["project_id", "action", "id"],
        schema=SCHEMA,
    )  # fmt: skip

    op.create_table(
        "users",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.Text()),
        sa.Column("verified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("profile", postgresql.JSONB(), server_default=jsonb_empty, nullable=False),
        _created_at(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        _project_fk("users"),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_users"),
        schema=SCHEMA,
    )
    op.execute(
        f"CREATE UNIQUE INDEX uq_users_project_id_email ON {SCHEMA}.users "
        "(project_id, lower(email))"
    )

    op.create_table(
        "sessions",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        _created_at(),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idle_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("ip", sa.String(100)),
        sa.Column("user_agent", sa.String(300)),
        _project_fk("sessions"),
        _user_fk("sessions"),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_sessions"),
        sa.UniqueConstraint("project_id", "token_hash", name="uq_sessions_project_id_token_hash"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_sessions_project_id_user_id", "sessions", ["project_id", "user_id"], schema=SCHEMA
    )

    op.create_table(
        "auth_tokens",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("new_email", sa.String(320)),
        _created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "purpose IN ('verify_email', 'password_reset', 'email_change')",
            name="ck_auth_tokens_purpose",
        ),
        _project_fk("auth_tokens"),
        _user_fk("auth_tokens"),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_auth_tokens"),
        sa.UniqueConstraint(
            "project_id", "token_hash", name="uq_auth_tokens_project_id_token_hash"
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_auth_tokens_project_id_user_id", "auth_tokens", ["project_id", "user_id"],
        schema=SCHEMA,
    )  # fmt: skip

    op.create_table(
        "auth_providers",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("definition", postgresql.JSONB(), nullable=False),
        sa.Column("client_secret", sa.LargeBinary(), nullable=False),
        # Bumped on every change: the cache key of the provider's OAuth client.
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        _created_at(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _project_fk("auth_providers"),
        sa.PrimaryKeyConstraint("project_id", "id", name="pk_auth_providers"),
        sa.UniqueConstraint("project_id", "name", name="uq_auth_providers_project_id_name"),
        schema=SCHEMA,
    )

    op.create_table(
        "oauth_identities",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(63), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(320)),
        _created_at(),
        _project_fk("oauth_identities"),
        _user_fk("oauth_identities"),
        sa.PrimaryKeyConstraint("project_id", "provider", "subject", name="pk_oauth_identities"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_oauth_identities_project_id_user_id", "oauth_identities", ["project_id", "user_id"],
        schema=SCHEMA,
    )  # fmt: skip

    op.create_table(
        "oauth_states",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("state_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("provider", sa.String(63), nullable=False),
        # Nonce, PKCE verifier and redirect target, sealed: they are secrets until used.
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        _created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _project_fk("oauth_states"),
        sa.PrimaryKeyConstraint("project_id", "state_hash", name="pk_oauth_states"),
        schema=SCHEMA,
    )

    for table in ("users", "sessions", "auth_tokens", "auth_providers", "oauth_identities",
                  "oauth_states"):  # fmt: skip
        enable_tenant_rls(table)
        grant_to_app(table, "SELECT, INSERT, UPDATE, DELETE")

    # A session-authenticated request's first statement: scope, session and user, version
    # of the URL's collection, in one round trip. SECURITY INVOKER, so RLS applies inside.
    op.execute(
        """
        CREATE FUNCTION cairn.enter_session(
            p_project uuid, p_token_hash bytea, p_collection text, p_source text)
        RETURNS TABLE (
            session_id uuid, user_id uuid, email text, verified boolean, disabled boolean,
            profile jsonb, idle_until timestamptz, expires_at timestamptz,
            revoked_at timestamptz, last_seen_at timestamptz, collection_version bigint
        )
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            s cairn.sessions%ROWTYPE;
            u cairn.users%ROWTYPE;
        BEGIN
            PERFORM set_config('cairn.project_id', p_project::text, true),
                    set_config('cairn.source', p_source, true);
            SELECT * INTO s FROM cairn.sessions
             WHERE project_id = p_project AND token_hash = p_token_hash;
            IF NOT FOUND THEN
                RETURN;
            END IF;
            SELECT * INTO u FROM cairn.users WHERE project_id = p_project AND id = s.user_id;
            PERFORM set_config('cairn.principal', 'user', true),
                    set_config('cairn.scope', 'write', true),
                    set_config('cairn.user_id', u.id::text, true);
            RETURN QUERY SELECT s.id, u.id, u.email::text, u.verified, u.disabled, u.profile,
                                s.idle_until, s.expires_at, s.revoked_at, s.last_seen_at,
                                (SELECT c.version FROM cairn.collections c
                                  WHERE c.project_id = p_project AND c.name = p_collection);
        END
        $$
        """
    )
    # The key path learns the source too; the old signature goes.
    op.execute("DROP FUNCTION cairn.enter_request(uuid, text, text)")
    op.execute(
        """
        CREATE FUNCTION cairn.enter_request(
            p_project uuid, p_prefix text, p_collection text, p_source text)
        RETURNS TABLE (
            key_id uuid, key_hash bytea, scope text, expires_at timestamptz,
            revoked_at timestamptz, last_used_at timestamptz, collection_version bigint
        )
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            k cairn.api_keys%ROWTYPE;
        BEGIN
            PERFORM set_config('cairn.project_id', p_project::text, true),
                    set_config('cairn.source', p_source, true);
            IF p_prefix <> '' THEN
                SELECT * INTO k FROM cairn.api_keys
                 WHERE project_id = p_project AND prefix = p_prefix;
                IF NOT FOUND THEN
                    RETURN;
                END IF;
                -- Discarded with the transaction if the hash does not match.
                PERFORM set_config('cairn.principal', 'api_key', true),
                        set_config('cairn.scope', k.scope, true),
                        set_config('cairn.user_id', '', true);
            ELSE
                -- No credential: an anonymous caller, for whom collection rules decide.
                PERFORM set_config('cairn.principal', 'anonymous', true),
                        set_config('cairn.scope', 'write', true),
                        set_config('cairn.user_id', '', true);
            END IF;
            RETURN QUERY SELECT k.id, k.key_hash, k.scope::text, k.expires_at, k.revoked_at,
                                k.last_used_at,
                                (SELECT c.version FROM cairn.collections c
                                  WHERE c.project_id = p_project AND c.name = p_collection);
        END
        $$
        """
    )
    for signature in ("enter_session(uuid, bytea, text, text)",
                      "enter_request(uuid, text, text, text)"):  # fmt: skip
        op.execute(f"REVOKE ALL ON FUNCTION cairn.{signature} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION cairn.{signature} TO "{app_role()}"')


def downgrade() -> None:
    op.execute("DROP FUNCTION cairn.enter_session(uuid, bytea, text, text)")
    op.execute("DROP FUNCTION cairn.enter_request(uuid, text, text, text)")
    for table in ("oauth_states", "oauth_identities", "auth_providers", "auth_tokens",
                  "sessions", "users"):  # fmt: skip
        op.drop_table(table, schema=SCHEMA)
    op.drop_index("ix_audit_log_project_id_action_id", "audit_log", schema=SCHEMA)
    op.drop_column("audit_log", "source", schema=SCHEMA)
    op.drop_column("projects", "user_fields", schema=SCHEMA)
    op.drop_column("projects", "auth", schema=SCHEMA)
