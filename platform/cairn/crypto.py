"""Keyed hashing for high-entropy tokens. Low-entropy secrets (passwords) use argon2id elsewhere."""

from __future__ import annotations

import hashlib
import hmac


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A separate key per purpose, so a leak of one derived key exposes nothing else."""
    return hmac.new(secret_key.encode(), b"cairn:" + purpose.encode(), hashlib.sha256).digest()


def keyed_hash(pepper: bytes, token: str) -> bytes:
    return hmac.new(pepper, token.encode(), hashlib.sha256).digest()


def same_digest(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
