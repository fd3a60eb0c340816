from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters

from cairn.auth.passwords import MAX_LENGTH, Hasher, check_password
from cairn.config import load_settings
from cairn.errors import ConfigError, Invalid

FAST = {"time_cost": 1, "memory_kib": 8192, "parallelism": 1}


@pytest.mark.parametrize(
    ("password", "email", "message"),
    [
        ("short", None, "at least 8"),
        ("x" * (MAX_LENGTH + 1), None, "at most 256"),
        ("password", None, "most common"),
        ("Password1", None, "most common"),  # case does not help
        ("qwertyuiop", None, "most common"),
        ("ann.lee@example.com", "ann.lee@example.com", "email"),
        ("ann.lee.smith", "Ann.Lee.Smith@example.com", "email"),
        (12345678, None, "string"),
    ],
)
def test_the_policy_refuses(password: object, email: str | None, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_password(password, email=email)
    assert any(message in m for m in caught.value.errors["password"])


@pytest.mark.parametrize("password", ["correct horse battery staple", "Tr0ub4dor&3-x", "é" * 8])
def test_the_policy_accepts(password: str) -> None:
    assert check_password(password, email="someone@example.com") == password


def test_hash_verify_and_rehash_on_new_parameters() -> None:
    old = Hasher(**FAST)
    hashed = old.hash("correct horse battery staple")
    assert hashed.startswith("$argon2id$") and "correct" not in hashed
    assert old.verify(hashed, "correct horse battery staple")
    assert not old.verify(hashed, "correct horse battery stapl")
    assert not old.verify("not a hash", "x")
    assert not old.needs_rehash(hashed)
    stronger = Hasher(time_cost=2, memory_kib=8192, parallelism=1)
    assert stronger.verify(hashed, "correct horse battery staple")  # old hashes still verify
    assert stronger.needs_rehash(hashed)


def test_burn_runs_a_verification_of_the_same_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """No stopwatch: burn must run argon2's verify on a hash made with the hasher's own
    parameters, which is what makes an unknown email cost what a wrong password costs."""
    hasher = Hasher(**FAST)
    real = extract_parameters(hasher.hash("correct horse battery staple"))
    verified: list[str] = []
    verify = PasswordHasher.verify

    def spy(self: PasswordHasher, hashed: str, password: str) -> bool:
        verified.append(hashed)
        return verify(self, hashed, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    hasher.burn("wrong password here")
    assert len(verified) == 1
    assert extract_parameters(verified[0]) == real


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CAIRN_ARGON2_TIME_COST", "0"),
        ("CAIRN_ARGON2_MEMORY_KIB", "1024"),
        ("CAIRN_ARGON2_PARALLELISM", "many"),
    ],
)
def test_bad_argon2_parameters_stop_the_start(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{variable}: "):
        load_settings({variable: value})
