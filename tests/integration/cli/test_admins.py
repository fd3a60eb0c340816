"""`cairn admins …`: platform admins from the command line, against the session's database."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from cairn.admins import service
from cairn.admins.models import admins
from cairn.admins.service import MAX_FAILED_ATTEMPTS, AdminCrypto
from cairn.config import Settings
from cairn.errors import Unauthorized
from cairn.runtime import Runtime
from tests.conftest import CairnCli
from tests.integration.admins.helpers import PASSWORD, attempt, make_admin, unique_email
from tests.integration.cli.test_commands import one_line_error


@pytest.fixture(scope="module")
def crypto(settings: Settings) -> AdminCrypto:
    return AdminCrypto.from_settings(settings)


def _json(stdout: str) -> Any:
    """The JSON result; anything before it is what the prompts echoed."""
    return json.loads(stdout[stdout.index("{") :])


class LateInput(io.RawIOBase):
    """stdin whose text is made at the first read, i.e. once the command is under way (the
    TOTP code exists only after the command has made the secret)."""

    def __init__(self, produce: Callable[[], str]) -> None:
        self._produce = produce
        self._data: bytes | None = None
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._data is None:
            self._data = self._produce().encode()
        chunk = self._data[self._at : self._at + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._at += len(chunk)
        return len(chunk)


def test_create_with_password_stdin(cairn: CairnCli, runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    result = cairn("admins", "create", email, "--password-stdin", "--json", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["email"], data["status"], data["totp_enabled"]) == (email, "active", False)
    assert "password" not in data and PASSWORD not in result.output
    assert attempt(runtime, crypto, email).ok


def test_create_prompts_twice_by_default(
    cairn: CairnCli, runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    result = cairn("admins", "create", email, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    assert f"created admin {email}" in result.stdout
    assert result.stderr.count("Password") == 1 and "Repeat for confirmation" in result.stderr
    assert PASSWORD not in result.output
    assert attempt(runtime, crypto, email).ok


def test_create_with_generate_prints_the_password_once(
    cairn: CairnCli, runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    result = cairn("admins", "create", email, "--generate", "--json")
    assert result.exit_code == 0, result.stderr
    generated = json.loads(result.stdout)["password"]
    assert attempt(runtime, crypto, email, generated).ok

    human = cairn("admins", "create", unique_email(), "--generate")
    assert human.exit_code == 0
    assert "only time the password is shown" in human.stdout


def test_create_refuses_weak_passwords_duplicates_and_both_sources(cairn: CairnCli) -> None:
    email = unique_email()
    weak = cairn("admins", "create", email, "--password-stdin", input="password\n")
    assert "most common passwords" in one_line_error(weak)
    assert cairn("admins", "create", email, "--generate").exit_code == 0
    duplicate = cairn("admins", "create", email.upper(), "--generate", "--json")
    assert json.loads(one_line_error(duplicate))["error"]["type"] == "conflict"
    both = cairn("admins", "create", unique_email(), "--generate", "--password-stdin")
    assert both.exit_code == 2 and "exclude each other" in both.stderr


def test_list_json(cairn: CairnCli, runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    make_admin(runtime, crypto, email)
    result = cairn("admins", "list", "--json")
    assert result.exit_code == 0, result.stderr
    [mine] = [a for a in json.loads(result.stdout)["items"] if a["email"] == email]
    assert mine["status"] == "active" and mine["failed_attempts"] == 0
    assert not {"password", "password_hash", "totp_secret"} & set(mine)
    human = cairn("admins", "list").stdout
    assert human.splitlines()[0].split()[:2] == ["EMAIL", "STATUS"] and email in human


def test_lockout_and_unlock(cairn: CairnCli, runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    make_admin(runtime, crypto, email)
    for _ in range(MAX_FAILED_ATTEMPTS):
        attempt(runtime, crypto, email, "not the password at all")
    assert not attempt(runtime, crypto, email).ok

    listed = json.loads(cairn("admins", "list", "--json").stdout)["items"]
    [mine] = [a for a in listed if a["email"] == email]
    assert mine["status"] == "locked" and mine["failed_attempts"] == MAX_FAILED_ATTEMPTS

    result = cairn("admins", "unlock", email, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["status"], data["failed_attempts"], data["locked_until"]) == ("active", 0, None)
    assert attempt(runtime, crypto, email).ok


def _pending_code(runtime: Runtime, crypto: AdminCrypto, email: str) -> str:
    with runtime.db.owner() as conn:
        sealed = conn.execute(
            select(admins.c.totp_secret).where(admins.c.email == email)
        ).scalar_one()
    return pyotp.TOTP(crypto.totp_box.open(sealed)).now()


def test_totp_enable_flow(cairn: CairnCli, runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    make_admin(runtime, crypto, email)

    def codes() -> str:
        right = _pending_code(runtime, crypto, email)
        wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
        return f"{wrong}\n{right}\n"

    stdin = io.BufferedReader(LateInput(codes))
    result = cairn("admins", "totp", "enable", email, "--json", input=stdin)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.stderr
    assert _json(result.stdout)["totp_enabled"]
    assert "otpauth://totp/Cairn:" in result.stderr
    assert "does not match; try again" in result.stderr

    # The secret shown is the one now in force.
    secret = result.stderr.split("Secret, to type in by hand: ")[1].split()[0]
    assert attempt(runtime, crypto, email).totp_required
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert attempt(runtime, crypto, email, code=code).ok

    again = cairn("admins", "totp", "enable", email)
    assert "enabled already" in one_line_error(again)

    disabled = cairn("admins", "totp", "disable", email, "--json")
    assert disabled.exit_code == 0 and not json.loads(disabled.stdout)["totp_enabled"]
    assert attempt(runtime, crypto, email).ok


def test_totp_enable_gives_up_after_three_wrong_codes(
    cairn: CairnCli, runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    make_admin(runtime, crypto, email)
    result = cairn("admins", "totp", "enable", email, input="1\n2\n3\n")
    assert "TOTP code is not correct" in result.stderr.strip().splitlines()[-1]
    assert result.exit_code == 1
    with runtime.db.owner() as conn:
        assert not service.get_admin(conn, email).totp_enabled


def test_disable_enable_and_sessions_revoke(
    cairn: CairnCli, runtime: Runtime, crypto: AdminCrypto
) -> None:
    email = unique_email()
    make_admin(runtime, crypto, email)
    tokens = [attempt(runtime, crypto, email).unwrap().token for _ in range(2)]

    revoked = cairn("admins", "sessions", "revoke", email, "--json")
    assert revoked.exit_code == 0 and json.loads(revoked.stdout)["revoked"] == 2
    assert "ended 0 sessions" in cairn("admins", "sessions", "revoke", email).stdout
    for token in tokens:
        with runtime.db.owner() as conn, pytest.raises(Unauthorized):
            service.session_admin(conn, crypto, token)

    assert json.loads(cairn("admins", "disable", email, "--json").stdout)["status"] == "disabled"
    assert not attempt(runtime, crypto, email).ok
    assert json.loads(cairn("admins", "enable", email, "--json").stdout)["status"] == "active"
    assert attempt(runtime, crypto, email).ok


def test_set_password(cairn: CairnCli, runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    make_admin(runtime, crypto, email)
    new = "another long passphrase 9"
    result = cairn("admins", "set-password", email, input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.stderr
    assert not attempt(runtime, crypto, email).ok
    assert attempt(runtime, crypto, email, new).ok

    generated = cairn("admins", "set-password", email, "--generate", "--json")
    assert attempt(runtime, crypto, email, json.loads(generated.stdout)["password"]).ok


def test_delete_asks_unless_yes(cairn: CairnCli, runtime: Runtime, crypto: AdminCrypto) -> None:
    email = unique_email()
    make_admin(runtime, crypto, email)
    refused = cairn("admins", "delete", email, input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.stderr
    deleted = cairn("admins", "delete", email, "--yes", "--json")
    assert deleted.exit_code == 0 and json.loads(deleted.stdout)["email"] == email
    assert "no admin" in one_line_error(cairn("admins", "unlock", email))
