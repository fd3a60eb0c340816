"""End users, their sessions, OAuth and the admin user and provider APIs: real responses
checked against the project's OpenAPI document (see test_openapi.py for the others).

The fuzzer (test_fuzz.py) cannot reach what needs a mailed token, a second account, a cookie
session or a real identity provider; here each is driven on purpose, and every response is
checked against the operation the document gives for it (status, content type, required
headers, body schema with formats) — the `User` schema with the project's profile fields
included.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn.users import providers
from tests.conftest import auth
from tests.factories import apply_file, make_key
from tests.integration.openapi.test_openapi import Conformance, fetch
from tests.integration.users.idp import IdentityProvider
from tests.integration.users.test_auth_api import mailed_token

PASSWORD = "correct horse battery"
APP = "https://app.example.test/signed-in"
PROJECT_FILE = """
users:
  fields:
    display_name: {type: text, max_length: 80}
    age: {type: integer, min: 0}
    plan: {type: select, values: [free, pro], required: true, default: free}
    born: {type: date}
    prefs: {type: json}
auth:
  redirect_allow: ["https://app.example.test/*"]
"""


@pytest.fixture
def users_project(runtime: Runtime, project: Project) -> Project:
    return apply_file(runtime, project, PROJECT_FILE)


@pytest.fixture
def api(client: FlaskClient, runtime: Runtime, users_project: Project) -> Conformance:
    key = make_key(runtime, users_project)
    return Conformance(fetch(client, users_project, key), client, key)


def session(token: str) -> dict[str, Any]:
    return auth(token)


def _seen(api: Conformance) -> set[tuple[str, str, int]]:
    return set(api.seen)


def test_the_user_schema_has_the_profile_fields(api: Conformance) -> None:
    user = api.document["components"]["schemas"]["User"]["properties"]
    assert {"display_name", "age", "plan", "born", "prefs"} <= set(user)
    signup = api.document["components"]["schemas"]["SignupInput"]
    assert signup["properties"]["plan"]["default"] == "free"


def test_end_user_responses_conform(
    api: Conformance, client: FlaskClient, runtime: Runtime, users_project: Project
) -> None:
    signup, login = "/auth/signup", "/auth/login"
    body = {"email": "ada@example.test", "password": PASSWORD, "display_name": "Ada"}
    made = api.call("POST", signup, signup, json={**body, "age": 36, "born": "1815-12-10"})
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    ada = made.get_json()
    assert ada["user"]["plan"] == "free" and ada["token"].startswith("cs_")
    assert api.call("POST", signup, signup, json=body).status_code == 409
    assert api.call("POST", signup, signup, json={**body, "age": -1}).status_code == 422
    api.call("POST", signup, signup, data="{", content_type="application/json")  # 400
    api.call("POST", signup, signup, data="x", content_type="text/plain")  # 415

    again = api.call("POST", login, login, json={"email": "ADA@example.test", "password": PASSWORD})
    assert again.status_code == 200 and again.headers["Cache-Control"] == "no-store"
    wrong = api.call("POST", login, login, json={"email": "ada@example.test", "password": "no"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"]

    me = session(ada["token"])
    assert api.call("GET", "/auth/me", "/auth/me", headers=me).get_json()["age"] == 36
    assert api.call("GET", "/auth/me", "/auth/me").status_code == 401  # an API key
    changed = api.call(
        "PATCH", "/auth/me", "/auth/me", json={"display_name": None, "prefs": [1]}, headers=me
    )
    assert changed.status_code == 200 and changed.get_json()["display_name"] is None
    refused = api.call("PATCH", "/auth/me", "/auth/me", json={"email": "x@y.z"}, headers=me)
    assert refused.status_code == 422

    sessions, one = "/auth/sessions", "/auth/sessions/{session_id}"
    listed = api.call("GET", sessions, sessions, headers=me).get_json()["items"]
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
    [other] = [s for s in listed if not s["current"]]
    assert api.call("DELETE", one, f"/auth/sessions/{other['id']}", headers=me).status_code == 204
    assert api.call("DELETE", one, f"/auth/sessions/{uuid.uuid4()}", headers=me).status_code == 404

    password = "/auth/password"
    bad = {"current_password": "nope", "new_password": "another good one"}
    assert api.call("POST", password, password, json=bad, headers=me).status_code == 422
    good = {"current_password": PASSWORD, "new_password": "another good one"}
    assert api.call("POST", password, password, json=good, headers=me).status_code == 204
    reader = session(make_key(runtime, users_project, scope="read").secret)
    assert api.call("POST", password, password, json=good, headers=reader).status_code == 403

    change, confirm = "/auth/email-change", "/auth/email-change/confirm"
    api.call("POST", signup, signup, json={**body, "email": "taken@example.test"})
    taken = {"new_email": "taken@example.test"}
    assert api.call("POST", change, change, json=taken, headers=me).status_code == 409
    asked = api.call("POST", change, change, json={"new_email": "ada@new.test"}, headers=me)
    assert asked.status_code == 202
    token = mailed_token(runtime, users_project, "ada@new.test", "email_change")
    done = api.call("GET", confirm, confirm, query_string={"token": token})
    assert done.get_json()["user"]["email"] == "ada@new.test"
    assert api.call("POST", confirm, confirm, json={"token": token}).status_code == 422

    reset, reset_confirm = "/auth/password-reset", "/auth/password-reset/confirm"
    assert api.call("POST", reset, reset, json={"email": "ada@new.test"}).status_code == 202
    assert api.call("POST", reset, reset, json={"email": "nobody@x.test"}).status_code == 202
    assert api.call("POST", reset, reset, json={"email": "not one"}).status_code == 422
    token = mailed_token(runtime, users_project, "ada@new.test", "password_reset")
    weak = api.call("POST", reset_confirm, reset_confirm, json={"token": token, "password": "x"})
    assert weak.status_code == 422
    set_again = {"token": token, "password": PASSWORD}
    assert api.call("POST", reset_confirm, reset_confirm, json=set_again).status_code == 200

    verify, verify_confirm = "/auth/verify-email", "/auth/verify-email/confirm"
    email = {"email": "taken@example.test"}
    assert api.call("POST", verify, verify, json=email).status_code == 202
    token = mailed_token(runtime, users_project, "taken@example.test", "verify_email")
    verified = api.call("POST", verify_confirm, verify_confirm, json={"token": token})
    assert verified.get_json()["user"]["verified"] is True
    stale = api.call("GET", verify_confirm, verify_confirm, query_string={"token": token})
    assert stale.status_code == 422

    # A browser: the session in the cookie, writes need the CSRF header.
    browser = api.client
    signed = browser.post(
        f"{api.base}{login}", json={"email": "taken@example.test", "password": PASSWORD}
    )
    api.check("POST", login, signed)
    logout = f"{api.base}/auth/logout"
    refused = browser.post(logout)
    api.check("POST", "/auth/logout", refused)
    assert refused.status_code == 403
    ended = browser.post(logout, headers={"X-CSRF-Token": signed.get_json()["csrf_token"]})
    api.check("POST", "/auth/logout", ended)
    assert ended.status_code == 204
    assert api.call("GET", "/auth/me", "/auth/me", headers=me).status_code == 401  # reset
    assert api.call("POST", "/auth/logout", "/auth/logout", headers=me).status_code == 401

    assert _seen(api) >= {
        ("POST", signup, 201),
        ("POST", signup, 400),
        ("POST", signup, 409),
        ("POST", signup, 415),
        ("POST", signup, 422),
        ("POST", login, 200),
        ("POST", login, 401),
        ("GET", "/auth/me", 200),
        ("GET", "/auth/me", 401),
        ("PATCH", "/auth/me", 200),
        ("PATCH", "/auth/me", 422),
        ("GET", sessions, 200),
        ("DELETE", one, 204),
        ("DELETE", one, 404),
        ("POST", password, 204),
        ("POST", password, 403),
        ("POST", password, 422),
        ("POST", change, 202),
        ("POST", change, 409),
        ("GET", confirm, 200),
        ("POST", confirm, 422),
        ("POST", reset, 202),
        ("POST", reset, 422),
        ("POST", reset_confirm, 200),
        ("POST", reset_confirm, 422),
        ("POST", verify, 202),
        ("POST", verify_confirm, 200),
        ("GET", verify_confirm, 422),
        ("POST", "/auth/logout", 204),
        ("POST", "/auth/logout", 401),
        ("POST", "/auth/logout", 403),
    }


def test_signing_up_where_a_verified_email_is_required_conforms(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    project = apply_file(runtime, project, "auth: {require_verified_email: true}")
    key = make_key(runtime, project)
    api = Conformance(fetch(client, project, key), client, key)
    body = {"email": "ada@example.test", "password": PASSWORD}
    made = api.call("POST", "/auth/signup", "/auth/signup", json=body)
    assert made.status_code == 201 and made.get_json()["verification_sent"] is True
    refused = api.call("POST", "/auth/login", "/auth/login", json=body)
    assert refused.status_code == 403 and refused.get_json()["reason"] == "email_not_verified"
    closed = apply_file(runtime, project, "auth: {signup: false}")
    body = {"email": "bob@example.test", "password": PASSWORD}
    response = client.post(f"/api/v1/projects/{closed.slug}/auth/signup", json=body)
    api.check("POST", "/auth/signup", response)
    assert response.status_code == 403


def test_admin_user_responses_conform(
    api: Conformance, runtime: Runtime, users_project: Project
) -> None:
    many, one = "/users", "/users/{user_id}"
    made = [
        api.call("POST", many, many, json={"email": f"u{i}@example.test", "password": PASSWORD})
        for i in range(2)
    ]
    assert [m.status_code for m in made] == [201, 201]
    first = made[0].get_json()
    assert made[0].headers["Location"].endswith(f"/users/{first['id']}")
    oauth_only = api.call("POST", many, many, json={"email": "o@example.test", "verified": True})
    assert oauth_only.get_json()["verified"] is True
    assert api.call("POST", many, many, json={"email": "U0@example.test"}).status_code == 409
    invalid = api.call("POST", many, many, json={"email": "x", "plan": "gold", "extra": 1})
    assert invalid.status_code == 422 and set(invalid.get_json()["errors"]) == {
        "email",
        "plan",
        "extra",
    }
    page = api.call("GET", many, many, query_string={"limit": 1})
    assert page.headers["Link"] and page.get_json()["next_cursor"]
    rest = api.call("GET", many, many, query_string={"cursor": page.get_json()["next_cursor"]})
    assert len(rest.get_json()["items"]) == 2
    found = api.call("GET", many, many, query_string={"search": "u1"}).get_json()["items"]
    assert [u["email"] for u in found] == ["u1@example.test"]
    assert api.call("GET", many, many, query_string={"cursor": "forged"}).status_code == 400
    assert api.call("GET", one, f"/users/{first['id']}").get_json()["plan"] == "free"
    assert api.call("GET", one, f"/users/{uuid.uuid4()}").status_code == 404
    patched = api.call(
        "PATCH", one, f"/users/{first['id']}", json={"verified": True, "age": 3, "born": None}
    )
    assert patched.get_json()["age"] == 3
    taken = {"email": "u1@example.test"}
    assert api.call("PATCH", one, f"/users/{first['id']}", json=taken).status_code == 409
    assert api.call("PATCH", one, f"/users/{first['id']}", json={"age": "3"}).status_code == 422
    signed = api.call(
        "POST",
        "/auth/login",
        "/auth/login",
        json={"email": "u0@example.test", "password": PASSWORD},
    )
    assert signed.status_code == 200
    ended = api.call("POST", f"{one}/logout", f"/users/{first['id']}/logout")
    assert ended.get_json() == {"sessions_ended": 1}
    assert api.call("POST", f"{one}/logout", f"/users/{uuid.uuid4()}/logout").status_code == 404
    user = session(signed.get_json()["token"])
    assert api.call("GET", many, many, headers=user).status_code == 401  # ended
    service = auth(make_key(runtime, users_project, scope="service"))
    assert api.call("GET", many, many, headers=service).status_code == 403
    assert api.call("DELETE", one, f"/users/{first['id']}").status_code == 204
    assert api.call("DELETE", one, f"/users/{first['id']}").status_code == 404
    assert _seen(api) >= {
        ("POST", many, 201),
        ("POST", many, 409),
        ("POST", many, 422),
        ("GET", many, 200),
        ("GET", many, 400),
        ("GET", many, 401),
        ("GET", many, 403),
        ("GET", one, 200),
        ("GET", one, 404),
        ("PATCH", one, 200),
        ("PATCH", one, 409),
        ("PATCH", one, 422),
        ("POST", f"{one}/logout", 200),
        ("POST", f"{one}/logout", 404),
        ("DELETE", one, 204),
        ("DELETE", one, 404),
    }


def test_provider_responses_conform(api: Conformance) -> None:
    many, one = "/auth/providers", "/auth/providers/{provider_id}"
    github = {"name": "gh", "preset": "github", "client_id": "id", "client_secret": "secret"}
    made = api.call("POST", many, many, json=github)
    assert made.status_code == 201 and "client_secret" not in made.get_json()
    provider = made.get_json()
    assert provider["callback_url"].endswith("/auth/oauth/gh/callback")
    assert made.headers["Location"].endswith(f"/auth/providers/{provider['id']}")
    corp = {
        "name": "corp",
        "discovery_url": "https://id.example.test/.well-known/openid-configuration",
        "client_id": "cairn",
        "client_secret": "s3cret",
        "scopes": ["openid", "email"],
    }
    api.call("POST", many, many, json=corp)
    assert api.call("POST", many, many, json=github).status_code == 409
    assert api.call("POST", many, many, json={**github, "name": "x", "client_secret": None}).json[
        "errors"
    ] == {"client_secret": ["required for a new provider"]}
    assert api.call("POST", many, many, json={**corp, "scopes": ["email"]}).status_code == 422
    page = api.call("GET", many, many, query_string={"limit": 1})
    assert page.headers["Link"] and [p["name"] for p in page.get_json()["items"]] == ["corp"]
    assert api.call("GET", many, many, query_string={"limit": 0}).status_code == 400
    mine = f"/auth/providers/{provider['id']}"
    assert api.call("GET", one, mine).get_json()["scopes"] == ["read:user", "user:email"]
    assert api.call("GET", one, f"/auth/providers/{uuid.uuid4()}").status_code == 404
    kept = {k: v for k, v in github.items() if k != "client_secret"}
    same = api.call("PUT", one, mine, json=kept)
    assert same.status_code == 200 and same.get_json()["version"] == 1
    renamed = api.call("PUT", one, mine, json={**kept, "name": "hub"})
    assert renamed.get_json()["version"] == 2
    assert api.call("PUT", one, mine, json={**kept, "name": "corp"}).status_code == 409
    assert api.call("PUT", one, mine, json={"name": "hub"}).status_code == 422
    assert api.call("PUT", one, f"/auth/providers/{uuid.uuid4()}", json=kept).status_code == 404
    assert api.call("DELETE", one, mine).status_code == 204
    assert api.call("DELETE", one, mine).status_code == 404
    assert _seen(api) >= {
        ("POST", many, 201),
        ("POST", many, 409),
        ("POST", many, 422),
        ("GET", many, 200),
        ("GET", many, 400),
        ("GET", one, 200),
        ("GET", one, 404),
        ("PUT", one, 200),
        ("PUT", one, 404),
        ("PUT", one, 409),
        ("PUT", one, 422),
        ("DELETE", one, 204),
        ("DELETE", one, 404),
    }


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    provider.start()
    yield provider
    provider.stop()


def test_oauth_responses_conform(
    api: Conformance, runtime: Runtime, users_project: Project, idp: IdentityProvider
) -> None:
    definition = providers.load_provider(
        {
            "name": "corp",
            "discovery_url": idp.discovery_url,
            "client_id": "cairn-test",
            "client_secret": "client-secret-1",
        }
    )
    with runtime.db.tenant(users_project.id) as conn:
        providers.save_provider(
            conn, runtime.provider_box, users_project.id, definition, actor="operator"
        )
    authorize, callback = "/auth/oauth/{provider}/authorize", "/auth/oauth/{provider}/callback"

    def start(provider: str = "corp", redirect_to: str = APP) -> Any:
        query = {"redirect_to": redirect_to}
        return api.call("GET", authorize, f"/auth/oauth/{provider}/authorize", query_string=query)

    def back(url: str) -> Any:
        parts = urlsplit(url)
        path = parts.path.removeprefix(api.base)
        return api.call("GET", callback, path, query_string=parts.query)

    sub = f"sub-{uuid.uuid4().hex[:10]}"
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True)
    started = start()
    assert started.status_code == 302 and started.headers["Cache-Control"] == "no-store"
    returned = idp.approve(started.headers["Location"], sub)
    done = back(returned)
    assert done.status_code == 302 and done.headers["Location"].startswith(f"{APP}#")
    fragment = parse_qs(urlsplit(done.headers["Location"]).fragment)
    assert fragment["token"][0].startswith("cs_")
    me = api.call("GET", "/auth/me", "/auth/me", headers=session(fragment["token"][0]))
    assert me.get_json()["email"] == f"{sub}@corp.test" and me.get_json()["plan"] == "free"
    assert back(returned).status_code == 400  # the state is used up
    location = start().headers["Location"]
    denied = urlsplit(idp.deny(location))
    assert back(denied.geturl()).status_code == 400  # the mock leaves the state out
    state = parse_qs(urlsplit(location).query)["state"][0]
    said_no = {"error": "access_denied", "error_description": "no", "state": state}
    refused = api.call("GET", callback, "/auth/oauth/corp/callback", query_string=said_no)
    assert parse_qs(urlsplit(refused.headers["Location"]).fragment)["error"] == ["access_denied"]
    assert start("nobody").status_code == 404
    assert start(redirect_to="https://evil.example/").status_code == 422
    missing = api.call("GET", authorize, "/auth/oauth/corp/authorize")
    assert missing.status_code == 422 and "redirect_to" in missing.get_json()["errors"]
    assert _seen(api) >= {
        ("GET", authorize, 302),
        ("GET", authorize, 404),
        ("GET", authorize, 422),
        ("GET", callback, 302),
        ("GET", callback, 400),
    }
