"""The mailbox (mails kept locally without SMTP) and the audit log with its filters, both
paged; bad filters are shown next to their fields."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from cairn.audit import service as audit
from cairn.mail import service as mail
from cairn.runtime import Runtime
from cairn.tenancy.service import Project

LINK = "https://app.example.test/verify?token=abc&x=1"


def send(runtime: Runtime, project: Project, subject: str, text: str = "Hello") -> None:
    with runtime.db.tenant(project.id) as conn:
        mail.send_mail(
            conn, project.id, to="ada@example.test", subject=subject, text=text,
            html=f"<p>{text}</p>", smtp_configured=False,
        )  # fmt: skip


def record(runtime: Runtime, project: Project, *entries: tuple[str, str, str]) -> None:
    with runtime.db.tenant(project.id, {"source": "203.0.113.9"}) as conn:
        for actor, action, target in entries:
            audit.record(conn, project.id, actor, action, target, {"n": 1})


def test_the_empty_mailbox_says_what_to_do(admin_client: FlaskClient, project: Project) -> None:
    page = admin_client.get(f"/admin/p/{project.slug}/mailbox")
    assert page.status_code == 200 and "No mails yet" in page.text
    assert "No SMTP server is configured" in page.text


def test_mails_are_listed_paged_and_read(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    send(runtime, project, "Verify your email", f"Follow {LINK} to verify.")
    for i in range(50):
        send(runtime, project, f"Note {i:02d}")
    first = admin_client.get(f"/admin/p/{project.slug}/mailbox").text
    assert "Note 49" in first and "Verify your email" not in first
    following = re.search(r'href="([^"]+cursor=[^"]+)" rel="next"', first)
    assert following
    second = admin_client.get(following.group(1).replace("&amp;", "&")).text
    assert "Verify your email" in second and "Note 49" not in second
    opened = re.search(r'href="(/admin/p/[^"]+/mailbox/[0-9a-f-]{36})">Verify your email<', second)
    assert opened
    page = admin_client.get(opened.group(1)).text
    assert "ada@example.test" in page
    assert '<a href="https://app.example.test/verify?token=abc&amp;x=1"' in page  # a live link
    assert "&lt;p&gt;Follow" in page  # the HTML version only as escaped source
    assert admin_client.get(f"/admin/p/{project.slug}/mailbox/{project.id}").status_code == 404


def test_the_audit_log_is_filtered_and_paged(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    empty = admin_client.get(f"/admin/p/{project.slug}/audit")
    assert empty.status_code == 200 and "Nothing audited yet" in empty.text
    record(runtime, project, *[("key:k1", "api_key.created", f"key-{i:02d}") for i in range(55)])
    record(runtime, project, ("admin:ops@example.test", "user.deleted", "user-1"))
    base = f"/admin/p/{project.slug}/audit"
    first = admin_client.get(base).text
    assert "user.deleted" in first and "key-54" in first and "key-04" not in first
    assert "from 203.0.113.9" in first
    following = re.search(r'href="([^"]+cursor=[^"]+)" rel="next"', first)
    assert following
    second = admin_client.get(following.group(1).replace("&amp;", "&")).text
    assert "key-00" in second and "key-06" not in second and "No more entries" in second

    by_prefix = admin_client.get(f"{base}?action=user.").text
    assert "user.deleted" in by_prefix and "api_key.created" not in by_prefix
    by_actor = admin_client.get(f"{base}?actor=admin:ops@example.test").text
    assert "user-1" in by_actor and "key-01" not in by_actor
    by_target = admin_client.get(f"{base}?target=key-07").text
    assert "key-07" in by_target and "key-08" not in by_target
    assert "Clear filters" in by_target
    # A value in a row links to the log filtered by it, keeping the other filters.
    assert f'href="{base}?target=key-07&amp;actor=key:k1"' in by_target
    none = admin_client.get(f"{base}?action=nothing.").text
    assert "No entry matches" in none
    future = admin_client.get(f"{base}?since=2999-01-01T00:00").text
    assert "No entry matches" in future
    window = admin_client.get(f"{base}?since=2000-01-01T00:00&until=2999-01-01T00:00").text
    assert "key-54" in window


def test_bad_filters_are_shown_next_to_their_fields(
    admin_client: FlaskClient, project: Project
) -> None:
    base = f"/admin/p/{project.slug}/audit"
    bad_time = admin_client.get(f"{base}?since=yesterday")
    assert bad_time.status_code == 400 and re.search(r'id="e-since">since must be', bad_time.text)
    backwards = admin_client.get(f"{base}?since=2024-05-02T00:00&until=2024-05-01T00:00")
    assert backwards.status_code == 400
    assert re.search(r'id="e-until">since must be earlier than until', backwards.text)
    long_action = admin_client.get(f"{base}?action={'a' * 101}")
    assert long_action.status_code == 400 and 'id="e-action"' in long_action.text
    assert admin_client.get(f"{base}?cursor=forged").status_code == 400
