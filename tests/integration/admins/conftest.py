from __future__ import annotations

import pytest

from cairn.admins.service import AdminCrypto
from cairn.config import Settings


@pytest.fixture(scope="session")
def crypto(settings: Settings) -> AdminCrypto:
    return AdminCrypto.from_settings(settings)
