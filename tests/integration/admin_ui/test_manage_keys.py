"""The API keys page: create with scope and expiry (the secret shown once, never stored in
the session nor shown again), revoke, rotate — checked against the API itself."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import auth
from tests.factories import make_key
from tests.integration.admin_ui.helpers import csrf_of

SECRET = re.compile(r'id="secret-value" class="secret-value">(ck_[A-Za-z0-9_-]+)<')


def url(project: Project, suffix: str = "") -> str:
    return f"/admin/p/{project.slug}/keys{suffix}"


def api_keys(client: FlaskClient, project: Project, token: str) -> int:
    """The status of an admin-only API call made with `token`."""
    return client.get(f"/api/v1/projects/{project.slug}/api-keys", headers=auth(token)).status_code


def test_the_empty_list_says_what_to_do(admin_client: FlaskClient, project: Project) -> None:
    page = admin_client.get(url(project))
    assert page.status_code == 200 and "No usable API keys" in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_create_shows_the_secret_once_and_it_works(
    admin_client: FlaskClient, client: FlaskClient, project: Project
) -> None:
    token = csrf_of(admin_client.get(url(project)).text)
    created = admin_client.post(
        url(project),
        data={"csrf_token": token, "name": "shop backend", "scope": "admin", "expires_in": "30d"},
    )
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    found = SECRET.search(created.text)
    assert found and 'data-copy="#secret-value"' in created.text
    secret = found.group(1)
    assert api_keys(client, project, secret) == 200
    listing = admin_client.get(url(project)).text
    assert "shop backend" in listing and secret[:15] in listing  # the public prefix
    assert secret not in listing  # never again
    with admin_client.session_transaction("/admin/") as session:
        assert secret not in repr(dict(session))
    assert "Expires</th>" in listing and "Never" not in listing  # used, and it expires


def test_create_refuses_bad_input_next_to_the_field(
    admin_client: FlaskClient, project: Project
) -> None:
    token = csrf_of(admin_client.get(url(project)).text)
    bad = admin_client.post(
        url(project),
        data={"csrf_token": token, "name": "x" * 101, "scope": "root", "expires_in": "soon"},
    )
    assert bad.status_code == 422
    for name in ("name", "scope", "expires_in"):
        assert f'id="e-{name}"' in bad.text, name
    assert "is not a duration" in bad.text and 'value="soon"' in bad.text
    refused = admin_client.post(url(project), data={"scope": "read"})
    assert refused.status_code == 400
    assert "No usable API keys" in admin_client.get(url(project)).text


def test_revoke_and_rotate(
    admin_client: FlaskClient, client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    old = make_key(runtime, project, "admin", name="ci")
    page = admin_client.get(url(project))
    token = csrf_of(page.text)
    assert "ci" in page.text and f"/keys/{old.key.id}/rotate" in page.text

    assert admin_client.post(url(project, f"/{old.key.id}/rotate")).status_code == 400
    assert api_keys(client, project, old.secret) == 200
    rotated = admin_client.post(url(project, f"/{old.key.id}/rotate"), data={"csrf_token": token})
    assert rotated.status_code == 201 and "Key “ci” rotated" in rotated.text
    found = SECRET.search(rotated.text)
    assert found
    new_secret = found.group(1)
    assert api_keys(client, project, old.secret) == 401
    assert api_keys(client, project, new_secret) == 200

    again = admin_client.post(url(project, f"/{old.key.id}/rotate"), data={"csrf_token": token})
    assert again.status_code == 422 and "a revoked key cannot be rotated" in again.text

    listing = admin_client.get(url(project)).text
    new_id = re.search(r"/keys/([0-9a-f-]{36})/revoke", listing)
    assert new_id and str(old.key.id) not in listing  # revoked keys are hidden by default
    assert admin_client.post(url(project, f"/{new_id.group(1)}/revoke")).status_code == 400
    revoked = admin_client.post(
        url(project, f"/{new_id.group(1)}/revoke"), data={"csrf_token": token}
    )
    assert revoked.status_code == 302
    assert "is revoked" in admin_client.get(url(project)).text
    assert api_keys(client, project, new_secret) == 401
    everything = admin_client.get(url(project, "?all=1")).text
    assert everything.count("Revoked</span>") == 2


def test_keys_are_paged(admin_client: FlaskClient, runtime: Runtime, project: Project) -> None:
    for i in range(51):
        make_key(runtime, project, "read", name=f"key-{i:02d}")
    first = admin_client.get(url(project)).text
    assert "key-00" in first and "key-50" not in first
    following = re.search(r'href="([^"]+cursor=[^"]+)" rel="next"', first)
    assert following
    second = admin_client.get(following.group(1).replace("&amp;", "&")).text
    assert "key-50" in second and "key-00" not in second
