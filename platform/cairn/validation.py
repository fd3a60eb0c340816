"""Loading data through marshmallow: every failure becomes one Invalid (422) naming each
field. Used by HTTP views and services alike."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError

from cairn.errors import Invalid


def load(schema: Schema, data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data, partial=partial)
    except ValidationError as exc:
        messages: dict[str, Any] = exc.normalized_messages()  # type: ignore[no-untyped-call]
        errors = {
            str(field): [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
            for field, msgs in messages.items()
        }
        raise Invalid(errors=errors) from None
    return loaded
