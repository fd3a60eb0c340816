"""Who is signed in to the admin UI, CSRF on every form, and the headers every page carries.

A platform admin's session is a server-side `ca_` session (cairn.admins.service) whose token
lives in an HttpOnly, SameSite=Strict cookie scoped to /admin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Request, Response, g, redirect, request, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError
from sqlalchemy import Connection

from cairn.admins import service as admins
from cairn.auth.principal import Principal, platform_admin
from cairn.crypto import derive_key
from cairn.errors import Unauthorized
from cairn.http.tenant import runtime
from cairn.runtime import Runtime
from cairn.tenancy.service import Project

SESSION_COOKIE = "cairn_admin"
View = TypeVar("View", bound=Callable[..., Any])

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


class AdminOnlySessions(SecureCookieSessionInterface):
    """Flask's signed session holds only the CSRF token of the admin forms, so it is opened
    for the UI's requests alone: the API never pays for reading or signing it."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path != "/admin" and not request.path.startswith("/admin/"):
            return None  # Flask falls back to a NullSession, which refuses writes
        return super().open_session(app, request)


def configure(app: Flask, secret_key: str) -> None:
    app.session_interface = AdminOnlySessions()
    app.secret_key = derive_key(secret_key, "admin-ui-session").hex()
    app.config.update(
        SESSION_COOKIE_NAME="cairn_admin_form",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/admin",
        WTF_CSRF_TIME_LIMIT=None,  # bound to the form session, which ends with the browser
    )


def before_request() -> Response | None:
    """CSRF on every unsafe request to the UI; then find the signed-in admin, if any (not
    for the stylesheets and scripts: they need no admin, and no database round trip)."""
    g.admin = None
    if request.endpoint == "admin.static":
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        from cairn_admin import csrf

        try:
            csrf.protect()
        except CSRFError:
            response = Response(
                "The form expired or did not come from this site. Go back, reload and retry.",
                status=400,
                mimetype="text/plain",
            )
            return response
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        rt = runtime()
        try:
            with rt.db.owner() as conn:
                g.admin = admins.session_admin(conn, rt.admin_crypto, token)
        except Unauthorized:
            g.admin = None
    return None


def harden(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if not request.path.startswith("/admin/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


@contextmanager
def in_project(slug: str) -> Iterator[tuple[Runtime, Project, Connection, Principal]]:
    """The project `slug` names, one tenant transaction in it as the app role (audited as
    this admin, from this client address), and the principal the services act as."""
    rt = runtime()
    project = rt.projects.resolve(slug)
    principal = platform_admin(project.id, g.admin.email)
    claims = {**principal.claims(), "source": request.remote_addr or ""}
    with rt.db.tenant(project.id, claims) as conn:
        yield rt, project, conn, principal


def signed_in(view: View) -> View:
    """Pages for signed-in admins; others go to the sign-in page and come back after."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.admin is None:
            return redirect(url_for("admin.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(View, wrapper)
