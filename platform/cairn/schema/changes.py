"""How a field may change type, and what that costs: the cast, whether it can lose data, and
the query that counts the rows that would not survive it.

Anything not listed here is refused with advice (add a new field and copy the data).
"""

from __future__ import annotations

from dataclasses import dataclass

from cairn.schema.definitions import FieldDef

TEXTUAL = {"text", "email", "url", "select"}
_SQL_TYPE = {
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
    "date": "date",
    "datetime": "timestamptz",
}
# Checks of existing text against a stricter text-like type (Postgres regexes).
TEXT_SHAPE = {
    "email": r"^[^@\s]+@[^@\s]+$",
    "url": r"^https?://[^\s]+$",
}


COLUMN = "$column"  # stands for the column in the SQL templates below


@dataclass(frozen=True)
class TypeChange:
    using: str | None  # USING template for ALTER COLUMN TYPE; None: the column type stays
    destructive: bool
    violations: str | None  # SQL condition template, true for rows that cannot be converted

    def using_sql(self, column: str) -> str | None:
        return _fill(self.using, column)

    def violations_sql(self, column: str) -> str | None:
        return _fill(self.violations, column)


def _fill(template: str | None, column: str) -> str | None:
    return template.replace(COLUMN, f'"{column}"') if template is not None else None


def type_change(old: FieldDef, new: FieldDef) -> TypeChange | str:
    """The change from `old` to `new`, or a sentence saying why it is refused. The SQL is
    templated on the column because checks run before a rename and the cast after it."""
    col = COLUMN
    if "relation" in (old.type, new.type):
        return "a relation cannot change type; add a new field instead"
    if old.multiple != new.multiple:
        if old.type != new.type:
            return "change either the type or `multiple`, not both at once"
        if new.multiple:
            return TypeChange(
                f"CASE WHEN {col} IS NULL THEN NULL ELSE ARRAY[{col}] END", False, None
            )
        return TypeChange(f"{col}[1]", True, f"cardinality({col}) > 1")
    if old.multiple:
        return "multiple fields cannot change type"
    if old.type in TEXTUAL and new.type in TEXTUAL:
        shape = TEXT_SHAPE.get(new.type)
        return TypeChange(None, False, f"{col} !~ '{shape}'" if shape else None)
    if new.type == "json":
        return TypeChange(f"to_jsonb({col})", False, None)
    if old.type == "json":
        if new.type != "text":
            return "json fields can only become text"
        return TypeChange(f"{col} #>> '{{}}'", True, None)
    if new.type in TEXTUAL:
        shape = TEXT_SHAPE.get(new.type)
        return TypeChange(f"{col}::text", False, f"{col}::text !~ '{shape}'" if shape else None)
    target = _SQL_TYPE[new.type]
    if old.type in TEXTUAL:
        return TypeChange(f"{col}::{target}", True, f"NOT pg_input_is_valid({col}, '{target}')")
    if (old.type, new.type) == ("integer", "number"):
        return TypeChange(f"{col}::double precision", False, None)
    if (old.type, new.type) == ("number", "integer"):
        return TypeChange(f"round({col})::bigint", True, f"{col} <> trunc({col})")
    if (old.type, new.type) == ("date", "datetime"):
        return TypeChange(f"({col}::timestamp AT TIME ZONE 'UTC')", False, None)
    if (old.type, new.type) == ("datetime", "date"):
        return TypeChange(f"({col} AT TIME ZONE 'UTC')::date", True, None)
    return f"a {old.type} field cannot become {new.type}; add a new field and copy the data"
