"""End-user auth over HTTP: sign-up, sign-in, sessions, cookies + CSRF, mailed flows."""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from cairn.auth.passwords import Hasher
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import auth
from tests.factories import apply_file, make_key, make_project
from tests.integration.http.test_app import assert_problem

PASSWORD = "correct horse battery"


def url(project: Project, suffix: str) -> str:
    return f"/api/v1/projects/{project.slug}/auth{suffix}"


def signup(
    client: FlaskClient, project: Project, email: str = "ada@example.test", **extra: Any
) -> Any:
    response = client.post(
        url(project, "/signup"), json={"email": email, "password": PASSWORD, **extra}
    )
    assert response.status_code == 201, response.json
    return response.json


def login(
    client: FlaskClient, project: Project, email: str = "ada@example.test", password: str = PASSWORD
) -> Any:
    return client.post(url(project, "/login"), json={"email": email, "password": password})


def mailed_token(runtime: Runtime, project: Project, to: str, template: str) -> str:
    with runtime.db.tenant(project.id) as conn:
        body = conn.execute(
            text(
                "SELECT text_body FROM cairn.mails WHERE to_address = :to AND template = :t "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"to": to, "t": template},
        ).scalar_one()
    match = re.search(r"token=(ct_[A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


def sql(runtime: Runtime, project: Project, statement: str, **params: Any) -> Any:
    with runtime.db.owner(project.id) as conn:
        return conn.execute(text(statement), params)


# -- sign-up and sign-in -----------------------------------------------------------------


def test_signup_returns_a_working_session(client: FlaskClient, project: Project) -> None:
    body = signup(client, project)
    assert body["token"].startswith("cs_") and len(body["token"]) >= 3 + 43
    assert body["user"]["email"] == "ada@example.test" and body["user"]["verified"] is False
    me = client.get(url(project, "/me"), headers=auth(body["token"]))
    assert me.status_code == 200 and me.json["id"] == body["user"]["id"]


def test_the_session_token_is_stored_only_as_a_hash(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    token = signup(client, project)["token"]
    stored = sql(runtime, project, "SELECT token_hash FROM cairn.sessions").scalar_one()
    assert token.encode() not in bytes(stored) and len(stored) == 32
    password_hash = sql(runtime, project, "SELECT password_hash FROM cairn.users").scalar_one()
    assert password_hash.startswith("$argon2id$") and PASSWORD not in password_hash


def test_emails_are_unique_case_insensitively(client: FlaskClient, project: Project) -> None:
    signup(client, project, "Ada@Example.test")
    again = client.post(
        url(project, "/signup"), json={"email": "ada@example.TEST", "password": PASSWORD}
    )
    assert_problem(again, 409)
    assert login(client, project, "ADA@example.test").status_code == 200


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 8"),
        ("x" * 257, "at most 256"),
        ("password1", "most common"),
        ("ada@example.test", "email"),
    ],
)
def test_password_policy(
    client: FlaskClient, project: Project, password: str, message: str
) -> None:
    response = client.post(
        url(project, "/signup"), json={"email": "ada@example.test", "password": password}
    )
    assert_problem(response, 422)
    assert message in " ".join(response.json["errors"]["password"])


def test_signup_can_be_disabled(client: FlaskClient, runtime: Runtime, project: Project) -> None:
    project = apply_file(runtime, project, "auth: {signup: false}")
    response = client.post(
        url(project, "/signup"), json={"email": "ada@example.test", "password": PASSWORD}
    )
    assert_problem(response, 403)
    assert "disabled" in response.json["detail"]


