"""Export and import report every row, and say how many there will be before the first."""

from __future__ import annotations

from pathlib import Path

from cairn.backup.archive import ArchiveReader, ArchiveWriter
from cairn.backup.export import credentials_check, export_archive
from cairn.backup.restore import import_archive
from cairn.runtime import Runtime
from tests.factories import apply_file, insert_rows, make_project, unique_slug
from tests.integration.tenancy.test_apply_progress import FILE, Recorded


def test_export_and_import_report_every_row(runtime: Runtime, tmp_path: Path) -> None:
    project = apply_file(runtime, make_project(runtime), FILE)
    insert_rows(runtime, project, "notes", [{"body": str(i)} for i in range(12_345)])
    check = credentials_check(runtime.settings.require_secret_key())
    exported = Recorded()
    path = tmp_path / "notes.zip"
    with runtime.db.snapshot(project.id) as conn:
        export_archive(conn, project, ArchiveWriter(path), check=check, progress=exported)
    assert exported.totals == [12_345] and exported.done == 12_345

    imported = Recorded()
    reader = ArchiveReader(path)
    with runtime.db.owner() as conn:
        import_archive(
            conn,
            reader,
            slug=unique_slug(),
            check=check,
            app_role=runtime.settings.db_app_role,
            tenant_context=runtime.settings.tenant_context,
            box=runtime.webhook_box,
            provider_box=runtime.provider_box,
            actor="operator",
            source="cli",
            progress=imported,
        )
    reader.close()
    assert imported.totals == [12_345] and imported.done == 12_345
