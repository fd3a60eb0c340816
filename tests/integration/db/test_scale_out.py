"""Scale-out readiness (Citus), proven from the catalog.

Distributing the control plane by `project_id` needs: `project_id` leading every tenant
table's primary key, `project_id` in every unique index (Citus enforces uniqueness per
shard), and every foreign key between tenant tables carrying `project_id` on both sides
(co-located joins). Every tenant table, collection tables in project schemas included,
must keep its RLS wall. Each checker returns its violations; the `*_would_catch_*` tests
run the same checkers against deliberately bad tables inside a rolled-back transaction,
so an empty answer from the real catalog means something.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import Connection, text

from cairn.db.metadata import CONTROL_SCHEMA
from cairn.db.models import TENANT_TABLES
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.factories import apply_yaml, make_project

CONTROL_TENANT_TABLES = sorted(f"{CONTROL_SCHEMA}.{t.name}" for t in TENANT_TABLES)
PROJECTS_TABLE = f"{CONTROL_SCHEMA}.projects"

BLOG = """
collections:
  - name: authors
    fields:
      name: {type: text, required: true}
  - name: posts
    fields:
      title: {type: text, required: true}
      author: {type: relation, collection: authors, on_delete: restrict}
      reviewers: {type: relation, collection: authors, multiple: true}
  - name: comments
    fields:
      post: {type: relation, collection: posts, on_delete: cascade, required: true}
      text: {type: text}
