"""Archives that cannot be restored whole are refused with one clear line, and nothing of
them is left behind: no project, no schema, no rows."""

from __future__ import annotations

import json
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from cairn.backup.archive import ArchiveWriter
from cairn.backup.export import export_archive
from cairn.runtime import Runtime
from tests.conftest import CairnCli
from tests.factories import apply_file, insert_rows, make_project

FILE = """
collections:
  - name: authors
    fields: {name: {type: text, required: true}, email: {type: email, unique: true}}
  - name: posts
    fields: {title: {type: text}, author: {type: relation, collection: authors}}
schedules:
  - {name: nightly, cron: "0 3 * * *", action: {type: purge, collection: posts, older_than: 90d}}
"""


@pytest.fixture
def archive(cairn: CairnCli, runtime: Runtime, tmp_path: Path) -> Path:
    project = apply_file(runtime, make_project(runtime), FILE)
    [author] = insert_rows(runtime, project, "authors", [{"name": "Ada", "email": "a@x.test"}])
    insert_rows(runtime, project, "posts", [{"title": "hello", "author": author}])
    path = tmp_path / "good.zip"
    result = cairn("projects", "export", project.slug, "--out", str(path))
    assert result.exit_code == 0, result.stderr
    return path


def rewritten(source: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    """A copy of the archive with each member passed through `change` (None drops it)."""
    target = source.with_name(f"bad-{uuid.uuid4().hex[:6]}.zip")
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            data = change(name, old.read(name))
            if data is not None:
                new.writestr(name, data)
    return target


def manifest_with(**changes: object) -> Callable[[str, bytes], bytes | None]:
    def change(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        return json.dumps({**json.loads(data), **changes}).encode()

    return change


def member_lines(
    member: str, lines: list[str], *, count: bool = True
) -> Callable[[str, bytes], bytes | None]:
    """Replace a member's lines (and, with `count`, its row count in the manifest)."""

    def change(name: str, data: bytes) -> bytes:
        if name == member:
            return ("\n".join(lines) + "\n").encode() if lines else b""
        if name == "manifest.json" and count:
            manifest = json.loads(data)
            for listed in manifest["members"]:
                if member.endswith(f"/{listed['source']}.jsonl"):
                    listed["rows"] = len(lines)
            return json.dumps(manifest).encode()
        return data

    return change


def replaced(member: str, old: bytes, new: bytes) -> Callable[[str, bytes], bytes | None]:
    def change(name: str, data: bytes) -> bytes:
        return data.replace(old, new, 1) if name == member else data

    return change


def damaged(source: Path) -> Path:
    """A copy whose records/authors.jsonl has corrupt compressed data."""
    target = rewritten(source, lambda n, d: d)
    with zipfile.ZipFile(target) as zf:
        info = zf.getinfo("records/authors.jsonl")
    data = bytearray(target.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start, start + info.compress_size):
        data[offset] ^= 0x55
    target.write_bytes(bytes(data))
    return target


def without_records(source: Path) -> Path:
    def change(name: str, data: bytes) -> bytes | None:
        if name == "records/posts.jsonl":
            return None
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["members"] = [m for m in manifest["members"] if m["source"] != "posts"]
            return json.dumps(manifest).encode()
        return data

    return rewritten(source, change)


def projects_now(runtime: Runtime) -> tuple[int, int]:
    with runtime.db.owner() as conn:
        return (
            conn.execute(text("SELECT count(*) FROM cairn.projects")).scalar_one(),
            conn.execute(
                text("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'prj_%'")
            ).scalar_one(),
        )


STAMPS = '"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "version": 1'
POST = (
    '{"id": "01890000-0000-7000-8000-0000000000%02d", "title": "t", "author": %s, ' + STAMPS + "}"
)
AUTHOR = (
    '{"id": "01890000-0000-7000-8000-0000000000%02d", "name": "A", "email": "%s", ' + STAMPS + "}"
)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.with_name("x.zip").write_text("not a zip") and p.with_name("x.zip"),
         "x.zip is not a Cairn project archive (not a zip file)"),
        (lambda p: rewritten(p, lambda n, d: None if n == "manifest.json" else d),
         "is not a Cairn project archive (no manifest)"),
        (lambda p: rewritten(p, lambda n, d: None if n == "records/posts.jsonl" else d),
         "is incomplete: it lacks records/posts.jsonl"),
        (lambda p: rewritten(p, manifest_with(format_version=99)),
         "is a version 99 archive; this Cairn reads version 1 and older"),
        (lambda p: rewritten(p, manifest_with(format="something-else")),
         "format: Must be equal to cairn-project-archive"),
        (lambda p: rewritten(p, manifest_with(schema_revision="9999_from_the_future")),
         "written by a newer Cairn (schema 9999_from_the_future)"),
        (lambda p: rewritten(p, member_lines("records/authors.jsonl", ["{not json"])),
         "records/authors.jsonl cannot be imported: invalid input syntax for type json"),
        (lambda p: rewritten(p, member_lines("records/authors.jsonl", ["[1, 2]"])),
         "records/authors.jsonl cannot be imported"),
        (lambda p: rewritten(p, member_lines("records/authors.jsonl", [
            AUTHOR % (1, "same@x.test"), AUTHOR % (2, "same@x.test")])),
         "the archive's records do not fit (restoring indexes and relations): could not create"),
        (lambda p: rewritten(p, member_lines("records/posts.jsonl", [
            POST % (3, '"01890000-0000-7000-8000-000000000099"')])),
         "violates foreign key constraint"),
        (lambda p: rewritten(p, member_lines("records/authors.jsonl", ['{"id": null}'])),
         "records/authors.jsonl cannot be imported: null value in column"),
        (lambda p: rewritten(p, member_lines("records/authors.jsonl", [], count=False)),
         "records/authors.jsonl holds 0 rows; the manifest says 1"),
        (damaged, "records/authors.jsonl: the archive is damaged"),
        (without_records, "the archive lacks records/posts.jsonl for its collection posts"),
        (lambda p: rewritten(p, replaced("tables/schedules.jsonl", b"0 3 * * *", b"garbage")),
         "the archive's webhooks, schedules or providers are not valid"),
        (lambda p: rewritten(p, replaced("manifest.json", b'"source": "posts"',
                                         b'"source": "authors"')),
         "lists a member twice"),
    ],
    ids=["not-zip", "no-manifest", "missing-member", "future-format", "foreign-format",
         "future-schema", "bad-json", "not-an-object", "duplicate-unique", "dangling-relation",
         "missing-id", "row-count", "damaged", "collection-without-records", "bad-cron",
         "member-twice"],
)  # fmt: skip
def test_a_bad_archive_is_refused_whole(
    cairn: CairnCli,
    runtime: Runtime,
    archive: Path,
    make: Callable[[Path], Path],
    message: str,
) -> None:
    bad = make(archive)
    before = projects_now(runtime)
    result = cairn("projects", "import", str(bad), "--as", f"bad-{uuid.uuid4().hex[:8]}")
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and message in line, line
    assert "Traceback" not in result.stderr and "SELECT" not in line and "INSERT" not in line
    assert projects_now(runtime) == before


