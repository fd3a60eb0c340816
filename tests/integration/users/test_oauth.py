"""OAuth / OpenID Connect sign-in, end to end against a real local provider.

Cairn's side runs in the Flask test client; the provider (oidc-provider-mock, with a PKCE
check in front) serves real HTTP on a local port: Cairn fetches its discovery document,
exchanges codes at its token endpoint and checks its ID tokens against its JWKS. The
browser at the provider is plain HTTP.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from flask import request as flask_request
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from cairn.errors import Unauthorized
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn.users import oauth, providers
from cairn.users.providers import Provider
from tests.conftest import auth
from tests.factories import apply_file, make_key
from tests.integration.http.test_app import assert_problem
from tests.integration.users.idp import IdentityProvider, s256

APP = "https://app.example.test/signed-in"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def project(runtime: Runtime, project: Project) -> Project:
    return apply_file(runtime, project, "auth: {redirect_allow: ['https://app.example.test/*']}")


def add_provider(
    runtime: Runtime,
    project: Project,
    idp: IdentityProvider,
    name: str = "corp",
    *,
    client_id: str = "cairn-test",
    secret: str = "client-secret-1",  # noqa: S107
) -> Provider:
    definition = providers.load_provider(
        {"name": name, "discovery_url": idp.discovery_url, "client_id": client_id,
         "client_secret": secret}
    )  # fmt: skip
    with runtime.db.tenant(project.id) as conn:
        return providers.save_provider(
            conn, runtime.provider_box, project.id, definition, actor="operator"
        )


def set_secret(runtime: Runtime, project: Project, provider: Provider, secret: str) -> Provider:
    wanted = providers.load_provider({**provider.definition.to_dict(), "client_secret": secret})
    with runtime.db.tenant(project.id) as conn:
        return providers.save_provider(
            conn, runtime.provider_box, project.id, wanted, actor="operator",
            provider_id=provider.id,
        )  # fmt: skip


def new_sub() -> str:
    return f"sub-{uuid.uuid4().hex[:10]}"


def authorize(
    client: FlaskClient, project: Project, provider: str = "corp", redirect_to: str | None = APP
) -> TestResponse:
    query = {} if redirect_to is None else {"redirect_to": redirect_to}
    return client.get(
        f"/api/v1/projects/{project.slug}/auth/oauth/{provider}/authorize", query_string=query
    )


def to_provider(client: FlaskClient, project: Project, provider: str = "corp") -> str:
    response = authorize(client, project, provider)
    assert response.status_code == 302, response.get_json()
    return response.headers["Location"]


def callback(client: FlaskClient, url: str) -> TestResponse:
    """The browser coming back from the provider to Cairn."""
    parts = urlsplit(url)
    assert parts.netloc == "localhost", url
    return client.get(parts.path, query_string=parts.query)


def fragment(response: TestResponse) -> dict[str, str]:
    assert response.status_code == 302, response.get_json()
    location = response.headers["Location"]
    assert location.startswith(APP + "#"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).fragment).items()}


def sign_in(
    client: FlaskClient, project: Project, idp: IdentityProvider, sub: str, provider: str = "corp"
) -> TestResponse:
    return callback(client, idp.approve(to_provider(client, project, provider), sub))


def sql(runtime: Runtime, project: Project, statement: str, **params: Any) -> Any:
    with runtime.db.owner(project.id) as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else None


def count(runtime: Runtime, project: Project, table: str) -> int:
    return int(sql(runtime, project, f"SELECT count(*) FROM cairn.{table}")[0][0])


def me(client: FlaskClient, project: Project, token: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/projects/{project.slug}/auth/me", headers=auth(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def signup(client: FlaskClient, project: Project, email: str) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/projects/{project.slug}/auth/signup", json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def login(client: FlaskClient, project: Project, email: str) -> TestResponse:
    return client.post(
        f"/api/v1/projects/{project.slug}/auth/login", json={"email": email, "password": PASSWORD}
    )


def actions(runtime: Runtime, project: Project) -> list[str]:
    return [r[0] for r in sql(runtime, project, "SELECT action FROM cairn.audit_log ORDER BY id")]


# -- the done-when cases ---------------------------------------------------------------


def test_a_new_user_is_created_and_signed_in(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True, name="Ada")
    response = sign_in(client, project, idp, sub)
    back = fragment(response)
    assert back["token"].startswith("cs_") and back["expires_at"] and back["csrf_token"]
    assert response.headers["Cache-Control"] == "no-store"
    user = me(client, project, back["token"])
    assert (user["email"], user["verified"]) == (f"{sub}@corp.test", True)
    # The browser also holds the session in the HttpOnly cookie, scoped to the project.
    cookie = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("cairn_session=")
    )
    assert back["token"] in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert f"Path=/api/v1/projects/{project.slug}/" in cookie and "Secure" not in cookie
    identity = sql(runtime, project, "SELECT provider, subject, user_id::text, email "
                   "FROM cairn.oauth_identities")  # fmt: skip
    assert [tuple(r) for r in identity] == [("corp", sub, user["id"], f"{sub}@corp.test")]
    row = sql(runtime, project, "SELECT password_hash, verified FROM cairn.users")
    assert [tuple(r) for r in row] == [(None, True)]  # signs in through the provider only
    assert [r[0] for r in sql(runtime, project, "SELECT method FROM cairn.sessions")] == [
        "oauth:corp"
    ]
    logged = actions(runtime, project)
    assert {"user.created", "oauth_identity.linked", "user.login"} <= set(logged)
    assert count(runtime, project, "oauth_states") == 0  # used up


def test_a_returning_user_gets_the_same_account(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True)
    first = me(client, project, fragment(sign_in(client, project, idp, sub))["token"])
    # The provider's email may change; the subject is what identifies the user.
    idp.set_user(sub, email=f"{sub}-new@corp.test", email_verified=True)
    second = me(client, project, fragment(sign_in(client, project, idp, sub))["token"])
    assert second["id"] == first["id"]
    assert (count(runtime, project, "users"), count(runtime, project, "oauth_identities")) == (1, 1)
    assert count(runtime, project, "sessions") == 2
    assert actions(runtime, project).count("oauth_identity.linked") == 1


def test_a_verified_email_links_to_the_existing_account(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    sub = new_sub()
    email = f"{sub}@corp.test"
    existing = signup(client, project, email)["user"]
    sql(runtime, project, "UPDATE cairn.users SET verified = true")
    idp.set_user(sub, email=email.upper(), email_verified=True)  # emails match case-blind
    user = me(client, project, fragment(sign_in(client, project, idp, sub))["token"])
    assert user["id"] == existing["id"]
    assert count(runtime, project, "users") == 1
    linked = sql(runtime, project, "SELECT user_id::text FROM cairn.oauth_identities")
    assert [r[0] for r in linked] == [existing["id"]]
    assert login(client, project, email).status_code == 200  # the password still works
    detail = sql(runtime, project, "SELECT detail FROM cairn.audit_log "
                 "WHERE action = 'oauth_identity.linked'")  # fmt: skip
    assert detail[0][0]["created"] is False and detail[0][0]["provider"] == "corp"


def test_an_unverified_email_is_not_linked(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    sub = new_sub()
    email = f"{sub}@corp.test"
    existing = signup(client, project, email)["user"]
    idp.set_user(sub, email=email, email_verified=False)
    back_url = idp.approve(to_provider(client, project), sub)
    refused = callback(client, back_url)
    back = fragment(refused)
    assert "token" not in back and back["status"] == "409"
    assert back["error"] == "email_not_verified_by_provider"
    assert "sign in with your password" in back["error_description"]
    assert count(runtime, project, "oauth_identities") == 0
    assert count(runtime, project, "sessions") == 1  # the sign-up's, no other
    assert "cairn_session=" not in " ".join(refused.headers.getlist("Set-Cookie"))
    # Nothing about the account changed, and the refusal is on record.
    assert login(client, project, email).get_json()["user"]["id"] == existing["id"]
    assert "user.login_failed" in actions(runtime, project)
    # The state was used up by the refusal.
    assert_problem(callback(client, back_url), 400)


def test_a_bad_state_is_refused(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True)
    back_url = idp.approve(to_provider(client, project), sub)
    parts = urlsplit(back_url)
    query = parse_qs(parts.query)
    code = query["code"][0]
    for state in ("forged-state", ""):
        refused = client.get(parts.path, query_string={"code": code, "state": state})
        body = assert_problem(refused, 400)
        assert body["reason"] == "invalid_state" and "start the sign-in again" in body["detail"]
    assert_problem(client.get(parts.path, query_string={"code": code}), 400)
    # A state of this project's other provider does not complete a sign-in here either.
    add_provider(runtime, project, idp, "other")
    assert_problem(
        client.get(parts.path.replace("/corp/", "/other/"), query_string=parts.query), 400
    )
    assert (count(runtime, project, "users"), count(runtime, project, "sessions")) == (0, 0)
    # The real state still works once (a forged one does not use it up).
    assert "token" in fragment(callback(client, back_url))


def test_a_replayed_callback_fails_and_creates_nothing(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True)
    back_url = idp.approve(to_provider(client, project), sub)
    assert "token" in fragment(callback(client, back_url))
    before = [count(runtime, project, t) for t in ("users", "sessions", "oauth_identities")]
    replayed = assert_problem(callback(client, back_url), 400)
    assert replayed["reason"] == "invalid_state"
    assert [count(runtime, project, t) for t in ("users", "sessions", "oauth_identities")] == before
    # The code itself is spent at the provider too: with a fresh state it is refused there.
    fresh = urlsplit(idp.approve(to_provider(client, project), sub))
    stale = parse_qs(urlsplit(back_url).query)["code"][0]
    state = parse_qs(fresh.query)["state"][0]
    refused = client.get(fresh.path, query_string={"code": stale, "state": state})
    back = fragment(refused)
    assert back["error"] == "code_rejected" and back["status"] == "401"
    assert [count(runtime, project, t) for t in ("users", "sessions", "oauth_identities")] == before


def test_a_callback_only_completes_in_the_browser_that_started_it(
    app: Flask, client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    """Login CSRF: a callback link (the attacker's own code and state) opened in the
    victim's browser must not sign the victim in as the attacker."""
    add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True)
    started = authorize(client, project)
    cookie = next(h for h in started.headers.getlist("Set-Cookie") if h.startswith("cairn_oauth="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=600" in cookie
    assert f"Path=/api/v1/projects/{project.slug}/auth/oauth/" in cookie
    back_url = idp.approve(started.headers["Location"], sub)
    victim = app.test_client()
    body = assert_problem(callback(victim, back_url), 400)
    assert body["reason"] == "browser_mismatch"
    assert (count(runtime, project, "users"), count(runtime, project, "sessions")) == (0, 0)
    assert "token" in fragment(callback(client, back_url))  # the starting browser can


# -- the authorization request ---------------------------------------------------------


def test_redirect_to_must_be_on_the_allow_list(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    for target in ("https://evil.example/steal", "javascript:alert(1)", None):
        response = authorize(client, project, redirect_to=target)
        body = assert_problem(response, 422)
        assert "redirect_to" in body["errors"] and "Location" not in response.headers
    assert count(runtime, project, "oauth_states") == 0
    bare = apply_file(runtime, project, "auth: {}")
    body = assert_problem(authorize(client, bare), 422)
    assert "auth.redirect_allow" in body["errors"]["redirect_to"][0]


def test_an_unknown_provider_is_404(client: FlaskClient, project: Project) -> None:
    assert_problem(authorize(client, project, "nope"), 404)


def test_the_authorization_request_carries_state_nonce_and_pkce(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    location = to_provider(client, project)
    assert location.startswith(f"{idp.url}/oauth2/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert query["response_type"] == "code" and query["client_id"] == "cairn-test"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["nonce"]) >= 32 and len(query["state"]) >= 32
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert query["redirect_uri"] == (
        f"http://localhost/api/v1/projects/{project.slug}/auth/oauth/corp/callback"
    )
    # Only the state's hash is stored; nonce, verifier and target are sealed.
    stored = sql(runtime, project, "SELECT state_hash, sealed, provider FROM cairn.oauth_states")
    assert len(stored) == 1 and stored[0].provider == "corp"
    assert bytes(stored[0].state_hash) == hashlib.sha256(query["state"].encode()).digest()
    sealed = bytes(stored[0].sealed)
    assert query["nonce"].encode() not in sealed and APP.encode() not in sealed
    # A second start is another state, nonce and verifier.
    again = {k: v[0] for k, v in parse_qs(urlsplit(to_provider(client, project)).query).items()}
    assert {again[k] for k in ("state", "nonce", "code_challenge")}.isdisjoint(
        {query[k] for k in ("state", "nonce", "code_challenge")}
    )


def test_the_code_is_exchanged_with_the_pkce_verifier(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True)
    location = to_provider(client, project)
    challenge = parse_qs(urlsplit(location).query)["code_challenge"][0]
    seen = len(idp.token_requests)
    assert "token" in fragment(callback(client, idp.approve(location, sub)))
    exchange = idp.token_requests[seen]
    assert exchange.status == 200 and s256(exchange.form["code_verifier"]) == challenge
    assert exchange.form["redirect_uri"].endswith("/auth/oauth/corp/callback")
    assert "client_secret" not in exchange.form  # sent as HTTP Basic, not in the body
    assert exchange.authorization is not None and exchange.authorization.startswith("Basic ")


def test_the_id_token_is_checked(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    """A real ID token from the provider: accepted for its nonce and audience only, and not
    once a byte of it changes."""
    provider = add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True)
    location = to_provider(client, project)
    nonce = parse_qs(urlsplit(location).query)["nonce"][0]
    seen = len(idp.token_requests)
    fragment(callback(client, idp.approve(location, sub)))
    issued = idp.token_requests[seen].body
    raw, access = issued["id_token"], issued["access_token"]
    client_ = oauth.ProviderClient(provider.definition, "client-secret-1", allow_private=True)
    claims = client_.validate_id_token(raw, nonce, access)
    assert (claims["sub"], claims["iss"]) == (sub, idp.url)
    assert claims["aud"] in ("cairn-test", ["cairn-test"])
    with pytest.raises(Unauthorized, match="nonce"):
        client_.validate_id_token(raw, "another-nonce", access)
    other = oauth.ProviderClient(
        providers.load_provider({**provider.definition.to_dict(), "client_id": "someone-else"}),
        "x",
        allow_private=True,
    )
    with pytest.raises(Unauthorized, match="aud"):
        other.validate_id_token(raw, nonce, access)
    header, payload, signature = raw.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(Unauthorized, match="not valid"):
        client_.validate_id_token(f"{header}.{payload}.{flipped}", nonce, access)


# -- secrets and versions --------------------------------------------------------------


def test_the_client_secret_is_sealed_and_a_rotated_one_is_used_at_once(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    callback_url = f"http://localhost/api/v1/projects/{project.slug}/auth/oauth/corp/callback"
    client_id, real_secret = idp.register_client(callback_url)
    provider = add_provider(runtime, project, idp, client_id=client_id, secret="wrong-secret-1")
    stored = sql(runtime, project, "SELECT client_secret FROM cairn.auth_providers")[0][0]
    assert b"wrong-secret-1" not in bytes(stored)
    assert runtime.provider_box.open(bytes(stored)) == "wrong-secret-1"
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True)
    # The provider refuses the wrong secret (a client of this version is now cached) …
    refused = fragment(sign_in(client, project, idp, sub))
    assert (refused["error"], refused["status"]) == ("code_rejected", "401")
    assert actions(runtime, project)[-1] == "user.login_failed"  # audited, state used up
    assert count(runtime, project, "oauth_states") == 0
    # … the administrator rotates it: a new version, and the very next sign-in uses it.
    rotated = set_secret(runtime, project, provider, real_secret)
    assert rotated.version == provider.version + 1
    assert "token" in fragment(sign_in(client, project, idp, sub))
    # Saving the same secret again changes nothing.
    assert set_secret(runtime, project, rotated, real_secret).version == rotated.version
    # And back to a wrong one: refused again, no stale client.
    set_secret(runtime, project, rotated, "wrong-secret-2")
    assert fragment(sign_in(client, project, idp, sub))["error"] == "code_rejected"


# -- the other ways a sign-in ends -----------------------------------------------------


def test_a_denied_authorization_goes_back_with_the_error(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    location = to_provider(client, project)
    denied = urlsplit(idp.deny(location))
    assert parse_qs(denied.query)["error"] == ["access_denied"]
    # Without the state Cairn cannot know where to send the browser back to …
    assert_problem(client.get(denied.path, query_string=denied.query), 400)
    # … and RFC 6749 §4.1.2.1 has the provider echo it (the mock leaves it out): with it,
    # the browser goes back to the app with the error.
    state = parse_qs(urlsplit(location).query)["state"][0]
    query = {"error": "access_denied", "error_description": "the user said no", "state": state}
    back = fragment(client.get(denied.path, query_string=query))
    assert back == {"error": "access_denied", "error_description": "the user said no"}
    assert count(runtime, project, "users") == 0 and count(runtime, project, "oauth_states") == 0
    assert "user.login_failed" in actions(runtime, project)
    assert_problem(client.get(denied.path, query_string=query), 400)  # used up


def test_an_expired_state_is_refused(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True)
    back_url = idp.approve(to_provider(client, project), sub)
    sql(runtime, project, "UPDATE cairn.oauth_states SET expires_at = now() - interval '1 second'")
    body = assert_problem(callback(client, back_url), 400)
    assert body["reason"] == "expired_state" and "10 minutes" in body["detail"]
    assert count(runtime, project, "users") == 0


def test_an_unverified_account_is_taken_over_by_the_proven_owner(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    """Someone signed up with the address but never proved it: the provider proves it now,
    so that account's password and sessions (which may be a squatter's) go."""
    add_provider(runtime, project, idp)
    sub = new_sub()
    email = f"{sub}@corp.test"
    squatter = signup(client, project, email)
    idp.set_user(sub, email=email, email_verified=True)
    user = me(client, project, fragment(sign_in(client, project, idp, sub))["token"])
    assert user["id"] == squatter["user"]["id"] and user["verified"] is True
    assert login(client, project, email).status_code == 401  # the password is gone
    gone = client.get(f"/api/v1/projects/{project.slug}/auth/me", headers=auth(squatter["token"]))
    assert gone.status_code == 401


def test_disabled_users_and_closed_signup_are_refused(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True)
    assert "token" in fragment(sign_in(client, project, idp, sub))
    sql(runtime, project, "UPDATE cairn.users SET disabled = true")
    back = fragment(sign_in(client, project, idp, sub))
    assert (back["error"], back["status"]) == ("disabled", "403")
    closed = apply_file(
        runtime, project, "auth: {signup: false, redirect_allow: ['https://app.example.test/*']}"
    )
    stranger = new_sub()
    idp.set_user(stranger, email=f"{stranger}@corp.test", email_verified=True)
    back = fragment(sign_in(client, closed, idp, stranger))
    assert (back["error"], back["status"]) == ("signup_disabled", "403")
    assert count(runtime, project, "users") == 1


def test_a_provider_that_shares_no_email_cannot_create_an_account(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, name="No Mail")
    back = fragment(sign_in(client, project, idp, sub))
    assert back["error"] == "no_email" and count(runtime, project, "users") == 0


def test_deleting_a_provider_unlinks_its_identities(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    provider = add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=False)
    assert "token" in fragment(sign_in(client, project, idp, sub))
    with runtime.db.tenant(project.id) as conn:
        providers.delete_provider(conn, project.id, provider.id, actor="operator")
    assert count(runtime, project, "oauth_identities") == 0
    assert count(runtime, project, "users") == 1  # the account stays
    add_provider(runtime, project, idp)  # the same name again: maybe another provider
    back = fragment(sign_in(client, project, idp, sub))
    assert back["error"] == "email_not_verified_by_provider"


# -- the GitHub preset -----------------------------------------------------------------


class FakeGitHub:
    """GitHub's OAuth app endpoints and user API, served over real local HTTP: codes bound
    to a PKCE challenge, the secret checked in the token request's body, `/user` and
    `/user/emails` answered for the bearer of the issued token."""

    def __init__(self, client_id: str, secret: str) -> None:
        self.client_id, self.secret = client_id, secret
        self.user: dict[str, Any] = {}
        self.emails: list[dict[str, Any]] = []
        self.codes: dict[str, str] = {}
        app = Flask("fake-github")
        app.add_url_rule("/login/oauth/access_token", view_func=self.token, methods=["POST"])
        app.add_url_rule("/user", view_func=self.user_view)
        app.add_url_rule("/user/emails", view_func=self.emails_view)
        self.server = make_server("localhost", 0, app, threaded=True)
        self.url = f"http://localhost:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def approve(self, authorize_url: str) -> str:
        """The user clicks "Authorize" on GitHub's page: back to the callback with a code."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        assert query["client_id"] == self.client_id and query["code_challenge_method"] == "S256"
        code = uuid.uuid4().hex
        self.codes[code] = query["code_challenge"]
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def token(self) -> Any:
        form = flask_request.form
        challenge = self.codes.pop(form.get("code", ""), None)
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.secret):
            return {"error": "incorrect_client_credentials"}
        if challenge is None or s256(form.get("code_verifier", "")) != challenge:
            return {"error": "bad_verification_code"}
        return {"access_token": "gho_token", "token_type": "bearer", "scope": "read:user"}

    def _authorized(self) -> bool:
        return flask_request.headers.get("Authorization") == "Bearer gho_token"

    def user_view(self) -> Any:
        return self.user if self._authorized() else ({"message": "Requires authentication"}, 401)

    def emails_view(self) -> Any:
        return self.emails if self._authorized() else ({"message": "Requires authentication"}, 401)


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub("Iv1.cairn", "gh-secret")
    monkeypatch.setitem(
        providers.PRESETS,
        "github",
        replace(
            providers.PRESETS["github"],
            authorize_url=f"{fake.url}/login/oauth/authorize",
            token_url=f"{fake.url}/login/oauth/access_token",
            user_url=f"{fake.url}/user",
            emails_url=f"{fake.url}/user/emails",
        ),
    )
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_github_signs_in_with_the_primary_verified_email(
    client: FlaskClient, runtime: Runtime, project: Project, github: FakeGitHub
) -> None:
    definition = providers.load_provider(
        {
            "name": "github",
            "preset": "github",
            "client_id": "Iv1.cairn",
            "client_secret": "gh-secret",
        }
    )
    with runtime.db.tenant(project.id) as conn:
        providers.save_provider(conn, runtime.provider_box, project.id, definition, actor="op")
    github.user = {"id": 583231, "login": "octocat", "email": None}
    github.emails = [
        {"email": "octocat@users.noreply.github.com", "primary": False, "verified": True},
        {"email": "old@example.test", "primary": False, "verified": False},
        {"email": "octocat@example.test", "primary": True, "verified": True},
    ]
    location = to_provider(client, project, "github")
    query = parse_qs(urlsplit(location).query)
    assert "nonce" not in query and query["scope"] == ["read:user user:email"]
    user = me(client, project, fragment(callback(client, github.approve(location)))["token"])
    assert (user["email"], user["verified"]) == ("octocat@example.test", True)
    identity = sql(runtime, project, "SELECT provider, subject FROM cairn.oauth_identities")
    assert [tuple(r) for r in identity] == [("github", "583231")]
    # Returning, with another primary address now: the same account by the numeric id.
    github.emails = [{"email": "new@example.test", "primary": True, "verified": True}]
    again = me(client, project, fragment(sign_in_github(client, project, github))["token"])
    assert again["id"] == user["id"]
    # A GitHub account without a verified address cannot take over an existing one.
    github.user = {"id": 99, "login": "mallory", "email": "octocat@example.test"}
    github.emails = [{"email": "octocat@example.test", "primary": True, "verified": False}]
    refused = fragment(sign_in_github(client, project, github))
    assert refused["error"] == "email_not_verified_by_provider"


def sign_in_github(client: FlaskClient, project: Project, github: FakeGitHub) -> TestResponse:
    return callback(client, github.approve(to_provider(client, project, "github")))


def test_no_transaction_is_open_while_the_provider_is_asked(
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    idp: IdentityProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slow provider must not keep a pool connection idle in a transaction: the calls that
    reach it (discovery while starting, the code exchange at the callback) run between the
    database steps."""
    seen: dict[str, int] = {}

    def open_app_transactions() -> int:
        with runtime.db.owner_engine.connect() as conn:  # the superuser login sees every backend
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE usename = :app AND xact_start IS NOT NULL"
                    ),
                    {"app": runtime.settings.db_app_role},
                ).scalar_one()
            )

    def watched(name: str, method: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            seen[name] = open_app_transactions()
            return method(*args, **kwargs)

        return call

    monkeypatch.setattr(oauth.Started, "authorize_url",
                        watched("authorize", oauth.Started.authorize_url))  # fmt: skip
    monkeypatch.setattr(oauth.Received, "identity", watched("callback", oauth.Received.identity))
    add_provider(runtime, project, idp)
    sub = new_sub()
    idp.set_user(sub, email=f"{sub}@corp.test", email_verified=True)
    assert "token" in fragment(sign_in(client, project, idp, sub))
    assert seen == {"authorize": 0, "callback": 0}
    # …and the steps around them still did their work: the state was stored and used up.
    assert count(runtime, project, "oauth_states") == 0 and count(runtime, project, "users") == 1


def test_a_callback_without_a_code_uses_up_its_state(
    client: FlaskClient, runtime: Runtime, project: Project, idp: IdentityProvider
) -> None:
    add_provider(runtime, project, idp)
    state = parse_qs(urlsplit(to_provider(client, project)).query)["state"][0]
    back_url = f"http://localhost/api/v1/projects/{project.slug}/auth/oauth/corp/callback"
    back = fragment(callback(client, f"{back_url}?{urlencode({'state': state})}"))
    assert (back["error"], back["status"]) == ("missing_code", "400")
    assert count(runtime, project, "oauth_states") == 0
    assert actions(runtime, project)[-1] == "user.login_failed"


def test_private_providers_need_their_own_setting(
    client: FlaskClient,
    runtime: Runtime,
    project: Project,
    idp: IdentityProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Webhooks to private targets being allowed does not let a provider on one through."""
    guarded = replace(runtime.settings, oauth_allow_private=False, webhook_allow_private=True)
    monkeypatch.setattr(runtime, "settings", guarded)
    add_provider(runtime, project, idp)
    problem = assert_problem(authorize(client, project), 502)
    assert "non-public address" in str(problem["detail"])
    assert "CAIRN_OAUTH_ALLOW_PRIVATE=1" in str(problem["detail"])
    hooks = f"/api/v1/projects/{project.slug}/webhooks"
    hook = {"name": "h", "url": idp.url + "/hook", "events": ["record.created"]}
    key = auth(make_key(runtime, project, "admin"))
    assert client.post(hooks, json=hook, headers=key).status_code == 201