def test_login_does_not_tell_whether_the_email_exists(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    signup(client, project)
    wrong = login(client, project, password="not the password at all")
    unknown = login(client, project, email="nobody@example.test")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["detail"] == unknown.json["detail"]
    # Refused attempts are audited even though the request failed.
    reasons = (
        sql(
            runtime,
            project,
            "SELECT detail->>'reason' FROM cairn.audit_log WHERE action = 'user.login_failed' "
            "ORDER BY id",
        )
        .scalars()
        .all()
    )
    assert reasons == ["password", "unknown"]


def test_unknown_email_login_takes_as_long_as_a_wrong_password(
    client: FlaskClient, project: Project
) -> None:
    signup(client, project)
    wrong, unknown = [], []
    for _ in range(40):  # interleaved, so drift in machine load hits both alike
        for email, samples in (("ada@example.test", wrong), ("nobody@example.test", unknown)):
            started = time.perf_counter()
            assert (
                login(client, project, email=email, password="wrong password!").status_code == 401
            )
            samples.append(time.perf_counter() - started)
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 < ratio < 2.0, ratio


def test_login_rehashes_a_password_made_with_older_parameters(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    old = Hasher(time_cost=2, memory_kib=8192, parallelism=1).hash(PASSWORD)
    signup(client, project)
    sql(runtime, project, "UPDATE cairn.users SET password_hash = :h", h=old)
    assert login(client, project).status_code == 200
    now = sql(runtime, project, "SELECT password_hash FROM cairn.users").scalar_one()
    assert now != old and not runtime.user_auth.hasher.needs_rehash(now)
    assert login(client, project).status_code == 200


def test_a_disabled_user_cannot_sign_in_and_loses_sessions(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    body = signup(client, project)
    admin = make_key(runtime, project)
    users_url = f"/api/v1/projects/{project.slug}/users/{body['user']['id']}"
    assert client.patch(users_url, json={"disabled": True}, headers=auth(admin)).status_code == 200
    assert_problem(client.get(url(project, "/me"), headers=auth(body["token"])), 401)
    refused = login(client, project)
    assert_problem(refused, 401)
    assert "disabled" in refused.json["detail"]


# -- sessions ----------------------------------------------------------------------------


def test_login_issues_a_new_token_every_time(client: FlaskClient, project: Project) -> None:
    first = signup(client, project)["token"]
    # A client presenting its old token (cookie or header) still gets a fresh one: no fixation.
    second = client.post(
        url(project, "/login"),
        json={"email": "ada@example.test", "password": PASSWORD},
        headers=auth(first),
    ).json["token"]
    assert second != first
    for token in (first, second):
        assert client.get(url(project, "/me"), headers=auth(token)).status_code == 200


def test_logout_revokes_the_session(client: FlaskClient, project: Project) -> None:
    token = signup(client, project)["token"]
    assert client.post(url(project, "/logout"), headers=auth(token)).status_code == 204
    response = client.get(url(project, "/me"), headers=auth(token))
    assert_problem(response, 401)
    assert "ended" in response.json["detail"]


@pytest.mark.parametrize(
    ("column", "message"), [("expires_at", "expired"), ("idle_until", "expired")]
)
def test_expired_and_idle_sessions_are_refused(
    client: FlaskClient, runtime: Runtime, project: Project, column: str, message: str
) -> None:
    token = signup(client, project)["token"]
    sql(runtime, project, f"UPDATE cairn.sessions SET {column} = now() - interval '1 second'")
    response = client.get(url(project, "/me"), headers=auth(token))
    assert_problem(response, 401)
    assert message in response.json["detail"]


def test_use_slides_the_idle_deadline_but_never_past_the_lifetime(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    project = apply_file(runtime, project, "auth: {sessions: {lifetime: 2h, idle: 1h}}")
    token = signup(client, project)["token"]
    sql(
        runtime,
        project,
        "UPDATE cairn.sessions SET last_seen_at = now() - interval '30 minutes', "
        "idle_until = now() + interval '30 minutes', expires_at = now() + interval '50 minutes'",
    )
    assert client.get(url(project, "/me"), headers=auth(token)).status_code == 200
    row = sql(
        runtime,
        project,
        "SELECT idle_until - now() AS idle, idle_until = expires_at AS capped FROM cairn.sessions",
    ).one()
    assert row.capped  # slid from +30 min towards +1 h, stopped at the expiry (+50 min)


def test_a_session_of_another_project_is_refused(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    token = signup(client, project)["token"]
    other = make_project(runtime)
    response = client.get(url(other, "/me"), headers=auth(token))
    assert_problem(response, 401)
    records = client.get(
        f"/api/v1/projects/{other.slug}/collections/x/records", headers=auth(token)
    )
    assert_problem(records, 401)


def test_list_and_revoke_own_sessions(client: FlaskClient, project: Project) -> None:
    first = signup(client, project)["token"]
    second = login(client, project).json["token"]
    listed = client.get(url(project, "/sessions"), headers=auth(second)).json["items"]
    assert len(listed) == 2
    assert [s["current"] for s in listed] == [True, False]
    assert "token" not in listed[0] and "token_hash" not in listed[0]
    other_id = listed[1]["id"]
    assert (
        client.delete(url(project, f"/sessions/{other_id}"), headers=auth(second)).status_code
        == 204
    )
    assert_problem(client.get(url(project, "/me"), headers=auth(first)), 401)
    assert client.get(url(project, "/me"), headers=auth(second)).status_code == 200


def test_a_user_cannot_revoke_another_users_session(client: FlaskClient, project: Project) -> None:
    ada = signup(client, project)["token"]
    bob = signup(client, project, "bob@example.test")["token"]
    bobs = client.get(url(project, "/sessions"), headers=auth(bob)).json["items"][0]["id"]
    assert_problem(client.delete(url(project, f"/sessions/{bobs}"), headers=auth(ada)), 404)
    assert client.get(url(project, "/me"), headers=auth(bob)).status_code == 200


def test_a_session_cannot_use_admin_endpoints(client: FlaskClient, project: Project) -> None:
    token = signup(client, project)["token"]
    for path in ("/api-keys", "/users", "/collections", "/openapi.json"):
        assert_problem(
            client.get(f"/api/v1/projects/{project.slug}{path}", headers=auth(token)), 403
        )


# -- cookies and CSRF ---------------------------------------------------------------------


def test_cookie_sessions_need_the_csrf_token_for_writes(
    client: FlaskClient, project: Project
) -> None:
    body = signup(client, project)
    cookie = client.get_cookie("cairn_session", path=f"/api/v1/projects/{project.slug}/")
    assert cookie is not None and cookie.http_only and cookie.value == body["token"]
    assert cookie.same_site == "Lax"
    # Reads with the cookie alone are fine.
    assert client.get(url(project, "/me")).status_code == 200
    missing = client.patch(url(project, "/me"), json={})
    assert_problem(missing, 403)
    assert "X-CSRF-Token" in missing.json["detail"]
    wrong = client.patch(url(project, "/me"), json={}, headers={"X-CSRF-Token": "0" * 64})
    assert_problem(wrong, 403)
    right = client.patch(url(project, "/me"), json={}, headers={"X-CSRF-Token": body["csrf_token"]})
    assert right.status_code == 200
    # The token of another session does not fit this one.
    other = signup(client, project, "bob@example.test")  # the cookie is now Bob's
    stale = client.patch(url(project, "/me"), json={}, headers={"X-CSRF-Token": body["csrf_token"]})
    assert_problem(stale, 403)
    assert other["csrf_token"] != body["csrf_token"]


def test_bearer_tokens_need_no_csrf_token(client: FlaskClient, project: Project) -> None:
    token = signup(client, project)["token"]
    client.delete_cookie("cairn_session", path=f"/api/v1/projects/{project.slug}/")
    assert client.patch(url(project, "/me"), json={}, headers=auth(token)).status_code == 200


def test_logout_clears_the_cookies(client: FlaskClient, project: Project) -> None:
    body = signup(client, project)
    response = client.post(url(project, "/logout"), headers={"X-CSRF-Token": body["csrf_token"]})
    assert response.status_code == 204
    assert client.get_cookie("cairn_session", path=f"/api/v1/projects/{project.slug}/") is None
    assert_problem(client.get(url(project, "/me"), headers=auth(body["token"])), 401)


# -- profile fields ----------------------------------------------------------------------


def test_profile_fields_are_validated_like_collection_fields(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    project = apply_file(
        runtime,
        project,
        "users: {fields: {display_name: {type: text, max_length: 5}, "
        "role: {type: select, values: [reader, editor], default: reader}}}",
    )
    bad = client.post(
        url(project, "/signup"),
        json={"email": "a@example.test", "password": PASSWORD, "display_name": "too long", "x": 1},
    )
    assert_problem(bad, 422)
    assert set(bad.json["errors"]) == {"x"}  # unknown fields first, by name
    bad = client.post(
        url(project, "/signup"),
        json={"email": "a@example.test", "password": PASSWORD, "display_name": "too long"},
    )
    assert set(bad.json["errors"]) == {"display_name"}
    body = signup(client, project, "a@example.test", display_name="Ada")
    assert body["user"]["display_name"] == "Ada" and body["user"]["role"] == "reader"
    token = body["token"]
    changed = client.patch(url(project, "/me"), json={"role": "editor"}, headers=auth(token))
    assert changed.status_code == 200 and changed.json["display_name"] == "Ada"
    assert changed.json["role"] == "editor"
    assert_problem(
        client.patch(url(project, "/me"), json={"role": "boss"}, headers=auth(token)), 422
    )
    assert_problem(
        client.patch(url(project, "/me"), json={"verified": True}, headers=auth(token)), 422
    )


# -- passwords and mailed flows ----------------------------------------------------------


def test_changing_the_password_ends_other_sessions(client: FlaskClient, project: Project) -> None:
    other = signup(client, project)["token"]
    current = login(client, project).json["token"]
    wrong = client.post(
        url(project, "/password"),
        json={"current_password": "nope nope nope", "new_password": "a new passphrase"},
        headers=auth(current),
    )
    assert_problem(wrong, 422)
    response = client.post(
        url(project, "/password"),
        json={"current_password": PASSWORD, "new_password": "a new passphrase"},
        headers=auth(current),
    )
    assert response.status_code == 204
    assert_problem(client.get(url(project, "/me"), headers=auth(other)), 401)
    assert client.get(url(project, "/me"), headers=auth(current)).status_code == 200
    assert login(client, project, password="a new passphrase").status_code == 200


def test_password_reset(client: FlaskClient, runtime: Runtime, project: Project) -> None:
    token = signup(client, project)["token"]
    for email in ("ada@example.test", "nobody@example.test"):
        response = client.post(url(project, "/password-reset"), json={"email": email})
        assert response.status_code == 202 and response.data == b""
    reset = mailed_token(runtime, project, "ada@example.test", "password_reset")
    with runtime.db.tenant(project.id) as conn:  # only the mail holds the token
        assert (
            conn.execute(
                text("SELECT count(*) FROM cairn.mails WHERE to_address LIKE 'nobody%'")
            ).scalar()
            == 0
        )
        stored = conn.execute(text("SELECT token_hash FROM cairn.auth_tokens")).scalar_one()
    assert reset.encode() not in bytes(stored)
    weak = client.post(
        url(project, "/password-reset/confirm"), json={"token": reset, "password": "123"}
    )
    assert_problem(weak, 422)  # nothing used up: the token still works below
    done = client.post(
        url(project, "/password-reset/confirm"),
        json={"token": reset, "password": "brand new secret"},
    )
    assert done.status_code == 200 and done.json["user"]["verified"] is True
    assert_problem(client.get(url(project, "/me"), headers=auth(token)), 401)  # sessions ended
    assert login(client, project, password="brand new secret").status_code == 200
    reused = client.post(
        url(project, "/password-reset/confirm"), json={"token": reset, "password": "another secret"}
    )
    assert_problem(reused, 422)
    assert login(client, project, password="another secret").status_code == 401


def test_only_the_latest_reset_link_works_and_links_expire(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    signup(client, project)
    client.post(url(project, "/password-reset"), json={"email": "ada@example.test"})
    first = mailed_token(runtime, project, "ada@example.test", "password_reset")
    client.post(url(project, "/password-reset"), json={"email": "ada@example.test"})
    second = mailed_token(runtime, project, "ada@example.test", "password_reset")
    body = {"password": "brand new secret"}
    assert_problem(
        client.post(url(project, "/password-reset/confirm"), json={"token": first, **body}), 422
    )
    sql(runtime, project, "UPDATE cairn.auth_tokens SET expires_at = now() - interval '1 second'")
    assert_problem(
        client.post(url(project, "/password-reset/confirm"), json={"token": second, **body}), 422
    )


def test_required_verification(client: FlaskClient, runtime: Runtime, project: Project) -> None:
    project = apply_file(
        runtime,
        project,
        "auth: {require_verified_email: true, links: {verify_email: 'https://app.example/v?t={token}'}}",
    )
    response = client.post(
        url(project, "/signup"), json={"email": "ada@example.test", "password": PASSWORD}
    )
    assert response.status_code == 201 and response.json["token"] is None
    assert response.json["verification_sent"] is True
    refused = login(client, project)
    assert_problem(refused, 403)
    assert refused.json["reason"] == "email_not_verified"
    with runtime.db.tenant(project.id) as conn:
        mail = conn.execute(text("SELECT text_body FROM cairn.mails")).scalar_one()
    token = re.search(r"https://app\.example/v\?t=(ct_[A-Za-z0-9_\-]+)", mail)
    assert token, mail
    confirmed = client.get(url(project, f"/verify-email/confirm?token={token.group(1)}"))
    assert confirmed.status_code == 200 and confirmed.json["user"]["verified"] is True
    assert login(client, project).status_code == 200


def test_requesting_verification_answers_the_same_for_anyone(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    signup(client, project)
    for email in ("ada@example.test", "nobody@example.test"):
        assert client.post(url(project, "/verify-email"), json={"email": email}).status_code == 202
    token = mailed_token(runtime, project, "ada@example.test", "verify_email")
    confirmed = client.post(url(project, "/verify-email/confirm"), json={"token": token})
    assert confirmed.json["user"]["verified"] is True
    assert_problem(client.post(url(project, "/verify-email/confirm"), json={"token": token}), 422)
    assert_problem(client.post(url(project, "/verify-email"), json={"email": "not an email"}), 422)


def test_email_change_needs_confirmation_from_the_new_address(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    token = signup(client, project)["token"]
    signup(client, project, "taken@example.test")
    taken = client.post(
        url(project, "/email-change"), json={"new_email": "taken@example.test"}, headers=auth(token)
    )
    assert_problem(taken, 409)
    asked = client.post(
        url(project, "/email-change"), json={"new_email": "ada@new.test"}, headers=auth(token)
    )
    assert asked.status_code == 202
    assert client.get(url(project, "/me"), headers=auth(token)).json["email"] == "ada@example.test"
    change = mailed_token(runtime, project, "ada@new.test", "email_change")
    done = client.post(url(project, "/email-change/confirm"), json={"token": change})
    assert done.status_code == 200 and done.json["user"]["email"] == "ada@new.test"
    assert login(client, project, "ada@new.test").status_code == 200
    assert login(client, project, "ada@example.test").status_code == 401


# -- rate limits ---------------------------------------------------------------------------


def test_sign_in_is_rate_limited_per_address(
    client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    project = apply_file(runtime, project, "limits: {auth: 3/minute}")
    answers = [login(client, project, password="guessing " + str(i)).status_code for i in range(4)]
    assert answers == [401, 401, 401, 429]
    limited = login(client, project)
    assert_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) >= 1 and limited.headers["RateLimit-Limit"] == "3"
    # Another address has its own budget.
    other = client.post(
        url(project, "/login"),
        json={"email": "a@example.test", "password": "x" * 8},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert other.status_code == 401
