"""Operations every migration of a tenant table uses, so each table gets the same wall."""

from __future__ import annotations

from alembic import op

from cairn.db.metadata import CONTROL_SCHEMA

# Read once per statement (an InitPlan), not once per row; '' after a reset means "no project".
PROJECT_OF_TRANSACTION = "(SELECT NULLIF(current_setting('cairn.project_id', true), '')::uuid)"


def app_role() -> str:
    role: str = op.get_context().config.attributes["app_role"]
    return role


def enable_tenant_rls(table: str) -> None:
    qualified = f"{CONTROL_SCHEMA}.{table}"
    op.execute(f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {qualified} "
        f"USING (project_id = {PROJECT_OF_TRANSACTION}) "
        f"WITH CHECK (project_id = {PROJECT_OF_TRANSACTION})"
    )


def grant_to_app(table: str, privileges: str) -> None:
    op.execute(f'GRANT {privileges} ON {CONTROL_SCHEMA}.{table} TO "{app_role()}"')