"""

# The tables named by the caller, as (display name, oid).
_TABLES = "SELECT t AS name, to_regclass(t)::oid AS oid FROM unnest(CAST(:tables AS text[])) AS t"
# schema.table for a relation oid, whatever the search_path.
_QUALIFIED = (
    "(SELECT n.nspname || '.' || r.relname FROM pg_class r "
    "JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = {})"
)


def primary_keys_not_led_by_project_id(conn: Connection, tables: Sequence[str]) -> list[str]:
    rows = conn.execute(
        text(
            f"SELECT t.name, (SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            f"   ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
            f"   WHERE i.indrelid = t.oid AND i.indisprimary) AS leading "
            f"FROM ({_TABLES}) AS t ORDER BY 1"
        ),
        {"tables": list(tables)},
    ).all()
    return [f"{r.name}: primary key led by {r.leading}" for r in rows if r.leading != "project_id"]


def unique_indexes_without_project_id(conn: Connection, tables: Sequence[str]) -> list[str]:
    return list(
        conn.execute(
            text(
                f"SELECT n.nspname || '.' || ic.relname FROM ({_TABLES}) AS t "
                f"JOIN pg_index i ON i.indrelid = t.oid AND i.indisunique "
                f"JOIN pg_class ic ON ic.oid = i.indexrelid "
                f"JOIN pg_namespace n ON n.oid = ic.relnamespace "
                f"WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid "
                f"  AND a.attname = 'project_id' AND a.attnum = ANY(i.indkey)) ORDER BY 1"
            ),
            {"tables": list(tables)},
        ).scalars()
    )


def foreign_keys_without_project_id(conn: Connection, tables: Sequence[str]) -> list[str]:
    """FKs between the given tables that do not pair `project_id` with `project_id`."""
    return list(
        conn.execute(
            text(
                f"SELECT {_QUALIFIED.format('c.conrelid')} || '.' || c.conname "
                f"FROM pg_constraint c WHERE c.contype = 'f' "
                f"  AND c.conrelid IN (SELECT oid FROM ({_TABLES}) AS t) "
                f"  AND c.confrelid IN (SELECT oid FROM ({_TABLES}) AS t) "
                f"  AND NOT EXISTS ("
                f"    SELECT 1 FROM unnest(c.conkey, c.confkey) AS k(child, parent) "
                f"    JOIN pg_attribute ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child "
                f"    JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent "
                f"    WHERE ca.attname = 'project_id' AND pa.attname = 'project_id') "
                f"ORDER BY 1"
            ),
            {"tables": list(tables)},
        ).scalars()
    )


def foreign_keys_leaving(
    conn: Connection, tables: Sequence[str], allowed: Sequence[str]
) -> list[str]:
    """FKs from the given tables to anything outside `tables` + `allowed` (under Citus a
    distributed table may only reference co-located tables or reference tables)."""
    return list(
        conn.execute(
            text(
                f"SELECT {_QUALIFIED.format('c.conrelid')} || '.' || c.conname || ' -> ' || "
                f"  {_QUALIFIED.format('c.confrelid')} FROM pg_constraint c "
                f"WHERE c.contype = 'f' AND c.conrelid IN (SELECT oid FROM ({_TABLES}) AS t) "
                f"  AND c.confrelid NOT IN (SELECT to_regclass(a)::oid "
                f"    FROM unnest(CAST(:tables AS text[]) || CAST(:allowed AS text[])) AS a) "
                f"ORDER BY 1"
            ),
            {"tables": list(tables), "allowed": list(allowed)},
        ).scalars()
    )


def tables_without_a_wall(conn: Connection, tables: Sequence[str]) -> list[str]:
    rows = conn.execute(
        text(
            f"SELECT t.name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced, "
            f"  (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
            f"FROM ({_TABLES}) AS t JOIN pg_class c ON c.oid = t.oid ORDER BY 1"
        ),
        {"tables": list(tables)},
    ).all()
    return [
        f"{r.name}: enabled={r.enabled} forced={r.forced} policies={r.policies}"
        for r in rows
        if not (r.enabled and r.forced and r.policies >= 1)
    ]


def project_schema_tables(conn: Connection) -> list[str]:
    """Every table (plain or partitioned) in every project schema."""
    return list(
        conn.execute(
            text(
                "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN cairn.projects p ON p.schema_name = n.nspname "
                "WHERE c.relkind IN ('r', 'p') ORDER BY 1"
            )
        ).scalars()
    )


@pytest.fixture
def blog(runtime: Runtime) -> Project:
    project = make_project(runtime)
    apply_yaml(runtime, project, BLOG)
    return project


@pytest.fixture
def owner(runtime: Runtime) -> Iterator[Connection]:
    with runtime.db.owner() as conn:
        yield conn


def test_every_control_plane_tenant_table_is_keyed_by_project_id_first(owner: Connection) -> None:
    assert len(CONTROL_TENANT_TABLES) == len(TENANT_TABLES) > 0
    assert primary_keys_not_led_by_project_id(owner, CONTROL_TENANT_TABLES) == []


def test_every_unique_index_on_a_tenant_table_includes_project_id(owner: Connection) -> None:
    assert unique_indexes_without_project_id(owner, CONTROL_TENANT_TABLES) == []


def test_foreign_keys_between_tenant_tables_carry_project_id(owner: Connection) -> None:
    fks = owner.execute(
        text(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
            "AND conrelid = ANY(CAST(:t AS regclass[])) AND confrelid = ANY(CAST(:t AS regclass[]))"
        ),
        {"t": CONTROL_TENANT_TABLES},
    ).scalar()
    assert fks, "expected tenant-to-tenant foreign keys to check"
    assert foreign_keys_without_project_id(owner, CONTROL_TENANT_TABLES) == []


def test_tenant_tables_reference_only_tenant_tables_or_projects(owner: Connection) -> None:
    assert foreign_keys_leaving(owner, CONTROL_TENANT_TABLES, [PROJECTS_TABLE]) == []


def test_no_tenant_table_lacks_forced_rls_and_a_policy(owner: Connection, blog: Project) -> None:
    collection_tables = project_schema_tables(owner)
    assert {f"{blog.schema_name}.{n}" for n in ("authors", "posts", "comments")} <= set(
        collection_tables
    )
    relations = owner.execute(
        text(
            "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE c.contype = 'f' AND n.nspname = :s"
        ),
        {"s": blog.schema_name},
    ).scalar()
    assert relations, "the blog's relations should be foreign keys"
    assert tables_without_a_wall(owner, CONTROL_TENANT_TABLES + collection_tables) == []


# Mutation checks: each checker fails on a deliberately bad schema (always rolled back).

BAD_DDL = [
    # A well-formed tenant parent...
    "CREATE TABLE cairn.zz_parent (project_id uuid NOT NULL, id uuid NOT NULL, "
    " PRIMARY KEY (project_id, id), UNIQUE (id))",
    "ALTER TABLE cairn.zz_parent ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE cairn.zz_parent FORCE ROW LEVEL SECURITY",
    "CREATE POLICY wall ON cairn.zz_parent USING (true)",
    # ...and a child that gets everything wrong: key led by id, a unique index without
    # project_id, an FK on id alone, one to a non-tenant table, and no RLS at all.
    "CREATE TABLE cairn.zz_child (id uuid PRIMARY KEY, project_id uuid NOT NULL, "
    " parent_id uuid REFERENCES cairn.zz_parent (id), admin_id uuid REFERENCES cairn.admins (id))",
    # RLS enabled but not forced; forced but without a policy.
    "CREATE TABLE cairn.zz_unforced (project_id uuid, id uuid, PRIMARY KEY (project_id, id))",
    "ALTER TABLE cairn.zz_unforced ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY wall ON cairn.zz_unforced USING (true)",
    "CREATE TABLE cairn.zz_no_policy (project_id uuid, id uuid, PRIMARY KEY (project_id, id))",
    "ALTER TABLE cairn.zz_no_policy ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE cairn.zz_no_policy FORCE ROW LEVEL SECURITY",
]
BAD = ["cairn.zz_parent", "cairn.zz_child", "cairn.zz_unforced", "cairn.zz_no_policy"]


@pytest.fixture
def bad_schema(runtime: Runtime) -> Iterator[Connection]:
    with runtime.db.owner_engine.connect() as conn, conn.begin() as tx:
        conn.execute(text(f'SET LOCAL ROLE "{runtime.db.owner_role}"'))
        for statement in BAD_DDL:
            conn.execute(text(statement))
        yield conn
        tx.rollback()


def test_the_key_checkers_would_catch_a_bad_table(bad_schema: Connection) -> None:
    tables = CONTROL_TENANT_TABLES + BAD
    assert primary_keys_not_led_by_project_id(bad_schema, tables) == [
        "cairn.zz_child: primary key led by id"
    ]
    assert unique_indexes_without_project_id(bad_schema, tables) == [
        "cairn.zz_child_pkey",
        "cairn.zz_parent_id_key",
    ]


def test_the_foreign_key_checkers_would_catch_a_bad_table(bad_schema: Connection) -> None:
    tables = CONTROL_TENANT_TABLES + BAD
    assert foreign_keys_without_project_id(bad_schema, tables) == [
        "cairn.zz_child.zz_child_parent_id_fkey"
    ]
    assert foreign_keys_leaving(bad_schema, tables, [PROJECTS_TABLE]) == [
        "cairn.zz_child.zz_child_admin_id_fkey -> cairn.admins"
    ]


def test_the_wall_checker_would_catch_a_bad_table(bad_schema: Connection) -> None:
    assert [v.split(":")[0] for v in tables_without_a_wall(bad_schema, BAD)] == [
        "cairn.zz_child",
        "cairn.zz_no_policy",
        "cairn.zz_unforced",
    ]


def test_the_wall_checker_would_catch_a_bare_collection_table(
    runtime: Runtime, blog: Project
) -> None:
    with runtime.db.owner_engine.connect() as conn, conn.begin() as tx:
        conn.execute(text(f'SET LOCAL ROLE "{runtime.db.owner_role}"'))
        conn.execute(text(f'CREATE TABLE "{blog.schema_name}".sneaky (id uuid PRIMARY KEY)'))
        conn.execute(text(f'ALTER TABLE "{blog.schema_name}".posts NO FORCE ROW LEVEL SECURITY'))
        mine = [t for t in project_schema_tables(conn) if t.startswith(f"{blog.schema_name}.")]
        assert tables_without_a_wall(conn, mine) == [
            f"{blog.schema_name}.posts: enabled=True forced=False policies=1",
            f"{blog.schema_name}.sneaky: enabled=False forced=False policies=0",
        ]
        tx.rollback()
