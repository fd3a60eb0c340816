"""OAuth sign-in and the providers behind it.

`bp` — /api/v1/projects/<project>/auth/oauth/<provider>/{authorize,callback}: public, the
browser's way through the authorization-code flow (rate-limited per client address with
the other sign-in endpoints). `providers_bp` — /api/v1/projects/<project>/auth/providers:
admin keys declare providers; the client secret is write-only.

The callback sends the browser back to the `redirect_to` it started with: on success with
the session in the URL fragment (`#token=…&expires_at=…&csrf_token=…`, never sent to a
server) and in the HttpOnly session cookie; on failure with `#error=…&error_description=…`.
A callback whose state is missing, unknown, expired, already used or started in another
browser cannot know (or must not trust) where to send the browser: a 400 problem.

The authorize step binds the sign-in to the browser with an HttpOnly cookie
(`cairn_oauth`, SameSite=Lax, 10 minutes, only sent to the OAuth endpoints); concurrent
sign-ins in one browser share it.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urldefrag, urlencode
from uuid import UUID

from flask import Blueprint, Response, jsonify, request, url_for

from cairn.errors import CairnError
from cairn.http.body import json_body
from cairn.http.pagination import CursorCodec, page_request, page_response
from cairn.http.tenant import (
    csrf_token,
    project_route,
    public_project,
    public_project_route,
    public_step,
    runtime,
    tenant,
)
from cairn.users import oauth, providers
from cairn.users.api import set_session_cookies

PREFIX = "/api/v1/projects/<project>/auth"
BROWSER_COOKIE = "cairn_oauth"
bp = Blueprint("oauth", __name__, url_prefix=f"{PREFIX}/oauth")
providers_bp = Blueprint("auth_providers", __name__, url_prefix=f"{PREFIX}/providers")


def _callback_url(project: str, provider: str) -> str:
    return url_for("oauth.callback", project=project, provider=provider, _external=True)


def _found(location: str) -> Response:
    response = Response(status=302)
    response.headers["Location"] = location
    return response


def _to(redirect_to: str, fragment: dict[str, str]) -> Response:
    """A 302 to `redirect_to` with `fragment` (replacing any fragment it had)."""
    base, _ = urldefrag(redirect_to)
    response = _found(f"{base}#{urlencode(fragment)}")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# -- the browser's way ------------------------------------------------------------------


@bp.get("/<provider>/authorize")
@public_project_route
def authorize(provider: str) -> Response:
    rt = runtime()
    browser = request.cookies.get(BROWSER_COOKIE) or secrets.token_urlsafe(32)
    with public_step() as ctx:
        started = oauth.begin(
            ctx.conn,
            rt.provider_box,
            ctx.project,
            provider,
            request.args.get("redirect_to"),
            browser=browser,
            allow_private=rt.settings.oauth_allow_private,
        )
    response = _found(started.authorize_url(_callback_url(public_project().slug, provider)))
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        max_age=int(oauth.STATE_LIFETIME.total_seconds()),
        path=f"/api/v1/projects/{public_project().slug}/auth/oauth/",
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
    )
    return response


@bp.get("/<provider>/callback")
@public_project_route
def callback(provider: str) -> Response:
    """Three transactions, none open while the provider is asked who signed in. A failure
    after the state is consumed is committed (state gone, failure audited), then answered
    by sending the browser back with the error."""
    rt = runtime()
    state = request.args.get("state")
    browser = request.cookies.get(BROWSER_COOKIE)
    error = request.args.get("error")
    if error is not None:  # the user said no, or the provider failed
        with public_step() as ctx:
            target = oauth.abandon(
                ctx.conn, rt.provider_box, ctx.project, provider, state, error,
                request.args.get("error_description"), browser=browser,
            )  # fmt: skip
        fragment = {"error": oauth.error_code(error)}
        if request.args.get("error_description"):
            fragment["error_description"] = request.args["error_description"][:300]
        return _to(target, fragment)
    with public_step() as ctx:
        try:
            received = oauth.receive(
                ctx.conn, rt.provider_box, ctx.project, provider, state,
                request.args.get("code"), browser=browser,
                allow_private=rt.settings.oauth_allow_private,
            )  # fmt: skip
        except oauth.CallbackFailed as exc:
            return _failed(exc)
    try:
        identity = received.identity(_callback_url(public_project().slug, provider))
    except CairnError as exc:
        with public_step() as ctx:
            return _failed(oauth.fail(ctx.conn, ctx.project, received, exc))
    with public_step() as ctx:
        try:
            done = oauth.finish(
                ctx.conn, rt.user_auth, ctx.project, received, identity,
                request.remote_addr, request.headers.get("User-Agent"),
            )  # fmt: skip
        except oauth.CallbackFailed as exc:
            return _failed(exc)
    issued = done.signed_in.session
    csrf = csrf_token(rt, issued.token)
    response = _to(
        done.redirect_to,
        {
            "token": issued.token,
            "expires_at": issued.session.expires_at.isoformat(),
            "csrf_token": csrf,
        },
    )
    set_session_cookies(response, public_project().slug, issued, csrf)
    return response


def _failed(exc: oauth.CallbackFailed) -> Response:
    """The browser sent back with the error (returned inside the step, so it commits)."""
    fragment = {
        "error": str(exc.extra.get("reason", exc.slug)),
        "error_description": exc.detail,
        "status": str(exc.status),
    }
    return _to(exc.redirect_to, fragment)


# -- administration ---------------------------------------------------------------------


def _dump(provider: providers.Provider) -> dict[str, Any]:
    return {
        **provider.to_dict(),
        # What to register at the provider as the redirect (callback) URL.
        "callback_url": _callback_url(tenant().project.slug, provider.name),
    }


def _codec() -> CursorCodec:
    return CursorCodec(runtime().cursor_secret, "auth-providers")


@providers_bp.get("")
@project_route("admin")
def list_providers() -> Response:
    ctx = tenant()
    page = page_request(_codec())
    found, more = providers.page_providers(
        ctx.conn, ctx.project.id, limit=page.limit, after=page.after
    )
    body, headers = page_response(
        [_dump(p) for p in found], found[-1].name if more else None, _codec()
    )
    response = jsonify(body)
    response.headers.update(headers)
    return response


@providers_bp.post("")
@project_route("admin")
def create_provider() -> Response:
    ctx = tenant()
    provider = providers.save_provider(
        ctx.conn,
        runtime().provider_box,
        ctx.project.id,
        providers.load_provider(json_body()),
        actor=ctx.principal.actor,
    )
    response = jsonify(_dump(provider))
    response.status_code = 201
    response.headers["Location"] = url_for(
        "auth_providers.get_provider", project=ctx.project.slug, provider_id=provider.id
    )
    return response


@providers_bp.get("/<uuid:provider_id>")
@project_route("admin")
def get_provider(provider_id: UUID) -> Response:
    ctx = tenant()
    return jsonify(_dump(providers.get_provider(ctx.conn, ctx.project.id, provider_id)))


@providers_bp.put("/<uuid:provider_id>")
@project_route("admin")
def replace_provider(provider_id: UUID) -> Response:
    """The whole definition; a `client_secret` left out keeps the stored one."""
    ctx = tenant()
    provider = providers.save_provider(
        ctx.conn,
        runtime().provider_box,
        ctx.project.id,
        providers.load_provider(json_body()),
        actor=ctx.principal.actor,
        provider_id=provider_id,
    )
    return jsonify(_dump(provider))


@providers_bp.delete("/<uuid:provider_id>")
@project_route("admin")
def delete_provider(provider_id: UUID) -> Response:
    ctx = tenant()
    providers.delete_provider(ctx.conn, ctx.project.id, provider_id, actor=ctx.principal.actor)
    return Response(status=204)
