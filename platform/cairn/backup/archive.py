"""A project archive: one zip file that a project is exported to and imported from.

    manifest.json          what the archive holds: format, schema revision, members, counts
    project.yaml           the project file: collections, user profile fields, auth, limits
    records/<name>.jsonl   one JSON object per record of each collection
    tables/<name>.jsonl    one JSON object per row of each control-plane table carried along

Zip, because a member can be written as a stream (its size is not needed up front) and read
back by name without reading the others. Members are written and read a batch of lines at a
time, so memory stays flat however large the project is.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import Schema, fields, validate

from cairn.errors import Invalid
from cairn.validation import load

FORMAT = "cairn-project-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DEFINITIONS = "project.yaml"
KINDS = ("records", "table")
# A record line is at most a request body (CAIRN_MAX_BODY_BYTES, 1 GiB at most) as JSON;
# anything longer is damage, and reading it whole would only exhaust memory.
MAX_LINE_BYTES = 1024**3


@dataclass(frozen=True)
class Member:
    """One JSONL member: the rows of a collection ("records") or of a control-plane table."""

    kind: str
    source: str
    columns: list[str]
    rows: int

    @property
    def name(self) -> str:
        folder = "records" if self.kind == "records" else "tables"
        return f"{folder}/{self.source}.jsonl"


@dataclass(frozen=True)
class Manifest:
    cairn_version: str
    schema_revision: str
    exported_at: str
    slug: str
    name: str
    # Tells an importing instance whether it has the same CAIRN_SECRET_KEY, which the carried
    # key hashes and sealed secrets depend on. A keyed digest of a constant: it reveals nothing.
    credentials_check: str
    members: list[Member] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}

    @property
    def rows(self) -> int:
        return sum(m.rows for m in self.members)


class _MemberSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    source = fields.String(required=True, validate=validate.Regexp(r"^[a-z_][a-z0-9_]{0,62}$"))
    columns = fields.List(
        fields.String(validate=validate.Regexp(r"^[a-z_][a-z0-9_]{0,62}$")), required=True
    )
    rows = fields.Integer(required=True, validate=validate.Range(min=0))


class _ManifestSchema(Schema):
    format = fields.String(required=True, validate=validate.Equal(FORMAT))
    format_version = fields.Integer(required=True)
    cairn_version = fields.String(required=True)
    schema_revision = fields.String(required=True)
    exported_at = fields.String(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    credentials_check = fields.String(required=True)
    members = fields.List(fields.Nested(_MemberSchema), required=True)


class ArchiveWriter:
    """Writes an archive to `path` through a temporary file renamed into place on success,
    so a failed export never leaves a truncated archive behind. Readable by the owner only:
    it holds password hashes and key hashes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            # In the target's directory (so the rename is atomic), created 0600 and exclusive.
            descriptor, partial = tempfile.mkstemp(
                prefix=f".{path.name}.", suffix=".partial", dir=path.parent
            )
        except OSError as exc:
            raise Invalid(f"cannot write {path}: {exc.strerror}") from None
        self._partial = Path(partial)
        self._zip = zipfile.ZipFile(
            os.fdopen(descriptor, "wb"), "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6
        )

    def write_text(self, name: str, text: str) -> None:
        self._zip.writestr(name, text)

    def write_lines(self, name: str, batches: Iterable[list[str]]) -> int:
        """Write each batch of JSON lines; return how many lines were written."""
        written = 0
        with self._zip.open(name, "w", force_zip64=True) as out:
            for batch in batches:
                if batch:
                    out.write(("\n".join(batch) + "\n").encode())
                    written += len(batch)
        return written

    def finish(self, manifest: Manifest) -> None:
        self._zip.writestr(MANIFEST, json.dumps(manifest.to_dict(), indent=2))
        self._zip.close()
        os.replace(self._partial, self.path)

    def discard(self) -> None:
        try:
            self._zip.close()
        except OSError:
            pass  # the reason the export failed (a full disk, say) is already on its way
        finally:
            self._partial.unlink(missing_ok=True)


class ArchiveReader:
    """Reads an archive, refusing anything that is not one this version can import."""

    def __init__(self, path: Path) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError):
            raise Invalid(f"{path.name} is not a Cairn project archive (not a zip file)") from None
        try:
            self.manifest = self._manifest(path.name)
        except BaseException:
            self._zip.close()
            raise

    def _manifest(self, file_name: str) -> Manifest:
        try:
            if self._zip.getinfo(MANIFEST).file_size > MAX_LINE_BYTES:
                raise ValueError("too large for a manifest")
            raw = json.loads(self._zip.read(MANIFEST))
        except (KeyError, ValueError, zipfile.BadZipFile, zlib.error, EOFError):
            raise Invalid(f"{file_name} is not a Cairn project archive (no manifest)") from None
        if not isinstance(raw, dict):
            raise Invalid(f"{file_name} is not a Cairn project archive (bad manifest)")
        loaded = load(_ManifestSchema(), raw)
        if loaded["format_version"] > FORMAT_VERSION:
            raise Invalid(
                f"{file_name} is a version {loaded['format_version']} archive; this Cairn "
                f"reads version {FORMAT_VERSION} and older: upgrade Cairn to import it"
            )
        members = [Member(**m) for m in loaded.pop("members")]
        del loaded["format"], loaded["format_version"]
        if len({m.name for m in members}) != len(members):
            raise Invalid(f"{file_name} lists a member twice (bad manifest)")
        names = set(self._zip.namelist())
        missing = [m.name for m in members if m.name not in names]
        if DEFINITIONS not in names:
            missing.append(DEFINITIONS)
        if missing:
            raise Invalid(f"{file_name} is incomplete: it lacks {', '.join(missing)}")
        return Manifest(**loaded, members=members)

    def definitions(self) -> str:
        with _damage_reported(DEFINITIONS):
            if self._zip.getinfo(DEFINITIONS).file_size > MAX_LINE_BYTES:
                raise Invalid(f"{DEFINITIONS} is larger than any project file")
            return self._zip.read(DEFINITIONS).decode()

    def lines(self, member: Member, batch_size: int) -> Iterator[list[str]]:
        """The member's lines in batches of `batch_size`, blank lines skipped."""
        with _damage_reported(member.name), self._zip.open(member.name) as raw:
            batch: list[str] = []
            while line := raw.readline(MAX_LINE_BYTES + 1):
                if len(line) > MAX_LINE_BYTES:
                    raise Invalid(f"{member.name} holds a line over {MAX_LINE_BYTES} bytes")
                text = line.decode().rstrip("\n")
                if text.strip():
                    batch.append(text)
                    if len(batch) >= batch_size:
                        yield batch
                        batch = []
            if batch:
                yield batch

    def close(self) -> None:
        self._zip.close()


@contextmanager
def _damage_reported(member: str) -> Iterator[None]:
    """A damaged archive (bad checksum, truncated or undecodable data) is an Invalid naming
    the member, never a traceback."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, OSError):
        raise Invalid(f"{member}: the archive is damaged") from None
    except UnicodeDecodeError:
        raise Invalid(f"{member}: the archive holds text that is not UTF-8") from None
