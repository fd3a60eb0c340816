"""The webhooks pages: add (the secret Cairn makes is shown once), edit, delete; the delivery
log of a real failed delivery to a real receiver, and redelivering it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert, text
from werkzeug.test import TestResponse

from cairn.db.ids import new_id
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn.webhooks.models import deliveries
from tests.conftest import auth
from tests.factories import apply_yaml, make_key, run_queued
from tests.integration.admin_ui.helpers import csrf_of
from tests.integration.webhooks.receiver import Receiver

NOTES = "collections: [{name: notes, fields: {text: {type: text}}}]"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(script=[410, 200])  # a 4xx other than 408/429 is not retried
    r.start()
    yield r
    r.stop()


def url(project: Project, suffix: str = "") -> str:
    return f"/admin/p/{project.slug}/webhooks{suffix}"


def add(client: FlaskClient, project: Project, token: str, **fields: object) -> TestResponse:
    data = {"name": "notify", "events": ["record.created"], "enabled": "on", **fields}
    return client.post(url(project), data={"csrf_token": token, **data})


def test_the_empty_list_says_what_to_do(admin_client: FlaskClient, project: Project) -> None:
    page = admin_client.get(url(project))
    assert page.status_code == 200 and "No webhooks yet" in page.text
    assert page.text.count('name="events"') == 3


def test_add_shows_the_generated_secret_once(
    admin_client: FlaskClient, project: Project, receiver: Receiver
) -> None:
    token = csrf_of(admin_client.get(url(project)).text)
    assert (
        admin_client.post(url(project), data={"name": "x", "url": receiver.url}).status_code == 400
    )
    created = add(admin_client, project, token, url=receiver.url)
    assert created.status_code == 201
    page = created.text
    secret = re.search(r'id="secret-value" class="secret-value">(whsec_[^<]+)<', page)
    assert secret and 'data-copy="#secret-value"' in page
    listing = admin_client.get(url(project)).text
    assert "notify" in listing and secret.group(1) not in listing
    detail = re.search(r'href="(/admin/p/[^"]+/webhooks/[0-9a-f-]{36})"', listing)
    assert detail and secret.group(1) not in admin_client.get(detail.group(1)).text
    given = add(admin_client, project, token, name="given", url=receiver.url, secret="s" * 24)
    assert given.status_code == 302


def test_errors_are_shown_next_to_the_fields(
    admin_client: FlaskClient, project: Project, receiver: Receiver
) -> None:
    token = csrf_of(admin_client.get(url(project)).text)
    bad = add(
        admin_client, project, token, name="Bad Name", url="ftp://x", events=[], secret="short"
    )
    assert bad.status_code == 422
    for name in ("name", "url", "events", "secret"):
        assert f'id="e-{name}"' in bad.text, name
    assert 'value="ftp://x"' in bad.text
    assert add(admin_client, project, token, url=receiver.url).status_code == 201
    taken = add(admin_client, project, token, url=receiver.url)
    assert taken.status_code == 409
    assert re.search(r'id="e-name">must be unique', taken.text)


def test_edit_and_delete(admin_client: FlaskClient, project: Project, receiver: Receiver) -> None:
    token = csrf_of(admin_client.get(url(project)).text)
    add(admin_client, project, token, url=receiver.url)
    webhook = re.search(r"/webhooks/([0-9a-f-]{36})", admin_client.get(url(project)).text)
    assert webhook
    detail = url(project, f"/{webhook.group(1)}")
    assert "No deliveries yet" in admin_client.get(detail).text
    fields = {"name": "notify", "url": receiver.url, "events": ["record.deleted"]}
    assert admin_client.post(detail, data=fields).status_code == 400
    paused = admin_client.post(detail, data={"csrf_token": token, **fields})  # no "enabled"
    assert paused.status_code == 302
    page = admin_client.get(detail).text
    assert "Webhook notify saved" in page and "Paused" in page
    assert re.search(r'value="record.deleted" checked', page)
    bad = admin_client.post(detail, data={"csrf_token": token, **fields, "url": "nope"})
    assert bad.status_code == 422 and 'id="e-url"' in bad.text
    assert admin_client.post(f"{detail}/delete").status_code == 400
    deleted = admin_client.post(f"{detail}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert "Webhook notify deleted" in admin_client.get(url(project)).text
    assert admin_client.get(detail).status_code == 404


def test_a_failed_delivery_is_logged_and_redelivered(
    admin_client: FlaskClient,
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    receiver: Receiver,
) -> None:
    apply_yaml(runtime, project, NOTES)
    token = csrf_of(admin_client.get(url(project)).text)
    add(admin_client, project, token, url=receiver.url, collections="notes")
    key = make_key(runtime, project)
    created = client.post(
        f"/api/v1/projects/{project.slug}/collections/notes/records",
        json={"text": "hello"},
        headers=auth(key),
    )
    assert created.status_code == 201
    run_queued(runtime, "default", "webhooks")
    assert len(receiver.received) == 1
    webhook = re.search(r"/webhooks/([0-9a-f-]{36})", admin_client.get(url(project)).text)
    assert webhook
    detail = url(project, f"/{webhook.group(1)}")
    page = admin_client.get(detail).text
    assert "Failed</span>" in page and "HTTP 410" in page and "1 attempt<" in page
    redeliver = re.search(r'action="([^"]+/redeliver)"', page)
    assert redeliver

    assert admin_client.post(redeliver.group(1)).status_code == 400
    again = admin_client.post(redeliver.group(1), data={"csrf_token": token})
    assert again.status_code == 302
    assert "Pending</span>" in admin_client.get(detail).text
    pending = admin_client.post(redeliver.group(1), data={"csrf_token": token})
    assert pending.status_code == 422 and "still pending" in pending.text

    run_queued(runtime, "webhooks")
    assert len(receiver.received) == 2
    page = admin_client.get(detail).text
    assert "Succeeded</span>" in page and "HTTP 200" in page and "2 attempts<" in page


def test_the_delivery_log_is_paged(
    admin_client: FlaskClient, runtime: Runtime, project: Project, receiver: Receiver
) -> None:
    token = csrf_of(admin_client.get(url(project)).text)
    add(admin_client, project, token, url=receiver.url)
    webhook = re.search(r"/webhooks/([0-9a-f-]{36})", admin_client.get(url(project)).text)
    assert webhook
    webhook_id = uuid.UUID(webhook.group(1))
    ids = [new_id() for _ in range(30)]
    with runtime.db.owner(project.id) as conn:
        conn.execute(
            insert(deliveries),
            [
                {"project_id": project.id, "id": i, "webhook_id": webhook_id,
                 "event_id": new_id(), "status": "failed", "attempt_limit": 8}
                for i in ids
            ],
        )  # fmt: skip
        assert conn.execute(text("SELECT count(*) FROM cairn.deliveries")).scalar_one() == 30
    first = admin_client.get(url(project, f"/{webhook_id}")).text
    assert str(ids[-1]) in first and str(ids[4]) not in first
    following = re.search(r'href="([^"]+cursor=[^"#]+)[^"]*" rel="next"', first)
    assert following
    second = admin_client.get(following.group(1).replace("&amp;", "&")).text
    assert str(ids[0]) in second and str(ids[-1]) not in second
