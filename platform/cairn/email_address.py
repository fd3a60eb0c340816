"""What counts as an email address, for end users and platform admins alike."""

from __future__ import annotations

from marshmallow import ValidationError, validate

from cairn.errors import Invalid

MAX_EMAIL_LENGTH = 320  # RFC 3696 errata: 64 for the local part, @, 255 for the domain
_email_check = validate.Email(error="must be an email address, such as ada@example.com")


def check_email(value: object, field: str = "email") -> str:
    """The address, trimmed; Invalid naming `field` if it is not one."""
    if not isinstance(value, str):
        raise Invalid(errors={field: ["must be a string"]})
    email = value.strip()
    try:
        _email_check(email)
    except ValidationError as exc:
        raise Invalid(errors={field: [str(m) for m in exc.messages]}) from None
    if len(email) > MAX_EMAIL_LENGTH:
        raise Invalid(errors={field: [f"must be at most {MAX_EMAIL_LENGTH} characters"]})
    return email
