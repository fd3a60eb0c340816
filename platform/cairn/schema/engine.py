"""Plan, then apply: the desired collection definitions of a project are diffed against the
registered ones (which mirror the live tables), checked against the data in those tables, and
applied as DDL through Alembic's Operations inside the caller's transaction.

Steps say whether they are destructive (drop, narrowing) and whether the current data blocks
them (nulls for `required`, duplicates for `unique`, values a new type cannot hold): both are
found before anything runs, so a refused plan changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, text

from cairn.errors import Conflict, Invalid
from cairn.progress import QUIET, Progress
from cairn.schema import changes
from cairn.schema.definitions import CollectionDef, FieldDef, IndexDef
from cairn.schema.tables import (
    ON_DELETE_SQL,
    build_table,
    column_type,
    constraint_name,
    data_column,
    index_name,
    relation_index,
    select_check,
    server_default,
)

# Indexes on existing tables at least this large are built concurrently, after the commit.
CONCURRENT_INDEX_ROWS = 100_000

# Order of execution: structure first, data-dependent constraints after, drops last.
PHASES = (
    "create_collection", "rename_field", "drop_constraint", "alter_field", "add_field",
    "add_constraint", "add_index", "drop_field", "drop_collection", "registry",
)  # fmt: skip

Run = Callable[["Context"], None]


@dataclass
class Step:
    action: str
    collection: str
    summary: str
    subject: str | None = None
    destructive: bool = False
    blocked: str | None = None
    phase: str = "registry"
    run: Run | None = field(default=None, repr=False, compare=False)
    # Built with CREATE INDEX CONCURRENTLY after the transaction commits (large tables).
    concurrent: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "collection": self.collection,
            "subject": self.subject,
            "summary": self.summary,
            "destructive": self.destructive,
            "blocked": self.blocked,
            "concurrent": self.concurrent,
        }


@dataclass
class Plan:
    steps: list[Step]

    @property
    def destructive(self) -> bool:
        return any(s.destructive for s in self.steps)

    @property
    def blocked(self) -> list[Step]:
        return [s for s in self.steps if s.blocked]

    @property
    def empty(self) -> bool:
        return not self.steps

    @property
    def concurrent(self) -> list[Step]:
        return [s for s in self.steps if s.concurrent]

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": [s.to_dict() for s in self.steps],
            "destructive": self.destructive,
            "blocked": bool(self.blocked),
        }

    def digest(self) -> str:
        """What a person confirms when they review the plan: its steps, with the counts of
        affected records."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


@dataclass
class Context:
    conn: Connection
    ops: Operations
    schema: str
    app_role: str
    project_id: str
    desired: dict[str, CollectionDef]

    def qualified(self, name: str) -> str:
        return f'"{self.schema}"."{name}"'


