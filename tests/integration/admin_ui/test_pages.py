"""The admin UI over the Flask test client: sign-in, CSRF on every form, security headers,
projects create/rename/delete. The browser journey is in tests/e2e/test_admin_ui.py."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from cairn.runtime import Runtime
from tests.factories import make_project, unique_slug
from tests.integration.admin_ui.helpers import csrf_of, sign_in
from tests.integration.admins.helpers import PASSWORD, make_admin


def test_pages_need_a_signed_in_admin(client: FlaskClient) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/sign-in?next=/admin/")


def test_sign_in_and_out(client: FlaskClient, runtime: Runtime) -> None:
    email = make_admin(runtime, runtime.admin_crypto).admin.email
    wrong = sign_in(client, email, "not the password")
    assert wrong.status_code == 401 and "email or password is not correct" in wrong.text
    signed = sign_in(client, email)
    assert signed.status_code == 302 and signed.headers["Location"] == "/admin/"
    cookie = client.get_cookie("cairn_admin", path="/admin")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    page = client.get("/admin/")
    assert page.status_code == 200 and email.lower() in page.text.lower()
    out = client.post("/admin/sign-out", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 302
    assert client.get("/admin/").status_code == 302


def test_locked_accounts_say_so(client: FlaskClient, runtime: Runtime) -> None:
    email = make_admin(runtime, runtime.admin_crypto).admin.email
    for _ in range(5):
        sign_in(client, email, "wrong password here")
    locked = sign_in(client, email)
    assert locked.status_code == 401 and "locked" in locked.text.lower()


def test_next_never_leaves_the_admin_ui(client: FlaskClient, runtime: Runtime) -> None:
    email = make_admin(runtime, runtime.admin_crypto).admin.email
    token = csrf_of(client.get("/admin/sign-in").text)
    for target, expected in (
        ("https://evil.test/", "/admin/"),
        ("/admin/p/x/settings", "/admin/p/x/settings"),
    ):
        response = client.post(
            f"/admin/sign-in?next={target}",
            data={"csrf_token": token, "email": email, "password": PASSWORD},
        )
        assert response.headers["Location"] == expected


def test_forms_without_a_csrf_token_are_refused(client: FlaskClient, runtime: Runtime) -> None:
    email = make_admin(runtime, runtime.admin_crypto).admin.email
    refused = client.post("/admin/sign-in", data={"email": email, "password": PASSWORD})
    assert refused.status_code == 400 and client.get_cookie("cairn_admin", path="/admin") is None
    forged = client.post(
        "/admin/sign-in", data={"csrf_token": "forged", "email": email, "password": PASSWORD}
    )
    assert forged.status_code == 400


def test_every_page_carries_strict_headers(admin_client: FlaskClient) -> None:
    for path in ("/admin/", "/admin/sign-in", "/admin/static/admin.css"):
        headers = admin_client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_scripts_or_external_assets(admin_client: FlaskClient) -> None:
    html = admin_client.get("/admin/").text
    assert "<script>" not in html and "onclick" not in html and "style=" not in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#")), url


def test_create_rename_and_delete_a_project(admin_client: FlaskClient, runtime: Runtime) -> None:
    page = admin_client.get("/admin/")
    slug = unique_slug("ui")
    created = admin_client.post(
        "/admin/projects", data={"csrf_token": csrf_of(page.text), "slug": slug, "name": "Shop"}
    )
    assert created.status_code == 302
    overview = admin_client.get(created.headers["Location"])
    assert "Shop" in overview.text and "created" in overview.text
    settings = admin_client.get(f"/admin/p/{slug}/settings")
    token = csrf_of(settings.text)
    bad = admin_client.post("/admin/projects", data={"csrf_token": token, "slug": "Bad Slug"})
    assert bad.status_code == 422 and "slug" in bad.text.lower()
    taken = admin_client.post("/admin/projects", data={"csrf_token": token, "slug": slug})
    assert taken.status_code == 409 and "already exists" in taken.text
    renamed = admin_client.post(
        f"/admin/p/{slug}/settings", data={"csrf_token": token, "name": "Shop 2"}
    )
    assert renamed.status_code == 302
    assert "Shop 2" in admin_client.get("/admin/").text
    wrong = admin_client.post(
        f"/admin/p/{slug}/delete", data={"csrf_token": token, "confirm": "nope"}
    )
    assert wrong.status_code == 422 and f"type {slug} to confirm" in wrong.text
    deleted = admin_client.post(
        f"/admin/p/{slug}/delete", data={"csrf_token": token, "confirm": slug}
    )
    assert deleted.status_code == 302
    assert f"<code>{slug}</code>" not in admin_client.get("/admin/").text
    assert admin_client.get(f"/admin/p/{slug}/settings").status_code == 404


def test_the_list_shows_collections_and_records(
    admin_client: FlaskClient, runtime: Runtime
) -> None:
    project = make_project(runtime)
    html = admin_client.get("/admin/").text
    row = re.search(rf"<code>{project.slug}</code></td>\s*<td class=\"num\">(\d+)</td>", html)
    assert row and row.group(1) == "0"


def test_an_unknown_admin_address_is_a_page_and_the_api_keeps_problems(
    admin_client: FlaskClient,
) -> None:
    page = admin_client.get("/admin/no/such/page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "There is no page at this address" in page.text
    api = admin_client.get("/api/v1/nothing-here")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
