"""Python types and descriptions of fields, as the generated modules write them."""

from __future__ import annotations

from typing import Any

from cairn.sdkgen.model import FieldModel

# The date types are written through `import datetime as _dt`: a field named `date` or
# `datetime` must not shadow them in a class body.
_RECORD = {
    "text": "str",
    "email": "str",
    "url": "str",
    "id": "str",
    "relation": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "date": "_dt.date",
    "datetime": "_dt.datetime",
    "json": "Any",
}
_INPUT = {**_RECORD, "date": "_dt.date | str", "datetime": "_dt.datetime | str"}

_KIND_WORDS = {
    "text": "text",
    "email": "an email address",
    "url": "a URL",
    "id": "a record or user id",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "date": "a date",
    "datetime": "a date and time",
    "json": "any JSON value",
}


def _scalar(f: FieldModel, table: dict[str, str]) -> str:
    if f.kind == "select":
        assert f.alias is not None
        return f.alias
    return table[f.kind]


def record_type(f: FieldModel) -> str:
    """The attribute type on a record: `tuple[…, ...]` for several values, `| None` when
    the record may hold null."""
    base = _scalar(f, _RECORD)
    if f.multiple:
        base = f"tuple[{base}, ...]"
    if f.nullable and base != "Any":
        base += " | None"
    return base


def input_type(f: FieldModel, *, nullable: bool, optional: bool = False) -> str:
    """The type a create or update takes: dates also as ISO strings, several values as a
    list, `| NotGiven` for an argument that may be left out, `| None` (last) when null may
    be written."""
    base = _scalar(f, _INPUT)
    if f.multiple:
        base = f"list[{base}]"
    if optional:
        base += " | NotGiven"
    if nullable and not base.startswith("Any"):
        base += " | None"
    return base


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return repr(value)


def describe(f: FieldModel, *, writing: bool = False) -> str:
    """What a field holds, in words: its description (if the document gives one), then
    its type, whether it is required, its default and its limits."""
    parts: list[str] = []
    if f.description:
        parts.append(f.description.strip().rstrip("."))
    if f.relation:
        what = "ids of records" if f.multiple else "the id of a record"
        target = f"in '{f.target}'" if f.target else "of another collection"
        words = f"{what} {target}"
        if not f.description or "records in" not in f.description:
            parts.append(words)
    elif f.kind == "select":
        values = ", ".join(_literal(v) for v in f.values)
        parts.append(f"{'any of' if f.multiple else 'one of'} {values}")
    elif not f.system:
        parts.append(_KIND_WORDS[f.kind])
    if not f.system:
        if f.required:
            parts.append("required")
        elif writing:
            parts.append("optional")
        if f.has_default:
            parts.append(f"default {_literal(f.default)}")
        if writing:
            parts += list(f.limits)
    text = "; ".join(p for p in parts if p)
    return text[:1].upper() + text[1:] + "." if text else ""
