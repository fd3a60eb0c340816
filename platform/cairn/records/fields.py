"""What query compilers need to know about a name a caller may filter or sort on.

The records service builds one `FieldRef` per system field and per declared field of a
collection, pointing at the real typed column; the filter compiler and the sorter work only
through these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement

# Declared field types plus the system ones: `uuid` for id/owner, `datetime` for
# created_at/updated_at, `integer` for version. A relation is a uuid pointing elsewhere.
FieldType = Literal[
    "text",
    "email",
    "url",
    "select",
    "integer",
    "number",
    "boolean",
    "date",
    "datetime",
    "json",
    "relation",
    "uuid",
]

TEXT_TYPES: frozenset[str] = frozenset({"text", "email", "url", "select"})
UUID_TYPES: frozenset[str] = frozenset({"uuid", "relation"})


@dataclass(frozen=True)
class FieldRef:
    name: str
    type: FieldType
    column: ColumnElement[Any]
    # select (text[]) and relation (uuid[]) fields with `multiple: true`
    multiple: bool = False
