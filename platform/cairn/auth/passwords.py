"""End-user passwords: the policy a new password must meet, and argon2id hashing.

- Length 8 to 256 characters (the upper bound also bounds the argon2 input).
- Not among the 10,000 most common passwords (zxcvbn's frequency list, shipped with it).
- Not the email address or its local part.
Hashes use argon2id with the configured parameters; a hash made with older parameters is
reported by `needs_rehash` so login can upgrade it. `burn` verifies against a dummy hash so
a login for an unknown email costs what a wrong password costs.
"""

from __future__ import annotations

from functools import cache, cached_property
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from cairn.errors import Invalid

if TYPE_CHECKING:
    from cairn.config import Settings

MIN_LENGTH = 8
MAX_LENGTH = 256
COMMON_COUNT = 10_000


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_COUNT])


def check_password(password: object, *, email: str | None = None) -> str:
    """The password if it meets the policy; Invalid naming `password` otherwise."""
    if not isinstance(password, str):
        raise Invalid(errors={"password": ["must be a string"]})
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in common_passwords():
        problems.append("is one of the most common passwords; choose another")
    if email and lowered in {email.lower(), email.lower().split("@", 1)[0]}:
        problems.append("must not be your email address")
    if problems:
        raise Invalid("the password is not acceptable", errors={"password": problems})
    return password


class Hasher:
    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Hasher:
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )

    @cached_property
    def _dummy(self) -> str:
        # Made on first use, so a process that never signs anyone in never pays for it.
        return self._hasher.hash("not a real password: equalises login timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(hashed, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        return bool(self._hasher.check_needs_rehash(hashed))

    def burn(self, password: str) -> None:
        """Spend a verification's worth of time for an email that has no account."""
        self.verify(self._dummy, password)