def test_a_table_this_version_does_not_restore_is_refused(
    cairn: CairnCli, runtime: Runtime, archive: Path
) -> None:
    def add_sessions(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["members"].append(
            {"kind": "table", "source": "sessions", "columns": ["id"], "rows": 0}
        )
        return json.dumps(manifest).encode()

    bad = rewritten(archive, add_sessions)
    with zipfile.ZipFile(bad, "a") as zf:
        zf.writestr("tables/sessions.jsonl", "")
    before = projects_now(runtime)
    result = cairn("projects", "import", str(bad), "--as", f"bad-{uuid.uuid4().hex[:8]}")
    assert result.exit_code == 1
    assert "holds tables this Cairn does not restore: sessions" in result.stderr
    assert projects_now(runtime) == before


def test_columns_unknown_here_are_refused(cairn: CairnCli, runtime: Runtime, archive: Path) -> None:
    def add_column(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        for member in manifest["members"]:
            if member["source"] == "users":
                member["columns"].append("shoe_size")
        return json.dumps(manifest).encode()

    before = projects_now(runtime)
    result = cairn("projects", "import", str(rewritten(archive, add_column)), "--as", "shoes-x")
    assert result.exit_code == 1
    assert "tables/users.jsonl: columns shoe_size are unknown to this version" in result.stderr
    assert projects_now(runtime) == before


def test_export_refuses_to_overwrite_and_names_what_is_wrong(
    cairn: CairnCli, runtime: Runtime, archive: Path, tmp_path: Path
) -> None:
    project = make_project(runtime)
    exists = cairn("projects", "export", project.slug, "--out", str(archive))
    assert exists.exit_code == 1 and "exists; choose another --out or pass --force" in exists.stderr
    assert (
        cairn("projects", "export", project.slug, "--out", str(archive), "--force").exit_code == 0
    )
    nowhere = cairn("projects", "export", project.slug, "--out", str(tmp_path / "no/such/dir.zip"))
    assert nowhere.exit_code == 1 and "cannot write" in nowhere.stderr
    missing = cairn("projects", "export", "no-such-project", "--out", str(tmp_path / "n.zip"))
    assert missing.exit_code == 1 and "no project 'no-such-project'" in missing.stderr
    assert not (tmp_path / "n.zip").exists()
    assert not list(tmp_path.glob(".*.partial"))


def test_a_failed_export_leaves_no_file(runtime: Runtime, tmp_path: Path) -> None:
    project = apply_file(runtime, make_project(runtime), FILE)
    insert_rows(runtime, project, "authors", [{"name": "Ada"}])

    class Interrupted:
        def expect(self, total: int) -> None:
            pass

        def advance(self, done: int) -> None:
            raise KeyboardInterrupt  # an operator's Ctrl-C after the first rows

    out = tmp_path / "half.zip"
    writer = ArchiveWriter(out)
    with pytest.raises(KeyboardInterrupt), runtime.db.snapshot(project.id) as conn:
        try:
            export_archive(conn, project, writer, check="x", progress=Interrupted())
        except BaseException:
            writer.discard()
            raise
    assert list(tmp_path.iterdir()) == []
