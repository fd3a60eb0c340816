"""Marshmallow load/dump schemas for API keys, shared by the HTTP API and the CLI."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from cairn.auth.models import API_KEY_SCOPES
from cairn.durations import parse_duration


class Duration(fields.Field):  # type: ignore[type-arg]
    """`30d`, `12h`, `15m` … loaded as a timedelta."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> timedelta:
        if not isinstance(value, str):
            raise ValidationError("must be a duration string such as 30d")
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class CreateKeyIn(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=100))
    scope = fields.String(required=True, validate=validate.OneOf(API_KEY_SCOPES))
    expires_in = Duration()


class KeyOut(Schema):
    id = fields.UUID()
    name = fields.String()
    prefix = fields.String()
    scope = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    rotated_from = fields.UUID(allow_none=True)


class IssuedKeyOut(KeyOut):
    """A key with its secret: returned once, by create and rotate."""

    secret = fields.String()
