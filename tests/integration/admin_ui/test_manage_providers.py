"""The OAuth providers page: add, edit (an empty secret keeps the stored one), delete; the
client secret never appears on a page; errors next to their fields."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn.users import providers
from tests.integration.admin_ui.helpers import csrf_of

SECRET = "corp-client-secret-xyz"


def url(project: Project, suffix: str = "") -> str:
    return f"/admin/p/{project.slug}/providers{suffix}"


def stored_secret(runtime: Runtime, project: Project, name: str) -> str:
    with runtime.db.tenant(project.id) as conn:
        _, sealed = providers.find_provider(conn, project.id, name)
    return runtime.provider_box.open(sealed)


def test_the_empty_list_says_what_to_do(admin_client: FlaskClient, project: Project) -> None:
    page = admin_client.get(url(project))
    assert page.status_code == 200 and "No OAuth providers yet" in page.text
    assert 'name="client_secret" type="password"' in page.text


def test_add_edit_and_delete_a_provider(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    token = csrf_of(admin_client.get(url(project)).text)
    fields = {
        "name": "corp",
        "preset": "",
        "discovery_url": "https://id.example.test/.well-known/openid-configuration",
        "client_id": "cairn-app",
        "client_secret": SECRET,
        "scopes": "openid email",
    }
    assert admin_client.post(url(project), data=fields).status_code == 400
    added = admin_client.post(url(project), data={"csrf_token": token, **fields})
    assert added.status_code == 302
    page = admin_client.get(added.headers["Location"])
    callback = f"/api/v1/projects/{project.slug}/auth/oauth/corp/callback"
    assert "Provider corp added" in page.text and callback in page.text
    assert SECRET not in page.text and SECRET not in admin_client.get(url(project)).text
    assert stored_secret(runtime, project, "corp") == SECRET

    edit = added.headers["Location"]
    assert admin_client.post(edit, data={**fields, "client_id": "other"}).status_code == 400
    kept = admin_client.post(
        edit, data={"csrf_token": token, **fields, "client_secret": "", "client_id": "other"}
    )
    assert kept.status_code == 302 and "Provider corp saved" in admin_client.get(edit).text
    assert stored_secret(runtime, project, "corp") == SECRET  # an empty field keeps it
    assert 'value="other"' in admin_client.get(edit).text

    wrong = admin_client.post(edit, data={"csrf_token": token, **fields, "preset": "github"})
    assert wrong.status_code == 422
    assert re.search(r'id="e-discovery_url">give either preset or discovery_url', wrong.text)

    assert admin_client.post(f"{edit}/delete").status_code == 400
    deleted = admin_client.post(f"{edit}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert "Provider corp deleted" in admin_client.get(url(project)).text
    assert admin_client.get(edit).status_code == 404


def test_errors_are_shown_next_to_the_fields(admin_client: FlaskClient, project: Project) -> None:
    token = csrf_of(admin_client.get(url(project)).text)
    bad = admin_client.post(
        url(project),
        data={"csrf_token": token, "name": "Corp!", "preset": "github", "client_id": ""},
    )
    assert bad.status_code == 422
    for name in ("name", "client_id"):
        assert f'id="e-{name}"' in bad.text, name
    no_secret = admin_client.post(
        url(project),
        data={"csrf_token": token, "name": "gh", "preset": "github", "client_id": "Iv1.x"},
    )
    assert no_secret.status_code == 422
    assert re.search(r'id="e-client_secret">required for a new provider', no_secret.text)
    first = {"name": "gh", "preset": "github", "client_id": "Iv1.x", "client_secret": "s"}
    assert admin_client.post(url(project), data={"csrf_token": token, **first}).status_code == 302
    taken = admin_client.post(url(project), data={"csrf_token": token, **first})
    assert taken.status_code == 409 and re.search(r'id="e-name">must be unique', taken.text)