class Planner:
    """Builds the plan for one project. Data checks run as queries on `conn` right away.

    SQL here is built from identifiers only: collection and field names match
    `[a-z][a-z0-9_]*` (definitions.NAME) and schema names are `prj_<hex>`; values never are.
    """

    def __init__(self, conn: Connection, schema: str) -> None:
        self.conn = conn
        self.schema = schema
        self.steps: list[Step] = []
        self.created: set[str] = set()
        self._large: dict[str, bool] = {}

    def large(self, collection: str) -> bool:
        """Big enough that building an index inside the transaction would block writes for
        too long (the planner's estimate, from pg_class.reltuples)."""
        if collection not in self._large:
            estimate = self.conn.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                {"t": f'"{self.schema}"."{collection}"'},
            ).scalar()
            self._large[collection] = (estimate or 0) >= CONCURRENT_INDEX_ROWS
        return self._large[collection]

    def live_indexes(self, collection: str) -> set[str]:
        """Names of the table's valid indexes (an interrupted concurrent build leaves an
        invalid one, which counts as missing)."""
        return set(
            self.conn.execute(
                text(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indrelid = CAST(:t AS regclass) AND i.indisvalid"
                ),
                {"t": f'"{self.schema}"."{collection}"'},
            ).scalars()
        )

    def count(self, collection: str, condition: str) -> int:
        sql = f'SELECT count(*) FROM "{self.schema}"."{collection}" WHERE {condition}'  # noqa: S608
        return int(self.conn.execute(text(sql)).scalar_one())

    def rows(self, collection: str) -> int:
        return self.count(collection, "true")

    def add(self, step: Step) -> None:
        self.steps.append(step)

    def plan(self, current: dict[str, CollectionDef], desired: dict[str, CollectionDef]) -> Plan:
        self._check_relations(desired)
        self.created = set(desired.keys() - current.keys())
        for name in sorted(self.created):
            self._create(desired[name])
        for name in sorted(current.keys() & desired.keys()):
            self._change(current[name], desired[name])
        for name in sorted(current.keys() - desired.keys()):
            self._drop(current[name], desired)
        order = {phase: i for i, phase in enumerate(PHASES)}
        return Plan(sorted(self.steps, key=lambda s: order[s.phase]))

    def _check_relations(self, desired: dict[str, CollectionDef]) -> None:
        errors: dict[str, list[str]] = {}
        for coll in desired.values():
            for f in coll.relations:
                if f.collection not in desired:
                    errors.setdefault(f"{coll.name}.fields.{f.name}.collection", []).append(
                        f"no collection '{f.collection}' in this project"
                    )
            declared = {f.name for f in coll.fields}
            for f in coll.fields:
                if f.renamed_from and f.renamed_from in declared:
                    errors.setdefault(f"{coll.name}.fields.{f.name}.renamed_from", []).append(
                        f"'{f.renamed_from}' is still declared"
                    )
        if errors:
            raise Invalid("the collections refer to things that do not exist", errors=errors)

    # -- whole collections ---------------------------------------------------------------

    def _create(self, coll: CollectionDef) -> None:
        def run(ctx: Context) -> None:
            table = build_table(coll, ctx.schema, MetaData())
            table.create(ctx.conn)
            qualified = ctx.qualified(coll.name)
            wall = "(SELECT NULLIF(current_setting('cairn.project_id', true), '')::uuid)"
            for statement in (
                f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY",
                f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY",
                # The whole table belongs to one project: the policy compares a constant.
                f"CREATE POLICY project_wall ON {qualified} "
                f"USING ({wall} = '{ctx.project_id}'::uuid) "
                f"WITH CHECK ({wall} = '{ctx.project_id}'::uuid)",
                f'GRANT SELECT, INSERT, UPDATE, DELETE ON {qualified} TO "{ctx.app_role}"',
            ):
                ctx.conn.execute(text(statement))

        self.add(
            Step("create_collection", coll.name, f"create collection {coll.name}",
                 phase="create_collection", run=run)
        )  # fmt: skip
        for f in coll.relations:
            if not f.multiple:
                self._add_foreign_key(coll.name, f)

    def _drop(self, coll: CollectionDef, desired: dict[str, CollectionDef]) -> None:
        referrers = [
            f"{other.name}.{f.name}"
            for other in desired.values()
            for f in other.relations
            if f.collection == coll.name
        ]
        rows = self.rows(coll.name)

        def run(ctx: Context) -> None:
            ctx.conn.execute(text(f"DROP TABLE {ctx.qualified(coll.name)}"))

        self.add(
            Step(
                "drop_collection",
                coll.name,
                f"drop collection {coll.name} and its {rows} record(s)",
                destructive=True,
                blocked=f"still related from {', '.join(referrers)}" if referrers else None,
                phase="drop_collection",
                run=run,
            )
        )

    # -- one collection's fields, indexes and rules --------------------------------------

    def _change(self, old: CollectionDef, new: CollectionDef) -> None:
        name = new.name
        matched: dict[str, FieldDef] = {}  # new field name → the old field it continues
        for f in new.fields:
            previous = old.field(f.name)
            if previous is None and f.renamed_from:
                previous = old.field(f.renamed_from)
                if previous is None:
                    raise Invalid(
                        errors={
                            f"{name}.fields.{f.name}.renamed_from": [
                                f"there is no field '{f.renamed_from}' to rename"
                            ]
                        }
                    )
                self._rename(name, previous.name, f.name)
            if previous is not None:
                matched[f.name] = previous
        continued = {p.name for p in matched.values()}
        for f in new.fields:
            if f.name in matched:
                self._alter(name, matched[f.name], f)
            else:
                self._add_field(name, f)
        for f in old.fields:
            if f.name not in continued:
                self._drop_field(name, f)
        renames = {p.name: n for n, p in matched.items() if p.name != n}
        dropped = {f.name for f in old.fields if f.name not in continued}
        old_indexes: set[IndexDef] = set()
        for index in old.indexes:
            renamed = IndexDef(tuple(renames.get(c, c) for c in index.fields), index.unique)
            if renamed != index:
                self._rename_index(
                    name,
                    index_name(name, index.fields, index.unique),
                    index_name(name, renamed.fields, renamed.unique),
                )
            old_indexes.add(renamed)
        for index in new.indexes:
            if index not in old_indexes:
                self._add_index(name, index)
        for index in old_indexes - set(new.indexes):
            # Postgres drops an index with any of its columns; only the others need a step.
            if not dropped & set(index.fields):
                self._drop_index(name, index)
        if old.rules != new.rules:
            self.add(Step("set_rules", name, f"set the access rules of {name}"))
        if not renames:
            self._repair_indexes(new)

    def _repair_indexes(self, coll: CollectionDef) -> None:
        """Indexes the definition implies but the live table lacks (an interrupted concurrent
        build, a hand-dropped index) are planned again: the table, not only the registry,
        is what the plan is diffed against."""
        planned = {s.subject for s in self.steps if s.collection == coll.name}
        live = self.live_indexes(coll.name)
        for index in build_table(coll, self.schema, MetaData()).indexes:
            name = str(index.name)
            if name in live or name in planned:
                continue
            columns = [c.name for c in index.columns]
            self._index_step(
                coll.name,
                name,
                columns,
                summary=f"rebuild missing index on {coll.name} ({', '.join(columns)})",
                unique=bool(index.unique),
                using=index.dialect_options["postgresql"].get("using"),
            )

    def _rename(self, coll: str, old: str, new: str) -> None:
        def run(ctx: Context) -> None:
            ctx.ops.alter_column(coll, old, new_column_name=new, schema=ctx.schema)
            # The field's own index and constraints are named after it: keep them findable.
            for prefix in ("uq", "ix"):
                _rename_index(
                    ctx, constraint_name(prefix, coll, old), constraint_name(prefix, coll, new)
                )
            for prefix in ("ck", "fk"):
                _rename_constraint(
                    ctx,
                    coll,
                    constraint_name(prefix, coll, old),
                    constraint_name(prefix, coll, new),
                )

        self.add(
            Step("rename_field", coll, f"rename field {coll}.{old} to {new} (data kept)", new,
                 phase="rename_field", run=run)
        )  # fmt: skip

    def _add_field(self, coll: str, f: FieldDef) -> None:
        blocked = None
        if f.required and f.default is None and self.rows(coll):
            blocked = (
                f"{self.rows(coll)} existing record(s) would have no {f.name}; "
                "give the field a default or add it as optional first"
            )

        def run(ctx: Context) -> None:
            ctx.ops.add_column(coll, data_column(f), schema=ctx.schema)

        self.add(
            Step("add_field", coll, f"add {f.type} field {coll}.{f.name}", f.name,
                 blocked=blocked, phase="add_field", run=run)
        )  # fmt: skip
        self._field_constraints(coll, f, check_data=False)

    def _field_constraints(self, coll: str, f: FieldDef, *, check_data: bool) -> None:
        """Everything a field brings besides its column: select check, unique index, the
        relation's foreign key and index."""
        if f.type == "select":
            self._add_select_check(coll, f, check_data=check_data)
        if f.unique:
            self._add_unique(coll, f, check_data=check_data)
        if f.type == "relation":
            if not f.multiple:
                self._add_foreign_key(coll, f)
            self._add_relation_index(coll, f)

    def _drop_field(self, coll: str, f: FieldDef) -> None:
        filled = self.count(coll, f'"{f.name}" IS NOT NULL')

        def run(ctx: Context) -> None:
            ctx.ops.drop_column(coll, f.name, schema=ctx.schema)

        self.add(
            Step("drop_field", coll, f"drop field {coll}.{f.name} ({filled} value(s) lost)",
                 f.name, destructive=True, phase="drop_field", run=run)
        )  # fmt: skip

    def _alter(self, coll: str, old: FieldDef, new: FieldDef) -> None:
        # Data checks run now, against the column as named today; DDL runs after renames.
        current = old.name
        old = FieldDef(**{**old.__dict__, "name": new.name, "renamed_from": None})
        if old == new:
            return
        subject = f"{coll}.{new.name}"
        if old.type == "relation" and new.type == "relation" and old.collection != new.collection:
            raise Invalid(
                errors={f"{coll}.fields.{new.name}.collection": [
                    "a relation cannot point at another collection; add a new field instead"
                ]}
            )  # fmt: skip
        type_changed = (old.type, old.multiple) != (new.type, new.multiple)
        converted = f'"{current}"'  # what the column will hold, as SQL over today's data
        if type_changed:
            converted = self._change_type(coll, old, new, current) or converted
        if old.type == "select" and (old.values != new.values or type_changed):
            self._drop_constraint(coll, constraint_name("ck", coll, new.name), "check")
        if new.type == "select" and (old.values != new.values or type_changed):
            self._add_select_check(coll, new, check_data=True, value_sql=converted)
        if old.unique and not new.unique:
            self._drop_index_named(coll, constraint_name("uq", coll, new.name), subject)
        if new.unique and not old.unique:
            self._add_unique(coll, new, check_data=True, current=current)
        relation_fk_changed = old.type == "relation" and (
            old.delete_action != new.delete_action or type_changed
        )
        if relation_fk_changed and not old.multiple:
            self._drop_constraint(coll, constraint_name("fk", coll, new.name), "foreignkey")
        if relation_fk_changed and not new.multiple:
            self._add_foreign_key(coll, new)
        if old.required != new.required:
            self._set_required(coll, new, current)
        if old.default != new.default:
            self._set_default(coll, new)
        validation = ("min", "max", "min_length", "max_length", "pattern")
        if any(getattr(old, k) != getattr(new, k) for k in validation):
            self.add(
                Step("set_validation", coll, f"change the validation of {subject} "
                     "(applies to writes from now on)", new.name)
            )  # fmt: skip

    def _change_type(self, coll: str, old: FieldDef, new: FieldDef, current: str) -> str | None:
        """Plan the type change; return the converted value as SQL over today's column."""
        change = changes.type_change(old, new)
        if isinstance(change, str):
            raise Invalid(errors={f"{coll}.fields.{new.name}.type": [change]})
        violations = change.violations_sql(current)
        bad = self.count(coll, violations) if violations else 0
        kind = (f"{old.type}{'[]' if old.multiple else ''} to "
                f"{new.type}{'[]' if new.multiple else ''}")  # fmt: skip

        def run(ctx: Context) -> None:
            using = change.using_sql(new.name)
            if using is None:
                return
            ctx.ops.alter_column(
                coll, new.name, type_=column_type(new), postgresql_using=using, schema=ctx.schema,
            )  # fmt: skip

        self.add(
            Step("alter_field", coll, f"change {coll}.{new.name} from {kind}", new.name,
                 destructive=change.destructive,
                 blocked=f"{bad} record(s) cannot become {new.type}" if bad else None,
                 phase="alter_field", run=run)
        )  # fmt: skip
        return change.using_sql(current)

    def _set_required(self, coll: str, f: FieldDef, current: str) -> None:
        nulls = self.count(coll, f'"{current}" IS NULL') if f.required else 0

        def run(ctx: Context) -> None:
            ctx.ops.alter_column(coll, f.name, nullable=not f.required, schema=ctx.schema)

        verb = "require" if f.required else "stop requiring"
        self.add(
            Step("alter_field", coll, f"{verb} {coll}.{f.name}", f.name,
                 blocked=f"{nulls} record(s) have no {f.name}" if nulls else None,
                 phase="add_constraint", run=run)
        )  # fmt: skip

    def _set_default(self, coll: str, f: FieldDef) -> None:
        def run(ctx: Context) -> None:
            ctx.ops.alter_column(
                coll, f.name, server_default=server_default(f) if f.default is not None else None,
                schema=ctx.schema,
            )  # fmt: skip

        self.add(
            Step("alter_field", coll, f"set the default of {coll}.{f.name}", f.name,
                 phase="alter_field", run=run)
        )  # fmt: skip

    def _add_select_check(
        self, coll: str, f: FieldDef, *, check_data: bool, value_sql: str | None = None
    ) -> None:
        outside = 0
        if check_data:
            values = ", ".join("'" + v.replace("'", "''") + "'" for v in f.values or ())
            column = value_sql or f'"{f.name}"'
            condition = (
                f"NOT ({column} <@ ARRAY[{values}]::text[])" if f.multiple
                else f"{column} NOT IN ({values})"
            )  # fmt: skip
            outside = self.count(coll, condition)

        def run(ctx: Context) -> None:
            check = select_check(coll, f)
            ctx.ops.create_check_constraint(str(check.name), coll, check.sqltext, schema=ctx.schema)

        self.add(
            Step("add_constraint", coll, f"limit {coll}.{f.name} to {', '.join(f.values or ())}",
                 f.name, blocked=f"{outside} record(s) hold other values" if outside else None,
                 phase="add_constraint", run=run)
        )  # fmt: skip

    def _add_unique(
        self, coll: str, f: FieldDef, *, check_data: bool, current: str | None = None
    ) -> None:
        dupes = 0
        if check_data:
            col = f'"{current or f.name}"'
            dupes = self.count(
                coll,
                f'{col} IN (SELECT {col} FROM "{self.schema}"."{coll}" '  # noqa: S608
                f"WHERE {col} IS NOT NULL GROUP BY 1 HAVING count(*) > 1)",
            )
        self._index_step(
            coll,
            constraint_name("uq", coll, f.name),
            [f.name],
            summary=f"make {coll}.{f.name} unique",
            unique=True,
            blocked=f"{dupes} record(s) share a value" if dupes else None,
        )

    def _add_foreign_key(self, coll: str, f: FieldDef) -> None:
        name = constraint_name("fk", coll, f.name)

        def run(ctx: Context) -> None:
            ctx.ops.create_foreign_key(
                name, coll, str(f.collection), [f.name], ["id"],
                ondelete=ON_DELETE_SQL[f.delete_action],
                source_schema=ctx.schema, referent_schema=ctx.schema,
            )  # fmt: skip

        self.add(
            Step("add_constraint", coll,
                 f"relate {coll}.{f.name} to {f.collection} (on delete {f.delete_action})",
                 f.name, phase="add_constraint", run=run)
        )  # fmt: skip

    def _add_relation_index(self, coll: str, f: FieldDef) -> None:
        self._index_step(
            coll,
            str(relation_index(coll, f).name),
            [f.name],
            summary=f"index {coll}.{f.name}",
            using="gin" if f.multiple else None,
        )

    def _index_step(
        self,
        coll: str,
        name: str,
        columns: list[str],
        *,
        summary: str,
        unique: bool = False,
        using: str | None = None,
        blocked: str | None = None,
    ) -> None:
        """Every index on an existing table is made here: inside the transaction, or for a
        large table concurrently after it commits (and the plan says so)."""
        concurrent = coll not in self.created and self.large(coll)

        def run(ctx: Context) -> None:
            if concurrent:
                # A build interrupted earlier leaves an invalid index of the same name.
                ctx.ops.drop_index(
                    name, table_name=coll, schema=ctx.schema, if_exists=True,
                    postgresql_concurrently=True,
                )  # fmt: skip
            ctx.ops.create_index(
                name, coll, columns, unique=unique, schema=ctx.schema,
                postgresql_using=using, postgresql_concurrently=concurrent,
            )  # fmt: skip

        if concurrent:
            summary += " (built concurrently after the other steps commit)"
        self.add(
            Step("add_index", coll, summary, name, blocked=blocked, phase="add_index",
                 run=run, concurrent=concurrent)
        )  # fmt: skip

    def _rename_index(self, coll: str, old: str, new: str) -> None:
        def run(ctx: Context) -> None:
            _rename_index(ctx, old, new)

        self.add(
            Step("rename_index", coll, f"rename index {old} to {new}", new,
                 phase="rename_field", run=run)
        )  # fmt: skip

    def _drop_constraint(self, coll: str, name: str, kind: str) -> None:
        def run(ctx: Context) -> None:
            ctx.ops.drop_constraint(name, coll, type_=kind, schema=ctx.schema)

        self.add(
            Step("drop_constraint", coll, f"drop constraint {name}", name,
                 phase="drop_constraint", run=run)
        )  # fmt: skip

    def _add_index(self, coll: str, index: IndexDef) -> None:
        name = index_name(coll, index.fields, index.unique)
        blocked = None
        if index.unique:
            columns = ", ".join(f'"{c}"' for c in index.fields)
            dupes = self.count(
                coll,
                f'({columns}) IN (SELECT {columns} FROM "{self.schema}"."{coll}" '  # noqa: S608
                f"GROUP BY {columns} HAVING count(*) > 1)",
            )
            blocked = f"{dupes} record(s) share values" if dupes else None
        kind = "unique index" if index.unique else "index"
        self._index_step(
            coll,
            name,
            list(index.fields),
            summary=f"add {kind} on {coll} ({', '.join(index.fields)})",
            unique=index.unique,
            blocked=blocked,
        )

    def _drop_index(self, coll: str, index: IndexDef) -> None:
        self._drop_index_named(
            coll,
            index_name(coll, index.fields, index.unique),
            f"{coll} ({', '.join(index.fields)})",
        )

    def _drop_index_named(self, coll: str, name: str, subject: str) -> None:
        def run(ctx: Context) -> None:
            ctx.ops.drop_index(name, table_name=coll, schema=ctx.schema, if_exists=True)

        self.add(
            Step("drop_index", coll, f"drop index on {subject}", name,
                 phase="drop_constraint", run=run)
        )  # fmt: skip


