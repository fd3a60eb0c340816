"""Importing a project archive as a new project of this instance: whole or not at all.

Everything happens in the caller's one owner transaction: the project and its schema are
created, the project file applied (tables, indexes, rules, settings), the rows loaded, and a
failure anywhere leaves nothing behind.

Rows are loaded the way Postgres recommends for bulk loads: relation foreign keys and
secondary indexes are dropped first and made again once every row is in (which also lets
relations form cycles), and rows go through a staging table with COPY, then into the real
table with one INSERT … SELECT per batch (COPY itself is refused on tables with RLS).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
import yaml
from sqlalchemy import (
    Connection,
    Table,
    Text,
    bindparam,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError

from cairn.audit import service as audit
from cairn.backup.archive import ArchiveReader, Manifest, Member
from cairn.backup.export import CARRIED_TABLES
from cairn.db.migrate import known_revisions
from cairn.db.tenant import ContextMode, enter_tenant
from cairn.errors import Conflict, Invalid
from cairn.progress import QUIET, Progress
from cairn.schedules.service import load_schedule, next_tick, set_next_runs
from cairn.schema import service as collections
from cairn.schema.tables import build_table
from cairn.tenancy import service as tenancy
from cairn.tenancy.apply import apply_project
from cairn.tenancy.project_file import load_document
from cairn.tenancy.service import Project
from cairn.users.providers import load_provider
from cairn.webhooks import service as webhooks
from cairn.webhooks.service import load_webhook

BATCH_LINES = 5000
# Rows whose hashes or sealed values only the secret key that made them can use.
KEYED_TABLES = ("api_keys", "auth_providers")
_STAGING = "pg_temp.cairn_import_rows"
# The project file's sections an import applies; webhooks, schedules and providers come
# from their tables instead, with their ids, state and sealed secrets.
_APPLIED_SECTIONS = ("collections", "users", "auth", "limits")


@dataclass
class Imported:
    project: Project
    # Members not restored, and why (a different secret key).
    skipped: list[str] = field(default_factory=list)
    # New signing secrets ("webhook <name>", "schedule <name>"), made when the old ones could
    # not be carried: shown once.
    new_secrets: dict[str, str] = field(default_factory=dict)


def check_archive(reader: ArchiveReader, check: str, *, reset_credentials: bool) -> None:
    """Refuse, before anything is written, an archive this instance cannot restore whole."""
    manifest = reader.manifest
    if manifest.schema_revision not in known_revisions():
        raise Invalid(
            f"the archive was written by a newer Cairn (schema {manifest.schema_revision}); "
            "upgrade this instance before importing it"
        )
    if not same_secret_key(manifest, check) and not reset_credentials:
        raise Conflict(
            "the archive comes from an instance with a different CAIRN_SECRET_KEY, so its API "
            "keys, webhook signing secrets and OAuth client secrets cannot work here; import "
            "with the same secret key, or repeat with reset_credentials to leave keys and "
            "providers out and give webhooks new secrets"
        )


def same_secret_key(manifest: Manifest, check: str) -> bool:
    return hmac.compare_digest(manifest.credentials_check, check)


def import_archive(
    conn: Connection,
    reader: ArchiveReader,
    *,
    slug: str,
    check: str,
    app_role: str,
    tenant_context: ContextMode,
    box: webhooks.SecretBox,
    provider_box: webhooks.SecretBox,
    actor: str,
    source: str,
    reset_credentials: bool = False,
    progress: Progress = QUIET,
) -> Imported:
    check_archive(reader, check, reset_credentials=reset_credentials)
    manifest = reader.manifest
    definitions = _definitions(reader)
    project = tenancy.create_project(conn, slug=slug, name=manifest.name, app_role=app_role)
    enter_tenant(conn, tenant_context, project.id, {"source": source})
    apply_project(
        conn,
        box,
        project,
        definitions,
        provider_box=provider_box,
        actor=actor,
        app_role=app_role,
        allow_private=True,
        allow_destructive=True,
    )
    imported = Imported(project)
    progress.expect(manifest.rows)
    carry_keyed = same_secret_key(manifest, check)
    conn.execute(text("CREATE TEMP TABLE cairn_import_rows (line json) ON COMMIT DROP"))
    tables = {
        name: build_table(r.definition, project.schema_name)
        for name, r in collections.registered(conn, project).items()
    }
    records = {m.source: m for m in manifest.members if m.kind == "records"}
    for name in tables.keys() - records.keys():
        raise Invalid(f"the archive lacks records/{name}.jsonl for its collection {name}")
    loosened = _loosen(conn, project.schema_name)
    for member in records.values():
        if member.source not in tables:
            raise Invalid(f"{member.name}: the archive declares no collection {member.source}")
        _load(conn, reader, member, tables[member.source], None, progress)
    for statement in loosened:
        _run(conn, statement, "restoring indexes and relations")
    carried = {m.source: m for m in manifest.members if m.kind == "table"}
    strange = sorted(set(carried) - {t.name for t in CARRIED_TABLES})
    if strange:
        raise Invalid(f"the archive holds tables this Cairn does not restore: {', '.join(strange)}")
    for table in CARRIED_TABLES:
        found = carried.get(table.name)
        if found is None:
            continue
        if table.name in KEYED_TABLES and not carry_keyed:
            imported.skipped.append(found.name)
            progress.advance(found.rows)
            continue
        _load(conn, reader, found, table, project, progress)
    _check_definitions(conn, project)
    if not carry_keyed:
        imported.new_secrets = _new_secrets(conn, box, project)
    audit.record(
        conn, project.id, actor, "project.imported", manifest.slug,
        {"exported_at": manifest.exported_at, "rows": manifest.rows,
         "skipped": imported.skipped},
    )  # fmt: skip
    imported.project = tenancy.get_project_by_id(conn, project.id)
    return imported


def _definitions(reader: ArchiveReader) -> Any:
    try:
        document = yaml.safe_load(reader.definitions())
    except yaml.YAMLError:
        raise Invalid("the archive's project.yaml is not valid YAML") from None
    if not isinstance(document, dict):
        raise Invalid("the archive's project.yaml is not a project file")
    applied = {k: v for k, v in document.items() if k in _APPLIED_SECTIONS}
    if isinstance(applied.get("auth"), dict):
        applied["auth"] = {k: v for k, v in applied["auth"].items() if k != "providers"}
    applied.setdefault("collections", [])
    return load_document(applied)


def _loosen(conn: Connection, schema: str) -> list[str]:
    """Drop the schema's foreign keys and secondary indexes; return the statements that make
    them again, indexes first (a foreign key needs its target's unique index)."""
    rows = conn.execute(
        text(
            "SELECT 'ALTER TABLE ' || conrelid::regclass || ' DROP CONSTRAINT '"
            " || quote_ident(conname),"
            " 'ALTER TABLE ' || conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(conname)"
            " || ' ' || pg_get_constraintdef(oid), 2 AS rank"
            " FROM pg_constraint WHERE contype = 'f' AND connamespace = CAST(:s AS regnamespace)"
            " UNION ALL"
            " SELECT 'DROP INDEX ' || i.indexrelid::regclass, pg_get_indexdef(i.indexrelid), 1"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relnamespace = CAST(:s AS regnamespace) AND NOT i.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
            " ORDER BY 3 DESC"
        ),
        {"s": f'"{schema}"'},
    ).all()
    for drop, _, _ in rows:
        conn.execute(text(drop))
    return [create for _, create, _ in sorted(rows, key=lambda r: r[2])]


def _load(
    conn: Connection,
    reader: ArchiveReader,
    member: Member,
    table: Table,
    project: Project | None,
    progress: Progress,
) -> None:
    """Copy a member's lines into `table`, a batch at a time. Control-plane rows (`project`
    given) get the new project's id; every column the archive names must exist here."""
    known = [c.name for c in table.c if c.name != "project_id"]
    unknown = [c for c in member.columns if c not in known]
    if unknown:
        raise Invalid(
            f"{member.name}: columns {', '.join(unknown)} are unknown to this version of Cairn"
        )
    columns = ", ".join(f'"{c}"' for c in member.columns)
    picked = ", ".join(f'r."{c}"' for c in member.columns)
    target = f'"{table.schema}"."{table.name}"' if table.schema else table.name
    if project is None:
        insert = f"INSERT INTO {target} ({columns}) SELECT {picked}"
    else:
        insert = f"INSERT INTO {target} (project_id, {columns}) SELECT :project_id, {picked}"
    # Identifiers come from the registry and this module's tables, never from the archive
    # unchecked: member columns were just matched against the table's own.
    move = text(
        f"{insert} FROM {_STAGING} i, json_populate_record(NULL::{target}, i.line) r"
    ).bindparams(**({"project_id": project.id} if project is not None else {}))
    raw = conn.connection.driver_connection
    assert raw is not None
    loaded = 0
    for batch in reader.lines(member, BATCH_LINES):
        try:
            with raw.cursor() as cursor, cursor.copy(f"COPY {_STAGING} (line) FROM STDIN") as copy:
                for line in batch:
                    copy.write_row((line,))
            conn.execute(move)
            conn.execute(text(f"TRUNCATE {_STAGING}"))
        except (DBAPIError, psycopg.Error) as exc:
            # A control-plane row's detail ("Failing row contains …") could show its hashes.
            reason = _reason(exc, detail=project is None)
            raise Invalid(f"{member.name} cannot be imported: {reason}") from None
        loaded += len(batch)
        progress.advance(len(batch))
    if loaded != member.rows:
        raise Invalid(f"{member.name} holds {loaded} rows; the manifest says {member.rows}")


def _run(conn: Connection, statement: str, doing: str) -> None:
    try:
        conn.execute(text(statement))
    except DBAPIError as exc:
        raise Invalid(f"the archive's records do not fit ({doing}): {_reason(exc)}") from None


def _reason(exc: Exception, *, detail: bool = True) -> str:
    error = exc.orig if isinstance(exc, DBAPIError) else exc
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None)
    more = getattr(diag, "message_detail", None) if detail else None
    return " ".join(part for part in (primary, more) if part) or "rejected by the database"


