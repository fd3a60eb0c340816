"""The Users page of the admin UI: search and paging, create, disable/enable, force logout,
delete — each through the same services as the API, each form CSRF-checked."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn.users import service as users
from cairn.users import sessions
from tests.integration.admin_ui.helpers import csrf_of

PASSWORD = "a long passphrase for users"


def make_user(runtime: Runtime, project: Project, email: str) -> users.User:
    with runtime.db.tenant(project.id) as conn:
        return users.create_user(
            conn, runtime.user_auth, project, email=email, password=PASSWORD, profile={},
            actor="operator",
        )  # fmt: skip


def sign_in_user(runtime: Runtime, project: Project, user: users.User) -> None:
    with runtime.db.tenant(project.id) as conn:
        users.start_session(
            conn, runtime.user_auth, project, user, method="password", ip=None, user_agent=None
        )


def active_sessions(runtime: Runtime, project: Project, user: users.User) -> int:
    with runtime.db.tenant(project.id) as conn:
        return len(sessions.list_sessions(conn, project.id, user.id))


def url(project: Project, suffix: str = "") -> str:
    return f"/admin/p/{project.slug}/users{suffix}"


def test_the_empty_list_says_what_to_do(admin_client: FlaskClient, project: Project) -> None:
    page = admin_client.get(url(project))
    assert page.status_code == 200
    assert "No users yet" in page.text and "/auth/signup" in page.text
    assert 'aria-current="page">Users<' in page.text  # the sidebar marks the section


def test_search_and_paging(admin_client: FlaskClient, runtime: Runtime, project: Project) -> None:
    for i in range(52):
        make_user(runtime, project, f"user{i:02d}@example.test")
    make_user(runtime, project, "ada@example.test")
    first = admin_client.get(url(project)).text
    assert first.count('href="/admin/p/') >= 50 and "Next page" in first
    following = re.search(r'href="([^"]+cursor=[^"]+)" rel="next"', first)
    assert following
    second = admin_client.get(following.group(1).replace("&amp;", "&")).text
    assert "ada@example.test" in second and "user00@example.test" not in second
    assert "First page" in second and "No more users" in second
    found = admin_client.get(url(project, "?search=ADA")).text
    assert "ada@example.test" in found and "user01@example.test" not in found
    none = admin_client.get(url(project, "?search=zed")).text
    assert "No user\N{RIGHT SINGLE QUOTATION MARK}s email starts with" in none and "zed" in none
    assert admin_client.get(url(project, "?cursor=forged")).status_code == 400


def test_create_a_user_with_errors_next_to_the_fields(
    admin_client: FlaskClient, project: Project
) -> None:
    token = csrf_of(admin_client.get(url(project)).text)
    bad = admin_client.post(
        url(project), data={"csrf_token": token, "email": "nope", "password": "short"}
    )
    assert bad.status_code == 422
    assert re.search(r'id="e-email">[^<]*email address', bad.text)
    assert 'id="e-password"' in bad.text and 'value="nope"' in bad.text
    created = admin_client.post(
        url(project),
        data={"csrf_token": token, "email": "ada@example.test", "password": PASSWORD},
    )
    assert created.status_code == 302
    detail = admin_client.get(created.headers["Location"]).text
    assert "ada@example.test" in detail and "User ada@example.test created" in detail
    taken = admin_client.post(url(project), data={"csrf_token": token, "email": "ADA@example.test"})
    assert taken.status_code == 409 and re.search(r'id="e-email">is taken', taken.text)
    assert admin_client.post(url(project), data={"email": "x@example.test"}).status_code == 400


def test_disable_enable_force_logout_and_delete(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    user = make_user(runtime, project, "bob@example.test")
    sign_in_user(runtime, project, user)
    page = admin_client.get(url(project, f"/{user.id}"))
    assert page.status_code == 200 and "Disable user" in page.text
    token = csrf_of(page.text)
    base = url(project, f"/{user.id}")

    assert admin_client.post(f"{base}/disabled", data={"disabled": "1"}).status_code == 400
    assert active_sessions(runtime, project, user) == 1  # the CSRF refusal changed nothing
    disabled = admin_client.post(f"{base}/disabled", data={"csrf_token": token, "disabled": "1"})
    assert disabled.status_code == 302
    shown = admin_client.get(base).text
    assert "disabled and signed out everywhere" in shown and "Enable user" in shown
    assert active_sessions(runtime, project, user) == 0
    assert "Disabled" in admin_client.get(url(project)).text
    admin_client.post(f"{base}/disabled", data={"csrf_token": token, "disabled": "0"})
    assert "can sign in again" in admin_client.get(base).text

    sign_in_user(runtime, project, user)
    sign_in_user(runtime, project, user)
    assert admin_client.post(f"{base}/logout").status_code == 400
    ended = admin_client.post(f"{base}/logout", data={"csrf_token": token})
    assert ended.status_code == 302 and "Ended 2 sessions" in admin_client.get(base).text
    assert active_sessions(runtime, project, user) == 0

    wrong = admin_client.post(f"{base}/delete", data={"csrf_token": token, "confirm": "bob"})
    assert wrong.status_code == 422 and "type bob@example.test to confirm" in wrong.text
    assert admin_client.post(f"{base}/delete", data={"confirm": user.email}).status_code == 400
    deleted = admin_client.post(f"{base}/delete", data={"csrf_token": token, "confirm": user.email})
    assert deleted.status_code == 302
    assert "User bob@example.test deleted" in admin_client.get(deleted.headers["Location"]).text
    assert admin_client.get(base).status_code == 404


def test_actions_are_audited_as_the_admin(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    user = make_user(runtime, project, "eve@example.test")
    base = url(project, f"/{user.id}")
    token = csrf_of(admin_client.get(base).text)
    admin_client.post(f"{base}/disabled", data={"csrf_token": token, "disabled": "1"})
    audit = admin_client.get(f"/admin/p/{project.slug}/audit?action=user.disabled").text
    assert "admin:" in audit and str(user.id) in audit
