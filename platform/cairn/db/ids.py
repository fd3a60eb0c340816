"""Time-ordered ids: UUIDv7 keeps new rows at the right edge of every primary-key index."""

from uuid import UUID

from uuid_utils.compat import uuid7


def new_id() -> UUID:
    return uuid7()
