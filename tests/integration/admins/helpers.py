"""Admins for tests: real rows through the real service, one fresh email per call."""

from __future__ import annotations

import uuid

from cairn.admins import service
from cairn.admins.service import AdminCrypto, NewAdmin, SignInAttempt
from cairn.runtime import Runtime

PASSWORD = "correct horse battery staple 42"


def unique_email() -> str:
    return f"admin-{uuid.uuid4().hex[:12]}@Example.test"


def make_admin(
    runtime: Runtime, crypto: AdminCrypto, email: str | None = None, password: str = PASSWORD
) -> NewAdmin:
    with runtime.db.owner() as conn:
        return service.create_admin(conn, crypto, email or unique_email(), password)


def attempt(
    runtime: Runtime,
    crypto: AdminCrypto,
    email: str,
    password: str = PASSWORD,
    code: str | None = None,
) -> SignInAttempt:
    """One sign-in in its own committed transaction, as the admin UI will make it."""
    with runtime.db.owner() as conn:
        return service.sign_in(
            conn,
            crypto,
            email=email,
            password=password,
            totp_code=code,
            ip="203.0.113.7",
            user_agent="pytest",
        )
