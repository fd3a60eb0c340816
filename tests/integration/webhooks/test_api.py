"""/webhooks for admin keys: declare, read, change, delete; the SSRF guard; secrets."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from cairn.auth.keys import IssuedKey
from cairn.errors import Invalid
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn.webhooks.service import check_url
from tests.conftest import auth
from tests.factories import make_key
from tests.integration.http.test_app import assert_problem

HOOK = {"name": "notify", "url": "http://127.0.0.1:9/hook", "events": ["record.created"]}


def url(project: Project, suffix: str = "") -> str:
    return f"/api/v1/projects/{project.slug}/webhooks{suffix}"


def test_lifecycle_and_secret_shown_once(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    created = client.post(url(project), json=HOOK, headers=auth(admin_key))
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    body = created.get_json()
    assert body["secret"].startswith("whsec_") and body["collections"] == []
    assert created.headers["Location"].endswith(url(project, f"/{body['id']}"))
    with runtime.db.tenant(project.id) as conn:
        stored = bytes(
            conn.execute(text("SELECT secret_encrypted FROM cairn.webhooks")).scalar_one()
        )
    assert body["secret"].encode() not in stored  # encrypted at rest
    one = client.get(url(project, f"/{body['id']}"), headers=auth(admin_key)).get_json()
    assert "secret" not in one and one["name"] == "notify"
    patched = client.patch(
        url(project, f"/{body['id']}"),
        json={"enabled": False, "collections": ["posts"]},
        headers=auth(admin_key),
    ).get_json()
    assert (patched["enabled"], patched["collections"], patched["url"]) == (
        False,
        ["posts"],
        HOOK["url"],
    )
    assert "secret" not in patched
    listed = client.get(url(project), headers=auth(admin_key)).get_json()["items"]
    assert [w["id"] for w in listed] == [body["id"]]
    assert client.delete(url(project, f"/{body['id']}"), headers=auth(admin_key)).status_code == 204
    assert_problem(client.get(url(project, f"/{body['id']}"), headers=auth(admin_key)), 404)


def test_a_given_secret_is_kept_and_not_echoed(
    client: FlaskClient, project: Project, admin_key: IssuedKey
) -> None:
    created = client.post(url(project), json={**HOOK, "secret": "s" * 32}, headers=auth(admin_key))
    assert created.status_code == 201 and "secret" not in created.get_json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**HOOK, "url": "ftp://example.com"}, "url"),
        ({**HOOK, "url": "not a url"}, "url"),
        ({**HOOK, "events": []}, "events"),
        ({**HOOK, "events": ["record.exploded"]}, "events"),
        ({**HOOK, "name": "Bad Name"}, "name"),
        ({**HOOK, "secret": "short"}, "secret"),
        ({**HOOK, "collections": "posts"}, "collections"),
        ({**HOOK, "enabled": "yes"}, "enabled"),
        ({**HOOK, "surprise": 1}, "surprise"),
        ({**HOOK, "url": "http://no-such-host.invalid/x"}, "url"),
    ],
)
def test_invalid_webhooks_are_422(
    client: FlaskClient, project: Project, admin_key: IssuedKey, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(client.post(url(project), json=body, headers=auth(admin_key)), 422)
    assert field in problem["errors"]  # type: ignore[operator]
    assert client.get(url(project), headers=auth(admin_key)).get_json()["items"] == []


def test_duplicate_names_are_409(
    client: FlaskClient, project: Project, admin_key: IssuedKey
) -> None:
    assert client.post(url(project), json=HOOK, headers=auth(admin_key)).status_code == 201
    assert_problem(client.post(url(project), json=HOOK, headers=auth(admin_key)), 409)


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://172.16.5.4/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://0.0.0.0/x",
        "http://224.0.0.1/x",
    ],
)
def test_private_targets_are_refused_unless_allowed(target: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_url(target, allow_private=False)
    assert "non-public address" in caught.value.errors["url"][0]
    check_url(target, allow_private=True)  # the operator's choice (CAIRN_WEBHOOK_ALLOW_PRIVATE)


def test_public_targets_pass_the_guard() -> None:
    check_url("http://93.184.215.14/x", allow_private=False)


@pytest.mark.parametrize("scope", ["read", "write", "service"])
def test_only_admin_keys(
    client: FlaskClient, runtime: Runtime, project: Project, scope: str
) -> None:
    key = make_key(runtime, project, scope=scope)
    assert_problem(client.get(url(project), headers=auth(key)), 403)
    assert_problem(client.post(url(project), json=HOOK, headers=auth(key)), 403)


def test_deliveries_of_an_unknown_webhook_are_404(
    client: FlaskClient, project: Project, admin_key: IssuedKey
) -> None:
    missing = "01890000-0000-7000-8000-000000000000"
    assert_problem(client.get(url(project, f"/{missing}/deliveries"), headers=auth(admin_key)), 404)
    assert_problem(
        client.post(
            url(project, f"/{missing}/deliveries/{missing}/redeliver"), headers=auth(admin_key)
        ),
        404,
    )


def test_a_webhook_whose_host_is_gone_can_still_be_paused(
    client: FlaskClient, runtime: Runtime, project: Project, admin_key: IssuedKey
) -> None:
    created = client.post(url(project), json=HOOK, headers=auth(admin_key)).get_json()
    gone = "http://receiver.invalid/hook"  # .invalid never resolves (RFC 6761)
    with runtime.db.tenant(project.id) as conn:
        conn.execute(text("UPDATE cairn.webhooks SET url = :url"), {"url": gone})
    one = url(project, f"/{created['id']}")
    paused = client.patch(one, json={"enabled": False}, headers=auth(admin_key))
    assert paused.status_code == 200, paused.get_json()
    assert (paused.get_json()["enabled"], paused.get_json()["url"]) == (False, gone)
    moved = client.patch(one, json={"url": "http://other.invalid/x"}, headers=auth(admin_key))
    problem = assert_problem(moved, 422)
    assert "does not resolve" in problem["errors"]["url"][0]  # type: ignore[index]
    assert client.get(one, headers=auth(admin_key)).get_json()["url"] == gone
