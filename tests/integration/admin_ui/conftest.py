from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from cairn.runtime import Runtime
from tests.integration.admin_ui.helpers import sign_in
from tests.integration.admins.helpers import make_admin


@pytest.fixture
def admin_client(client: FlaskClient, runtime: Runtime) -> FlaskClient:
    """A test client signed in as a fresh platform admin."""
    email = make_admin(runtime, runtime.admin_crypto).admin.email
    assert sign_in(client, email).status_code == 302
    return client
