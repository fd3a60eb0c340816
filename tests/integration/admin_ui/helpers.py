"""Driving admin UI forms with the Flask test client."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from tests.integration.admins.helpers import PASSWORD


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on the page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def submit(client: FlaskClient, page_path: str, action: str, **fields: Any) -> Any:
    """Open `page_path` (for its CSRF token) and post `fields` to `action`."""
    token = csrf_of(client.get(page_path).text)
    return client.post(action, data={"csrf_token": token, **fields})


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, **extra: str) -> Any:
    return submit(
        client, "/admin/sign-in", "/admin/sign-in", email=email, password=password, **extra
    )
