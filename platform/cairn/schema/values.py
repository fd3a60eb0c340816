"""Field values: one strict marshmallow field per field type, used for declared defaults and
for record bodies alike.

Coercion rules (written down in docs/records.md): no implicit conversions between JSON types.
Strings stay strings, `true`/`false` are the only booleans, integers must be JSON integers,
numbers are finite; dates are `YYYY-MM-DD`; datetimes are RFC 3339 (a missing offset means
UTC); relations are UUID strings (lists of them when multiple).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from marshmallow import ValidationError, fields, validate

if TYPE_CHECKING:
    from cairn.schema.definitions import FieldDef


class StrictString(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError("must be a string")
        return value


class StrictInteger(fields.Field):  # type: ignore[type-arg]
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("must be an integer")
        if not -(2**63) <= value < 2**63:
            raise ValidationError("is out of range for a 64-bit integer")
        return value


class StrictNumber(fields.Field):  # type: ignore[type-arg]
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be a number")
        if not math.isfinite(value):
            raise ValidationError("must be a finite number")
        return float(value)


class StrictBoolean(fields.Field):  # type: ignore[type-arg]
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be true or false")
        return value


class IsoDate(fields.Field):  # type: ignore[type-arg]
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValidationError("must be a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError("is not a real date") from None


class IsoDateTime(fields.Field):  # type: ignore[type-arg]
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
            raise ValidationError("must be an RFC 3339 date-time, e.g. 2024-05-01T12:00:00Z")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError("is not a real date-time") from None
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        try:
            # Stored as UTC and read back as a Python datetime: years 1 to 9999 in UTC.
            parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError("is outside the years 1 to 9999 (in UTC)") from None
        return parsed


class UuidString(fields.Field):  # type: ignore[type-arg]
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> UUID:
        if not isinstance(value, str):
            raise ValidationError("must be a record id (a UUID string)")
        try:
            return UUID(value)
        except ValueError:
            raise ValidationError("must be a record id (a UUID string)") from None


class AnyJson(fields.Raw):
    """Any JSON value; it arrives already parsed."""


def _unique_items(items: list[Any]) -> None:
    if len(set(map(str, items))) != len(items):
        raise ValidationError("must not repeat an item")


def marshmallow_field(f: FieldDef) -> fields.Field:  # type: ignore[type-arg]
    """The field a record body is validated with; `required`/defaults are applied by the
    caller (a partial update must not demand required fields)."""
    validators: list[Any] = []
    kind = f.type
    if kind in ("text", "email", "url", "select"):
        if f.min_length is not None or f.max_length is not None:
            validators.append(validate.Length(min=f.min_length, max=f.max_length))
        if f.pattern is not None:
            validators.append(validate.Regexp(f.pattern, error="does not match the pattern"))
        if kind == "email":
            validators.append(validate.Email(error="must be an email address"))
        if kind == "url":
            validators.append(
                validate.URL(schemes={"http", "https"}, require_tld=False, error="must be a URL")
            )
        if kind == "select":
            choice = validate.OneOf(f.values or (), error="must be one of: {choices}")
            if f.multiple:
                return fields.List(StrictString(validate=choice), validate=_unique_items)
            validators.append(choice)
        return StrictString(validate=validators, allow_none=True)
    if kind in ("integer", "number"):
        if f.min is not None or f.max is not None:
            validators.append(validate.Range(min=f.min, max=f.max))
        cls = StrictInteger if kind == "integer" else StrictNumber
        return cls(validate=validators, allow_none=True)
    if kind == "relation" and f.multiple:
        return fields.List(UuidString(), validate=_unique_items, allow_none=True)
    simple: dict[str, type[fields.Field]] = {  # type: ignore[type-arg]
        "boolean": StrictBoolean,
        "date": IsoDate,
        "datetime": IsoDateTime,
        "json": AnyJson,
        "relation": UuidString,
    }
    return simple[kind](allow_none=True)


def coerce_value(f: FieldDef, value: Any) -> Any:
    """One value for a field (declared defaults); ValueError with a readable message."""
    try:
        return marshmallow_field(f).deserialize(value)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, list) else [str(exc.messages)]
        raise ValueError("; ".join(str(m) for m in messages)) from None