def _check_definitions(conn: Connection, project: Project) -> None:
    """Restored webhooks, schedules and providers pass the validation the project file and
    the API apply (a tampered row must never reach the scheduler or a delivery; delivery
    checks the address again when it sends). Schedules then run next from now, so an old
    archive does not fire every tick it missed at once."""
    errors: dict[str, list[str]] = {}

    def check(label: str, load: Any, raw: dict[str, Any]) -> Any:
        try:
            return load(raw)
        except Invalid as exc:
            errors[label] = [f"{k}: {', '.join(v)}" for k, v in exc.errors.items()] or [exc.detail]
            return None

    mine = {"p": project.id}
    for row in conn.execute(
        text("SELECT name, url, events, collections, enabled FROM cairn.webhooks"
             " WHERE project_id = :p"), mine,
    ).mappings():  # fmt: skip
        check(f"webhooks.{row['name']}", load_webhook, dict(row))
    following = []
    for row in conn.execute(
        text("SELECT id, name, cron, timezone, action, enabled FROM cairn.schedules"
             " WHERE project_id = :p"), mine,
    ).mappings():  # fmt: skip
        stored = row["action"]
        action = (
            {k: v for k, v in stored.items() if k != "secret_sealed"}
            if isinstance(stored, dict)
            else stored
        )  # a tampered non-object is refused by load_schedule
        raw = {**{k: row[k] for k in ("name", "cron", "timezone", "enabled")}, "action": action}
        definition = check(f"schedules.{row['name']}", load_schedule, raw)
        if definition is not None:
            nxt = next_tick(definition, datetime.now(UTC)) if definition.enabled else None
            following.append((row["id"], nxt))
    for row in conn.execute(
        text("SELECT name, definition FROM cairn.auth_providers WHERE project_id = :p"), mine
    ).mappings():
        check(f"auth.providers.{row['name']}", load_provider, row["definition"])
    if errors:
        raise Invalid("the archive's webhooks, schedules or providers are not valid", errors)
    set_next_runs(conn, project.id, following)