def _rename_index(ctx: Context, old: str, new: str) -> None:
    ctx.conn.execute(text(f'ALTER INDEX IF EXISTS "{ctx.schema}"."{old}" RENAME TO "{new}"'))


def _rename_constraint(ctx: Context, table: str, old: str, new: str) -> None:
    exists = ctx.conn.execute(
        text(
            "SELECT 1 FROM pg_constraint "
            "WHERE conname = :name AND conrelid = CAST(:table AS regclass)"
        ),
        {"name": old, "table": ctx.qualified(table)},
    ).first()
    if exists:
        ctx.conn.execute(
            text(f'ALTER TABLE {ctx.qualified(table)} RENAME CONSTRAINT "{old}" TO "{new}"')
        )


def plan(
    conn: Connection,
    schema: str,
    current: dict[str, CollectionDef],
    desired: dict[str, CollectionDef],
) -> Plan:
    return Planner(conn, schema).plan(current, desired)


def execute(
    conn: Connection,
    the_plan: Plan,
    *,
    schema: str,
    app_role: str,
    project_id: str,
    desired: dict[str, CollectionDef],
    allow_destructive: bool,
    progress: Progress = QUIET,
) -> None:
    """Run a plan, or refuse it whole: nothing runs if any step is blocked, or destructive
    without `allow_destructive`."""
    if the_plan.blocked:
        raise Conflict(
            "the current data does not allow this change; nothing was applied",
            plan=the_plan.to_dict(),
        )
    if the_plan.destructive and not allow_destructive:
        raise Conflict(
            "the plan has destructive steps; repeat with allow_destructive to apply it",
            plan=the_plan.to_dict(),
        )
    ops = Operations(MigrationContext.configure(conn))
    ctx = Context(conn, ops, schema, app_role, project_id, desired)
    for step in the_plan.steps:
        if step.run is not None and not step.concurrent:
            step.run(ctx)
            progress.advance(1)


def execute_concurrent(
    conn: Connection, the_plan: Plan, *, schema: str, progress: Progress = QUIET
) -> None:
    """The plan's concurrent index builds, on an autocommit connection, after the rest of
    the plan committed. A build that fails leaves no valid index, so the next plan has it."""
    ops = Operations(MigrationContext.configure(conn))
    ctx = Context(conn, ops, schema, "", "", {})
    for step in the_plan.concurrent:
        assert step.run is not None
        step.run(ctx)
        progress.advance(1)
