"""Platform admins: sign-in, lockout, TOTP and server-side sessions, against real Postgres."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

import pyotp
import pytest
from argon2 import extract_parameters
from cryptography.fernet import InvalidToken
from sqlalchemy import select, text, update
from sqlalchemy.exc import ProgrammingError

from cairn.admins import service
from cairn.admins.models import admin_sessions, admins
from cairn.admins.service import (
    IDLE_TIMEOUT,
    INVALID_CREDENTIALS,
    LOCKED,
    LOCKOUT,
    MAX_FAILED_ATTEMPTS,
    SESSION_LIFETIME,
    TOTP_INVALID,
    TOTP_REQUIRED,
    TOTP_REUSED,
    AdminCrypto,
)
from cairn.auth.passwords import Hasher
from cairn.config import Settings
from cairn.crypto import keyed_hash
from cairn.errors import Conflict, Invalid, NotFound, Unauthorized
from cairn.runtime import Runtime
from cairn.webhooks.service import SecretBox
from tests.integration.admins.helpers import PASSWORD, attempt, make_admin, unique_email

WRONG = "not the password at all"


def _row(runtime: Runtime, admin_id: UUID) -> Any:
    with runtime.db.owner() as conn:
        return conn.execute(select(admins).where(admins.c.id == admin_id)).mappings().one()


def _sessions(runtime: Runtime, admin_id: UUID) -> list[Any]:
    with runtime.db.owner() as conn:
        return list(
            conn.execute(
                select(admin_sessions).where(admin_sessions.c.admin_id == admin_id)
            ).mappings()
        )


def _set(runtime: Runtime, table: Any, row_id: UUID, **values: Any) -> None:
    with runtime.db.owner() as conn:
        conn.execute(update(table).where(table.c.id == row_id).values(**values))


def _current(runtime: Runtime, crypto: AdminCrypto, token: str) -> service.Admin:
    with runtime.db.owner() as conn:
        return service.session_admin(conn, crypto, token)


def _refused(runtime: Runtime, crypto: AdminCrypto, token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        _current(runtime, crypto, token)
    return caught.value.detail


def _now() -> datetime:
    return datetime.now(UTC)


class CountingHasher(Hasher):
    """The real hasher, counting verifications (a burn is one too)."""

    def __init__(self, **params: int) -> None:
        super().__init__(**params)
        self.verifications = 0

    def verify(self, hashed: str, password: str) -> bool:
        self.verifications += 1
        return super().verify(hashed, password)


@pytest.fixture
def counting(settings: Settings, crypto: AdminCrypto) -> tuple[AdminCrypto, CountingHasher]:
    hasher = CountingHasher(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )
    return replace(crypto, hasher=hasher), hasher


# -- accounts ------------------------------------------------------------------------------


def test_password_is_stored_as_argon2id_with_the_configured_parameters(
    runtime: Runtime, crypto: AdminCrypto, settings: Settings
) -> None:
    admin = make_admin(runtime, crypto).admin
    stored = _row(runtime, admin.id)["password_hash"]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    params = extract_parameters(stored)
    assert (params.time_cost, params.memory_cost, params.parallelism) == (
        settings.argon2_time_cost,
        settings.argon2_memory_kib,
        settings.argon2_parallelism,
    )


def test_a_generated_password_is_returned_once_and_works(
    runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    with runtime.db.owner() as conn:
        created = service.create_admin(conn, crypto, email)
    generated = created.generated_password
    assert generated is not None and len(generated) >= 24
    assert generated not in repr(created)
    assert attempt(runtime, crypto, email, generated).ok
    # A chosen password is never echoed back.
    assert make_admin(runtime, crypto).generated_password is None


def test_email_is_unique_case_insensitively(runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    make_admin(runtime, crypto, email)
    with pytest.raises(Conflict, match="exists already"):
        make_admin(runtime, crypto, f"  {email.upper()} ")
    with runtime.db.owner() as conn:
        assert service.get_admin(conn, email.lower()).email == email


@pytest.mark.parametrize(
    ("email", "password", "field"),
    [
        ("not-an-email", PASSWORD, "email"),
        (None, "short", "password"),
        (None, "password", "password"),  # among the most common
        ("melanie@example.test", "melanie", "password"),  # too short and the local part
        ("melanie.long@example.test", "Melanie.Long", "password"),  # the local part
    ],
)
def test_policy_refuses_bad_input(
    runtime: Runtime, crypto: AdminCrypto, email: str | None, password: str, field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        make_admin(runtime, crypto, email, password)
    assert field in caught.value.errors


def test_unknown_admins_are_not_found(runtime: Runtime) -> None:
    with runtime.db.owner() as conn:
        with pytest.raises(NotFound):
            service.get_admin(conn, unique_email())
        with pytest.raises(NotFound):
            service.disable_admin(conn, UUID(int=1))


def test_list_admins_never_shows_secrets(runtime: Runtime, crypto: AdminCrypto) -> None:
    admin = make_admin(runtime, crypto).admin
    with runtime.db.owner() as conn:
        listed = {a.id: a for a in service.list_admins(conn)}
    assert listed[admin.id].email == admin.email and listed[admin.id].status == "active"
    assert not hasattr(listed[admin.id], "password_hash")
    assert not hasattr(listed[admin.id], "totp_secret")


def test_delete_takes_the_sessions_along(runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    token = attempt(runtime, crypto, email).unwrap().token
    with runtime.db.owner() as conn:
        service.delete_admin(conn, admin.id)
    assert _sessions(runtime, admin.id) == []
    assert "not valid" in _refused(runtime, crypto, token)


def test_the_app_role_cannot_reach_admin_tables(runtime: Runtime) -> None:
    for table in ("admins", "admin_sessions"):
        with pytest.raises(ProgrammingError, match="permission denied"):
            with runtime.db.unscoped() as conn:
                conn.execute(text(f"SELECT count(*) FROM cairn.{table}"))


# -- signing in ----------------------------------------------------------------------------


def test_sign_in_issues_a_session_whose_token_is_stored_only_as_a_keyed_hash(
    runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    before = _now()
    result = attempt(runtime, crypto, email.upper())
    assert result.ok and result.error is None
    issued = result.unwrap()
    assert issued.token.startswith("ca_") and len(issued.token) == 46
    assert issued.token not in repr(issued)

    [stored] = _sessions(runtime, admin.id)
    assert bytes(stored["token_hash"]) == keyed_hash(crypto.session_pepper, issued.token)
    assert issued.token.encode() not in bytes(stored["token_hash"])
    assert (stored["ip"], stored["user_agent"]) == ("203.0.113.7", "pytest")
    assert stored["expires_at"] - stored["created_at"] == SESSION_LIFETIME
    assert stored["idle_until"] - stored["created_at"] == IDLE_TIMEOUT
    assert _row(runtime, admin.id)["last_login_at"] >= before

    assert _current(runtime, crypto, issued.token).id == admin.id


def test_a_wrong_password_is_refused_and_counted(runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    result = attempt(runtime, crypto, email, WRONG)
    assert not result.ok and result.session is None
    with pytest.raises(Unauthorized, match=INVALID_CREDENTIALS):
        result.unwrap()
    assert _row(runtime, admin.id)["failed_attempts"] == 1
    assert _sessions(runtime, admin.id) == []


def test_an_unknown_email_gets_the_same_answer_at_the_same_cost(
    runtime: Runtime, counting: tuple[AdminCrypto, CountingHasher]
) -> None:
    crypto, hasher = counting
    email = unique_email()
    make_admin(runtime, crypto, email)

    hasher.verifications = 0
    wrong = attempt(runtime, crypto, email, WRONG)
    assert hasher.verifications == 1
    unknown = attempt(runtime, crypto, unique_email(), WRONG)
    assert hasher.verifications == 2
    assert wrong.error is not None and unknown.error is not None
    assert wrong.error.detail == unknown.error.detail == INVALID_CREDENTIALS


def test_success_resets_the_failure_count(runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        attempt(runtime, crypto, email, WRONG)
    assert _row(runtime, admin.id)["failed_attempts"] == MAX_FAILED_ATTEMPTS - 1
    assert attempt(runtime, crypto, email).ok
    assert _row(runtime, admin.id)["failed_attempts"] == 0


def test_lockout_after_five_failures_says_nothing_about_the_password(
    runtime: Runtime, counting: tuple[AdminCrypto, CountingHasher]
) -> None:
    crypto, hasher = counting
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    details = [
        attempt(runtime, crypto, email, WRONG).error.detail  # type: ignore[union-attr]
        for _ in range(MAX_FAILED_ATTEMPTS)
    ]
    assert details == [INVALID_CREDENTIALS] * (MAX_FAILED_ATTEMPTS - 1) + [LOCKED]
    row = _row(runtime, admin.id)
    assert row["failed_attempts"] == MAX_FAILED_ATTEMPTS
    assert abs(row["locked_until"] - (_now() + LOCKOUT)) < timedelta(minutes=1)

    with runtime.db.owner() as conn:
        assert service.get_admin(conn, email).status == "locked"

    # Locked: the right password and a wrong one get the same answer for the same cost.
    hasher.verifications = 0
    right = attempt(runtime, crypto, email, PASSWORD)
    wrong = attempt(runtime, crypto, email, WRONG)
    assert hasher.verifications == 2
    assert right.error is not None and wrong.error is not None
    assert right.error.detail == wrong.error.detail == LOCKED
    assert right.error.extra == wrong.error.extra == {"reason": "locked"}
    assert _row(runtime, admin.id)["failed_attempts"] == MAX_FAILED_ATTEMPTS
    assert _sessions(runtime, admin.id) == []

    # Once the lock has run out (moved into the past rather than waited for), sign-in works.
    _set(runtime, admins, admin.id, locked_until=_now() - timedelta(seconds=1))
    assert attempt(runtime, crypto, email).ok
    row = _row(runtime, admin.id)
    assert (row["failed_attempts"], row["locked_until"]) == (0, None)


def test_after_a_lock_runs_out_the_count_starts_again(
    runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    for _ in range(MAX_FAILED_ATTEMPTS):
        attempt(runtime, crypto, email, WRONG)
    _set(runtime, admins, admin.id, locked_until=_now() - timedelta(seconds=1))
    result = attempt(runtime, crypto, email, WRONG)
    assert result.error is not None and result.error.detail == INVALID_CREDENTIALS
    row = _row(runtime, admin.id)
    assert (row["failed_attempts"], row["locked_until"]) == (1, None)


def test_unlock_lifts_a_lockout(runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    for _ in range(MAX_FAILED_ATTEMPTS):
        attempt(runtime, crypto, email, WRONG)
    assert not attempt(runtime, crypto, email).ok
    with runtime.db.owner() as conn:
        unlocked = service.unlock_admin(conn, admin.id)
    assert unlocked.status == "active" and unlocked.failed_attempts == 0
    assert attempt(runtime, crypto, email).ok


def test_a_disabled_admin_cannot_sign_in_and_loses_their_sessions(
    runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    token = attempt(runtime, crypto, email).unwrap().token
    with runtime.db.owner() as conn:
        assert service.disable_admin(conn, admin.id).status == "disabled"
    assert "signed out" in _refused(runtime, crypto, token)
    refused = attempt(runtime, crypto, email)
    assert refused.error is not None and refused.error.detail == INVALID_CREDENTIALS
    assert _row(runtime, admin.id)["failed_attempts"] == 0

    with runtime.db.owner() as conn:
        service.enable_admin(conn, admin.id)
    assert attempt(runtime, crypto, email).ok


def test_a_session_of_a_disabled_admin_is_refused(runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    token = attempt(runtime, crypto, email).unwrap().token
    _set(runtime, admins, admin.id, disabled=True)  # even if its sessions were left alive
    assert "disabled" in _refused(runtime, crypto, token)


def test_an_outdated_hash_is_upgraded_at_sign_in(
    runtime: Runtime, crypto: AdminCrypto, settings: Settings
) -> None:
    weak = replace(crypto, hasher=Hasher(time_cost=1, memory_kib=8192, parallelism=1))
    email = unique_email()
    admin = make_admin(runtime, weak, email).admin
    assert extract_parameters(_row(runtime, admin.id)["password_hash"]).memory_cost == 8192
    assert attempt(runtime, crypto, email).ok
    upgraded = _row(runtime, admin.id)["password_hash"]
    assert extract_parameters(upgraded).memory_cost == settings.argon2_memory_kib
    assert attempt(runtime, crypto, email).ok


def test_set_password_signs_out_everywhere_but_the_session_kept(
    runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    mine = attempt(runtime, crypto, email).unwrap().token
    other = attempt(runtime, crypto, email).unwrap().token
    new_password = "a brand new passphrase 7"
    with runtime.db.owner() as conn:
        service.set_password(conn, crypto, admin.id, new_password, keep_token=mine)
    assert _current(runtime, crypto, mine).id == admin.id
    assert "signed out" in _refused(runtime, crypto, other)
    assert not attempt(runtime, crypto, email, PASSWORD).ok
    assert attempt(runtime, crypto, email, new_password).ok
    with runtime.db.owner() as conn:
        with pytest.raises(Invalid):
            service.set_password(conn, crypto, admin.id, "12345678")


# -- sessions ------------------------------------------------------------------------------


def test_malformed_and_unknown_tokens_are_refused(runtime: Runtime, crypto: AdminCrypto) -> None:
    for token in ("", "ca_short", "ck_" + "x" * 43, "ca_" + "x" * 43):
        assert "not valid" in _refused(runtime, crypto, token)


def test_a_session_times_out_when_idle(runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    issued = attempt(runtime, crypto, email).unwrap()
    _set(runtime, admin_sessions, issued.id, idle_until=_now() - timedelta(seconds=1))
    assert "inactivity" in _refused(runtime, crypto, issued.token)
    assert admin.id == issued.admin.id


def test_a_session_ends_at_its_absolute_expiry_however_busy(
    runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    make_admin(runtime, crypto, email)
    issued = attempt(runtime, crypto, email).unwrap()
    _set(
        runtime,
        admin_sessions,
        issued.id,
        last_seen_at=_now(),
        idle_until=_now() + IDLE_TIMEOUT,
        expires_at=_now() - timedelta(seconds=1),
    )
    assert "expired" in _refused(runtime, crypto, issued.token)


def test_use_slides_the_idle_deadline_but_never_past_expiry(
    runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    issued = attempt(runtime, crypto, email).unwrap()
    _set(
        runtime,
        admin_sessions,
        issued.id,
        last_seen_at=_now() - timedelta(minutes=50),
        idle_until=_now() + timedelta(minutes=10),
    )
    before = _now()
    _current(runtime, crypto, issued.token)
    [row] = _sessions(runtime, admin.id)
    assert row["last_seen_at"] >= before
    assert row["idle_until"] >= before + IDLE_TIMEOUT

    expires_at = _now() + timedelta(minutes=20)
    _set(
        runtime,
        admin_sessions,
        issued.id,
        last_seen_at=_now() - timedelta(minutes=5),
        expires_at=expires_at,
    )
    _current(runtime, crypto, issued.token)
    [row] = _sessions(runtime, admin.id)
    assert row["idle_until"] == expires_at


def test_sign_out_ends_one_session_and_revoke_ends_all(
    runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    first, second, third = (attempt(runtime, crypto, email).unwrap().token for _ in range(3))
    with runtime.db.owner() as conn:
        assert service.sign_out(conn, crypto, first)
        assert not service.sign_out(conn, crypto, first)  # twice is harmless
        assert not service.sign_out(conn, crypto, "garbage")
    assert "signed out" in _refused(runtime, crypto, first)
    assert _current(runtime, crypto, second).id == admin.id

    with runtime.db.owner() as conn:
        assert service.revoke_sessions(conn, admin.id) == 2
        assert service.revoke_sessions(conn, admin.id) == 0
    for token in (second, third):
        assert "signed out" in _refused(runtime, crypto, token)


# -- TOTP ----------------------------------------------------------------------------------


def _enrol(runtime: Runtime, crypto: AdminCrypto, admin_id: UUID) -> tuple[pyotp.TOTP, str]:
    """TOTP in force for the admin; their authenticator, and the code that confirmed it."""
    with runtime.db.owner() as conn:
        setup = service.begin_totp(conn, crypto, admin_id)
    totp = pyotp.TOTP(setup.secret)
    code = totp.now()
    with runtime.db.owner() as conn:
        assert service.confirm_totp(conn, crypto, admin_id, code).totp_enabled
    return totp, code


def _next_code(totp: pyotp.TOTP) -> str:
    """A code of the coming time step: accepted (clock skew), and later than any used."""
    return totp.at(time.time() + totp.interval)


def test_begin_totp_gives_a_sealed_secret_and_a_provisioning_uri(
    runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    with runtime.db.owner() as conn:
        setup = service.begin_totp(conn, crypto, admin.id)
    assert setup.secret not in repr(setup)
    uri = urlsplit(setup.uri)
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == f"/Cairn:{email}"
    assert parse_qs(uri.query)["secret"] == [setup.secret]
    assert parse_qs(uri.query)["issuer"] == ["Cairn"]

    sealed = bytes(_row(runtime, admin.id)["totp_secret"])
    assert setup.secret.encode() not in sealed
    assert crypto.totp_box.open(sealed) == setup.secret
    with pytest.raises(InvalidToken):
        SecretBox("another-secret-key-0123456789abcdefghij", "admin-totp").open(sealed)

    # Pending, not in force: sign-in still needs no code.
    assert not _row(runtime, admin.id)["totp_enabled"]
    assert attempt(runtime, crypto, email).ok


def test_confirm_totp_needs_a_matching_code(runtime: Runtime, crypto: AdminCrypto) -> None:
    admin = make_admin(runtime, crypto).admin
    with runtime.db.owner() as conn:
        with pytest.raises(Conflict, match="no TOTP enrolment"):
            service.confirm_totp(conn, crypto, admin.id, "123456")
    with runtime.db.owner() as conn:
        setup = service.begin_totp(conn, crypto, admin.id)
    totp = pyotp.TOTP(setup.secret)
    wrong = f"{(int(totp.now()) + 500_000) % 1_000_000:06d}"
    with runtime.db.owner() as conn:
        for code in (wrong, "abcdef", ""):
            with pytest.raises(Invalid, match=TOTP_INVALID):
                service.confirm_totp(conn, crypto, admin.id, code)
        assert service.confirm_totp(conn, crypto, admin.id, totp.now()).totp_enabled
    with runtime.db.owner() as conn:
        with pytest.raises(Conflict, match="enabled already"):
            service.begin_totp(conn, crypto, admin.id)


def test_totp_is_asked_for_only_after_the_password_was_right(
    runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    _enrol(runtime, crypto, admin.id)

    wrong_password = attempt(runtime, crypto, email, WRONG)
    assert wrong_password.error is not None
    assert wrong_password.error.detail == INVALID_CREDENTIALS
    assert not wrong_password.totp_required

    no_code = attempt(runtime, crypto, email)
    assert no_code.totp_required and no_code.error is not None
    assert no_code.error.detail == TOTP_REQUIRED
    assert no_code.error.extra == {"reason": "totp_required"}
    # Asking for the code is not a failure; the wrong password before it was.
    assert _row(runtime, admin.id)["failed_attempts"] == 1
    assert _sessions(runtime, admin.id) == []


def test_a_wrong_totp_code_is_refused_and_counted(runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    totp, _ = _enrol(runtime, crypto, admin.id)
    wrong = f"{(int(_next_code(totp)) + 500_000) % 1_000_000:06d}"
    result = attempt(runtime, crypto, email, code=wrong)
    assert result.error is not None and result.error.detail == TOTP_INVALID
    assert _row(runtime, admin.id)["failed_attempts"] == 1
    # Wrong codes lock the account like wrong passwords do.
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        result = attempt(runtime, crypto, email, code=wrong)
    assert result.error is not None and result.error.detail == LOCKED
    locked = attempt(runtime, crypto, email, code=_next_code(totp))
    assert locked.error is not None and locked.error.detail == LOCKED


def test_a_correct_totp_code_signs_in_once_and_never_again(
    runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    totp, confirming = _enrol(runtime, crypto, admin.id)

    # The code that confirmed the enrolment is spent already.
    replayed_enrolment = attempt(runtime, crypto, email, code=confirming)
    assert replayed_enrolment.error is not None
    assert replayed_enrolment.error.detail == TOTP_REUSED

    code = _next_code(totp)
    result = attempt(runtime, crypto, email, code=f" {code[:3]} {code[3:]} ")
    assert result.ok, result.error
    assert _current(runtime, crypto, result.unwrap().token).id == admin.id

    replay = attempt(runtime, crypto, email, code=code)
    assert replay.error is not None and replay.error.detail == TOTP_REUSED
    assert len(_sessions(runtime, admin.id)) == 1


def test_disable_totp_forgets_the_secret(runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    admin = make_admin(runtime, crypto, email).admin
    _enrol(runtime, crypto, admin.id)
    with runtime.db.owner() as conn:
        assert not service.disable_totp(conn, admin.id).totp_enabled
    row = _row(runtime, admin.id)
    assert (row["totp_secret"], row["totp_last_counter"]) == (None, None)
    assert attempt(runtime, crypto, email).ok
