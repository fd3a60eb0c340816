"""One-time tokens mailed to a user: verify an address, reset a password, confirm a new
address. Stored as keyed hashes; each is single-use and expires. Issuing a token voids the
user's earlier unused tokens of the same purpose, so only the latest mail works."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection, insert, update

from cairn.crypto import keyed_hash
from cairn.db.ids import new_id
from cairn.errors import Invalid
from cairn.users.models import auth_tokens

TOKEN_PREFIX = "ct_"  # noqa: S105 - a marker, not a secret
LIFETIMES = {
    "verify_email": timedelta(hours=24),
    "password_reset": timedelta(hours=1),
    "email_change": timedelta(hours=24),
}


@dataclass(frozen=True)
class Redeemed:
    user_id: UUID
    new_email: str | None


def issue(
    conn: Connection,
    pepper: bytes,
    project_id: UUID,
    user_id: UUID,
    purpose: str,
    *,
    new_email: str | None = None,
) -> str:
    now = datetime.now(UTC)
    conn.execute(
        update(auth_tokens)
        .where(
            auth_tokens.c.project_id == project_id,
            auth_tokens.c.user_id == user_id,
            auth_tokens.c.purpose == purpose,
            auth_tokens.c.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(auth_tokens).values(
            project_id=project_id,
            id=new_id(),
            user_id=user_id,
            purpose=purpose,
            token_hash=keyed_hash(pepper, token),
            new_email=new_email,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    return token


def redeem(
    conn: Connection, pepper: bytes, project_id: UUID, purpose: str, token: object
) -> Redeemed:
    """Use the token up, in one guarded statement (a second use finds nothing)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise Invalid(errors={"token": ["is not a token Cairn sent"]})
    row = conn.execute(
        update(auth_tokens)
        .where(
            auth_tokens.c.project_id == project_id,
            auth_tokens.c.token_hash == keyed_hash(pepper, token),
            auth_tokens.c.purpose == purpose,
            auth_tokens.c.used_at.is_(None),
            auth_tokens.c.expires_at > datetime.now(UTC),
        )
        .values(used_at=datetime.now(UTC))
        .returning(auth_tokens.c.user_id, auth_tokens.c.new_email)
    ).first()
    if row is None:
        raise Invalid(
            "the link is not valid: it was used already, has expired, or was replaced by a "
            "newer one",
            errors={"token": ["is invalid, used or expired"]},
        )
    return Redeemed(row.user_id, row.new_email)
