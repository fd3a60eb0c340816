"""/api/v1/projects/<project>/auth — end users sign up, sign in, and manage themselves.

Two blueprints: `guarded` holds what brute force aims at (sign-in, sign-up, the mailed
requests and confirmations) and is rate-limited per client address; `bp` holds what a
signed-in user does with their session.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, Response, jsonify, request

from cairn.errors import Unauthorized
from cairn.http.body import json_body
from cairn.http.problems import error_response
from cairn.http.tenant import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    csrf_token,
    project_route,
    runtime,
    tenant,
)
from cairn.users import flows, sessions
from cairn.users import service as users
from cairn.users.service import SignedIn
from cairn.users.sessions import IssuedSession

PREFIX = "/api/v1/projects/<project>/auth"
guarded = Blueprint("auth_guarded", __name__, url_prefix=PREFIX)
bp = Blueprint("auth", __name__, url_prefix=PREFIX)


def _cookie_path(project_slug: str) -> str:
    return f"/api/v1/projects/{project_slug}/"


def set_session_cookies(
    response: Response, project_slug: str, issued: IssuedSession, csrf: str
) -> None:
    """The session in an HttpOnly cookie (for browsers) scoped to the project's API, and
    the CSRF token that cookie-authenticated writes must echo in a readable one."""
    max_age = int((issued.session.expires_at - issued.session.created_at).total_seconds())
    common: dict[str, Any] = {
        "max_age": max_age,
        "path": _cookie_path(project_slug),
        "secure": request.is_secure,
        "samesite": "Lax",
    }
    response.set_cookie(SESSION_COOKIE, issued.token, httponly=True, **common)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=False, **common)


def signed_in_response(signed: SignedIn, status: int = 200) -> Response:
    """The session for the client: the token in the body (for Authorization: Bearer) and in
    the cookies."""
    issued = signed.session
    csrf = csrf_token(runtime(), issued.token)
    response = jsonify(
        {
            "user": signed.user.to_dict(),
            "token": issued.token,
            "expires_at": issued.session.expires_at,
            "csrf_token": csrf,
        }
    )
    set_session_cookies(response, tenant().project.slug, issued, csrf)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _ended_response() -> Response:
    response = Response(status=204)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path=_cookie_path(tenant().project.slug))
    return response


def _client() -> dict[str, str | None]:
    return {"ip": request.remote_addr, "user_agent": request.headers.get("User-Agent")}


def _base_url() -> str:
    return request.url_root


def _signed_in_user() -> UUID:
    principal = tenant().principal
    if principal.kind != "user" or principal.user_id is None:
        raise Unauthorized("this needs an end-user session: sign in first")
    return principal.user_id


def _accepted() -> Response:
    return Response(status=202)


# -- sign-up, sign-in and the mailed flows (rate-limited per address) -------------------


@guarded.post("/signup")
@project_route("write", public=True)
def signup() -> Response:
    ctx, kit = tenant(), runtime().user_auth
    user = users.signup(ctx.conn, kit, ctx.project, json_body())
    if users.auth_settings(ctx.project).require_verified_email:
        flows.send_verification(ctx.conn, kit, ctx.project, user, _base_url())
        response = jsonify(
            {"user": user.to_dict(), "token": None, "expires_at": None, "verification_sent": True}
        )
        response.status_code = 201
        return response
    signed = users.start_session(ctx.conn, kit, ctx.project, user, method="signup", **_client())
    return signed_in_response(signed, 201)


@guarded.post("/login")
@project_route("write", public=True)
def login() -> Response:
    ctx, kit = tenant(), runtime().user_auth
    body = json_body()
    try:
        user = users.authenticate(
            ctx.conn, kit, ctx.project, body.get("email"), body.get("password")
        )
    except users.LoginRefused as exc:
        # Answered, not raised: the failed attempt's audit entry must be committed.
        return error_response(exc)
    return signed_in_response(
        users.start_session(ctx.conn, kit, ctx.project, user, method="password", **_client())
    )


@guarded.post("/password-reset")
@project_route("write", public=True)
def request_password_reset() -> Response:
    ctx = tenant()
    email = json_body().get("email")
    flows.request_password_reset(ctx.conn, runtime().user_auth, ctx.project, email, _base_url())
    return _accepted()


@guarded.post("/password-reset/confirm")
@project_route("write", public=True)
def confirm_password_reset() -> Response:
    ctx, body = tenant(), json_body()
    user = flows.confirm_password_reset(
        ctx.conn, runtime().user_auth, ctx.project, body.get("token"), body.get("password")
    )
    return jsonify({"user": user.to_dict()})


@guarded.post("/verify-email")
@project_route("write", public=True)
def request_verification() -> Response:
    ctx = tenant()
    email = json_body().get("email")
    flows.request_verification(ctx.conn, runtime().user_auth, ctx.project, email, _base_url())
    return _accepted()


def _token_argument() -> object:
    """A mailed link's token: from the JSON body, or the query string when the link is
    followed directly (GET)."""
    if request.method == "GET":
        return request.args.get("token")
    return json_body().get("token")


@guarded.route("/verify-email/confirm", methods=["GET", "POST"])
@project_route("write", public=True)
def confirm_verification() -> Response:
    ctx = tenant()
    user = flows.confirm_verification(ctx.conn, runtime().user_auth, ctx.project, _token_argument())
    return jsonify({"user": user.to_dict()})


@guarded.route("/email-change/confirm", methods=["GET", "POST"])
@project_route("write", public=True)
def confirm_email_change() -> Response:
    ctx = tenant()
    user = flows.confirm_email_change(ctx.conn, runtime().user_auth, ctx.project, _token_argument())
    return jsonify({"user": user.to_dict()})


# -- the signed-in user -----------------------------------------------------------------


@bp.post("/logout")
@project_route("write", end_users=True)
def logout() -> Response:
    ctx = tenant()
    user_id = _signed_in_user()
    assert ctx.principal.session_id is not None
    sessions.revoke_session(ctx.conn, ctx.project.id, user_id, ctx.principal.session_id)
    return _ended_response()


@bp.get("/me")
@project_route("read", end_users=True)
def me() -> Response:
    ctx = tenant()
    return jsonify(users.get_user(ctx.conn, ctx.project.id, _signed_in_user()).to_dict())


@bp.patch("/me")
@project_route("write", end_users=True)
def update_me() -> Response:
    ctx = tenant()
    user = users.update_profile(ctx.conn, ctx.project, _signed_in_user(), json_body())
    return jsonify(user.to_dict())


@bp.post("/password")
@project_route("write", end_users=True)
def change_password() -> Response:
    ctx, body = tenant(), json_body()
    _signed_in_user()
    users.change_password(
        ctx.conn,
        runtime().user_auth,
        ctx.project,
        ctx.principal,
        body.get("current_password"),
        body.get("new_password"),
    )
    return Response(status=204)


@bp.post("/email-change")
@project_route("write", end_users=True)
def request_email_change() -> Response:
    ctx = tenant()
    _signed_in_user()
    new_email = json_body().get("new_email")
    flows.request_email_change(
        ctx.conn, runtime().user_auth, ctx.project, ctx.principal, new_email, _base_url()
    )
    return _accepted()


@bp.get("/sessions")
@project_route("read", end_users=True)
def list_sessions() -> Response:
    ctx = tenant()
    found = sessions.list_sessions(ctx.conn, ctx.project.id, _signed_in_user())
    return jsonify({"items": [s.to_dict(ctx.principal.session_id) for s in found]})


@bp.delete("/sessions/<uuid:session_id>")
@project_route("write", end_users=True)
def revoke_session(session_id: UUID) -> Response:
    ctx = tenant()
    sessions.revoke_session(ctx.conn, ctx.project.id, _signed_in_user(), session_id)
    if session_id == ctx.principal.session_id:
        return _ended_response()
    return Response(status=204)
