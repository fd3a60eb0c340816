"""Every project management page: signed-in only, in the sidebar, strict about scripts and
styles (CSP without 'unsafe-inline'), no external asset, a label for every input."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from cairn.mail import service as mail
from cairn.runtime import Runtime
from cairn.schedules import service as schedules
from cairn.tenancy.service import Project
from tests.integration.admin_ui.helpers import csrf_of

SECTIONS = {
    "users": "Users",
    "keys": "API keys",
    "providers": "OAuth providers",
    "webhooks": "Webhooks",
    "schedules": "Schedules",
    "jobs": "Jobs",
    "mailbox": "Mailbox",
    "audit": "Audit log",
}


class Controls(HTMLParser):
    """The page's form controls (but hidden ones and buttons) and its labels."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.inline_handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.inline_handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))
        if tag in ("select", "textarea") or (
            tag == "input" and found.get("type") not in ("hidden", "submit", "button")
        ):
            self.controls.append(found)


@pytest.mark.parametrize("section", list(SECTIONS))
def test_a_page_is_safe_labelled_and_in_the_sidebar(
    admin_client: FlaskClient, client: FlaskClient, project: Project, section: str
) -> None:
    path = f"/admin/p/{project.slug}/{section}"
    page = admin_client.get(path)
    assert page.status_code == 200
    html = page.text
    assert f'href="{path}" aria-current="page">{SECTIONS[section]}<' in html
    assert "/admin/static/manage.css" in html and "/admin/static/manage.js" in html
    assert_page_is_clean(html)


def test_pages_need_a_signed_in_admin(client: FlaskClient, project: Project) -> None:
    for section in SECTIONS:
        response = client.get(f"/admin/p/{project.slug}/{section}")
        assert response.status_code == 302 and "/admin/sign-in" in response.headers["Location"]


def test_an_unknown_project_is_a_404_page(admin_client: FlaskClient) -> None:
    for section in SECTIONS:
        response = admin_client.get(f"/admin/p/no-such-project/{section}")
        assert response.status_code == 404 and "<h1>" in response.text


def assert_page_is_clean(html: str) -> None:
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', html):
        assert url.startswith(("/", "#")), url
    controls = Controls()
    controls.feed(html)
    assert not controls.inline_handlers
    for control in controls.controls:
        assert control.get("id") in controls.labelled, control
    assert html.count('name="csrf_token"') == html.count('method="post"')


def test_detail_pages_are_safe_and_labelled(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    """One of everything, then every page about one thing (and the secret-once pages)."""
    base = f"/admin/p/{project.slug}"
    token = csrf_of(admin_client.get(f"{base}/users").text)
    pages = []
    for section, fields in (
        ("users", {"email": "ada@example.test", "password": "a long passphrase here"}),
        ("providers", {"name": "gh", "preset": "github", "client_id": "x", "client_secret": "s"}),
        ("webhooks", {"name": "hook", "url": "http://127.0.0.1:9/h", "events": "record.created",
                      "secret": "s" * 24}),
    ):  # fmt: skip
        created = admin_client.post(f"{base}/{section}", data={"csrf_token": token, **fields})
        assert created.status_code == 302, created.text
        pages.append(created.headers["Location"])
    issued = admin_client.post(f"{base}/keys", data={"csrf_token": token, "scope": "read"})
    generated = admin_client.post(
        f"{base}/webhooks",
        data={"csrf_token": token, "name": "other", "url": "http://127.0.0.1:9/h",
              "events": "record.created"},
    )  # fmt: skip
    assert issued.status_code == generated.status_code == 201
    assert_page_is_clean(issued.text)
    assert_page_is_clean(generated.text)
    with runtime.db.tenant(project.id) as conn:
        schedule = schedules.save_schedule(
            conn, runtime.webhook_box, project.id,
            schedules.load_schedule(
                {"name": "s", "cron": "@daily", "action": {"type": "export", "collection": "c"}}
            ),
            actor="operator", allow_private=True,
        )  # fmt: skip
        mail_id = mail.send_mail(
            conn, project.id, to="ada@example.test", subject="Hi", text="Hello",
            smtp_configured=False,
        )  # fmt: skip
    pages += [f"{base}/schedules/{schedule.id}", f"{base}/mailbox/{mail_id}"]
    for path in pages:
        page = admin_client.get(path)
        assert page.status_code == 200, path
        assert_page_is_clean(page.text)
