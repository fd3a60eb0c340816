"""What the project management pages share: errors placed next to their fields, signed
cursors for paged tables, and times shown in UTC."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from flask import request

from cairn.errors import CairnError, Invalid
from cairn.http.pagination import CursorCodec
from cairn.http.tenant import runtime
from cairn_admin import bp

PAGE_SIZE = 50
Errors = dict[str, list[str]]


def form_errors(exc: CairnError, fields: Iterable[str] = ()) -> Errors:
    """The field errors a service raised, keyed as the form names its inputs; whatever no
    input of the form shows (and a plain error's detail) goes under "" (the form's)."""
    known = set(fields)
    found = exc.errors if isinstance(exc, Invalid) else exc.extra.get("errors") or {}
    own_detail = not isinstance(exc, Invalid) or exc.detail != Invalid().detail
    errors: Errors = {}
    for field, messages in found.items():
        if field in known:
            errors.setdefault(field, []).extend(str(m) for m in messages)
        elif not own_detail:  # the detail says nothing more: name the field
            errors.setdefault("", []).extend(f"{field}: {m}" for m in messages)
    if own_detail or not errors:
        errors.setdefault("", []).insert(0, exc.detail)
    return errors


def codec(scope: str) -> CursorCodec:
    """Cursors of the UI's paged tables, signed like the API's (another scope)."""
    return CursorCodec(runtime().cursor_secret, f"admin-ui.{scope}")


def cursor_position(scope: str) -> Any | None:
    """The position in `?cursor=`, or None on the first page (400 if it was tampered with)."""
    raw = request.args.get("cursor")
    return codec(scope).decode(raw) if raw else None


def cursor_uuid(scope: str) -> UUID | None:
    position = cursor_position(scope)
    return UUID(position) if position is not None else None  # signed by us: our own id


def next_cursor(scope: str, position: Any | None) -> str | None:
    return codec(scope).encode(position) if position is not None else None


def checked(name: str) -> bool:
    """Whether a checkbox was ticked (browsers send it only then)."""
    return request.form.get(name) in ("on", "true", "1", "yes")


def text(name: str) -> str:
    return request.form.get(name, "").strip()


@bp.app_template_filter("utc")
def utc(moment: datetime | None, seconds: bool = False) -> str:
    """`2024-05-01 12:00` (in UTC); an em dash for none."""
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
