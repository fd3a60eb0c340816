"""cairn.enter_request: a request's first statement, in one round trip.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op
from cairn_migrations.tenant_ops import app_role

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SECURITY INVOKER (the default): it runs as the app role, so RLS applies to every
    # SELECT in it, after the context it has just set. Settings are transaction-local.
    op.execute(
        """
        CREATE FUNCTION cairn.enter_request(p_project uuid, p_prefix text, p_collection text)
        RETURNS TABLE (
            key_id uuid, key_hash bytea, scope text, expires_at timestamptz,
            revoked_at timestamptz, last_used_at timestamptz, collection_version bigint
        )
        LANGUAGE plpgsql VOLATILE AS $$
        DECLARE
            k cairn.api_keys%ROWTYPE;
        BEGIN
            PERFORM set_config('cairn.project_id', p_project::text, true);
            SELECT * INTO k FROM cairn.api_keys
             WHERE project_id = p_project AND prefix = p_prefix;
            IF NOT FOUND THEN
                RETURN;
            END IF;
            -- Claims for the caller; discarded with the transaction if the hash does not match.
            PERFORM set_config('cairn.principal', 'api_key', true),
                    set_config('cairn.scope', k.scope, true),
                    set_config('cairn.user_id', '', true);
            RETURN QUERY SELECT k.id, k.key_hash, k.scope::text, k.expires_at, k.revoked_at,
                                k.last_used_at,
                                (SELECT c.version FROM cairn.collections c
                                  WHERE c.project_id = p_project AND c.name = p_collection);
        END
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION cairn.enter_request(uuid, text, text) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION cairn.enter_request(uuid, text, text) TO "{app_role()}"')


def downgrade() -> None:
    op.execute("DROP FUNCTION cairn.enter_request(uuid, text, text)")