def _new_secrets(conn: Connection, box: webhooks.SecretBox, project: Project) -> dict[str, str]:
    """Every restored webhook, and every schedule that calls one, gets a new signing secret
    (the old ones were sealed with another instance's key): one statement per table."""
    named = conn.execute(
        text(
            "SELECT 'webhook', name FROM cairn.webhooks WHERE project_id = :p"
            " UNION ALL SELECT 'schedule', name FROM cairn.schedules"
            " WHERE project_id = :p AND action ? 'secret_sealed' ORDER BY 1 DESC, 2"
        ),
        {"p": project.id},
    ).all()
    fresh = {(kind, name): webhooks.new_secret() for kind, name in named}
    for kind, statement in (
        (
            "webhook",
            "UPDATE cairn.webhooks t SET secret_encrypted = convert_to(s.sealed, 'UTF8')",
        ),
        (
            "schedule",
            "UPDATE cairn.schedules t"
            " SET action = jsonb_set(t.action, '{secret_sealed}', to_jsonb(s.sealed))",
        ),
    ):
        mine = {name: secret for (k, name), secret in fresh.items() if k == kind}
        if mine:
            conn.execute(
                text(
                    f"{statement} FROM unnest(:names, :sealed) AS s(name, sealed)"
                    " WHERE t.project_id = :p AND t.name = s.name"
                ).bindparams(
                    bindparam("names", type_=ARRAY(Text())),
                    bindparam("sealed", type_=ARRAY(Text())),
                ),
                {
                    "names": list(mine),
                    "sealed": [box.seal(secret).decode() for secret in mine.values()],
                    "p": project.id,
                },
            )
    return {f"{kind} {name}": secret for (kind, name), secret in fresh.items()}
