"""The runtime role is fenced in: not a superuser, cannot bypass RLS, owns nothing, DML only."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from cairn.runtime import Runtime
from cairn.tenancy.service import Project


def test_app_role_attributes(runtime: Runtime) -> None:
    with runtime.db.unscoped() as conn:
        role = conn.execute(
            text(
                "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin "
                "FROM pg_roles WHERE rolname = current_user"
            )
        ).one()
    assert tuple(role) == (False, False, False, False, True)


def test_owner_role_cannot_log_in_or_bypass_rls(runtime: Runtime) -> None:
    with runtime.db.owner() as conn:
        role = conn.execute(
            text(
                "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles "
                "WHERE rolname = current_user"
            )
        ).one()
    assert tuple(role) == (False, False, False)


def test_app_role_owns_nothing(runtime: Runtime, project: Project) -> None:
    with runtime.db.owner() as conn:
        owned = conn.execute(
            text(
                "SELECT count(*) FROM pg_class WHERE relowner = "
                "(SELECT oid FROM pg_roles WHERE rolname = :r)"
            ),
            {"r": runtime.db.app_role},
        ).scalar()
        owned_schemas = conn.execute(
            text(
                "SELECT count(*) FROM pg_namespace WHERE nspowner = "
                "(SELECT oid FROM pg_roles WHERE rolname = :r)"
            ),
            {"r": runtime.db.app_role},
        ).scalar()
        project_schema_owner = conn.execute(
            text("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = :s"),
            {"s": project.schema_name},
        ).scalar()
    assert owned == 0 and owned_schemas == 0
    assert project_schema_owner == runtime.db.owner_role


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE cairn.evil (id int)",
        "DROP TABLE cairn.api_keys",
        "ALTER TABLE cairn.api_keys DISABLE ROW LEVEL SECURITY",
        "INSERT INTO cairn.projects (id, slug, name, schema_name) "
        "VALUES (gen_random_uuid(), 'evil', 'evil', 'evil')",
        "UPDATE cairn.projects SET name = 'evil'",
        "DELETE FROM cairn.audit_log",
        "UPDATE cairn.audit_log SET actor = 'evil'",
        "CREATE SCHEMA evil",
    ],
)
def test_app_role_may_not_change_structure_or_the_directory(
    runtime: Runtime, project: Project, statement: str
) -> None:
    with pytest.raises(ProgrammingError, match=r"permission denied|must be owner"):
        with runtime.db.tenant(project.id) as conn:
            conn.execute(text(statement))
