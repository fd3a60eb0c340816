"""The tenant wall at the HTTP edge: resolve the project, open its transaction as the app
role, authenticate inside it, check the scope, run the view, commit.

Every route under /api/v1/projects/<project>/ goes through `project_route` (or, for the
public routes that call another service between database steps, `public_project_route` and
`public_step`); nothing else hands a view a database connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from sqlalchemy import Connection

from cairn.auth import keys
from cairn.auth.principal import Principal, Scope
from cairn.crypto import keyed_hash, same_digest
from cairn.errors import Forbidden, Unauthorized
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn.users import service as user_service
from cairn.users import sessions

View = TypeVar("View", bound=Callable[..., Any])


def runtime() -> Runtime:
    return cast(Runtime, current_app.extensions["cairn"])


SESSION_COOKIE = "cairn_session"
CSRF_COOKIE = "cairn_csrf"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def presented_credential() -> tuple[str | None, bool]:
    """The caller's token and whether it came in the session cookie. The Authorization
    header wins; without either the caller is anonymous (None)."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        return token.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie, True
    return None, False


def csrf_token(rt: Runtime, session_token: str) -> str:
    """Bound to the session (an HMAC of it), so a cookie planted by another site is useless."""
    return keyed_hash(rt.csrf_key, session_token).hex()


def _check_csrf(rt: Runtime, session_token: str) -> None:
    """Cookie-authenticated unsafe requests must echo the CSRF token in a header: a page on
    another site can make the browser send the cookie, but cannot read the token."""
    if request.method in _SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        raise Forbidden(f"a cookie-authenticated {request.method} needs the {CSRF_HEADER} header")
    if not same_digest(sent.encode(), csrf_token(rt, session_token).encode()):
        raise Forbidden(f"the {CSRF_HEADER} header does not match this session")


def project_route(
    scope: Scope,
    *,
    collection_arg: str | None = None,
    end_users: bool = False,
    public: bool = False,
) -> Callable[[View], View]:
    """Wrap a view taking `project` from the URL into one tenant transaction. With
    `collection_arg`, the URL argument naming a collection: its registry version is fetched
    in the same first round trip. `end_users`: end-user sessions and anonymous callers may
    come in (collection rules decide what they may do); otherwise only API keys. `public`:
    the route serves anyone and ignores credentials (signing in, mailed links)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(project: str, **kwargs: Any) -> Any:
            rt = runtime()
            found = rt.projects.resolve(project)
            g.project_id = found.id
            token, from_cookie = (None, False) if public else presented_credential()
            collection = kwargs.get(collection_arg) if collection_arg else None
            source = request.remote_addr or ""
            mode = rt.settings.tenant_context
            with rt.db.request() as conn:
                if token is None:
                    if not (end_users or public):
                        raise Unauthorized("send a credential: Authorization: Bearer <token>")
                    entry = keys.enter_anonymous(conn, mode, found.id, collection, source)
                elif sessions.looks_like_session(token):
                    if from_cookie:
                        _check_csrf(rt, token)
                    entry = sessions.enter_with_session(
                        conn, mode, rt.session_pepper, found.id, token,
                        user_service.auth_settings(found), rt.key_touch_after, collection, source,
                    )  # fmt: skip
                else:
                    entry = keys.enter_with_key(
                        conn, mode, rt.key_pepper, found.id, token, rt.key_touch_after,
                        collection, source,
                    )  # fmt: skip
                if entry.principal.kind in ("user", "anonymous") and not (end_users or public):
                    raise Forbidden("an end-user session cannot do this; use a project API key")
                entry.principal.require(scope)
                g.tenant = TenantRequest(
                    found, entry.principal, conn, collection, entry.collection_version
                )
                return view(**kwargs)

        return cast(View, wrapper)

    return decorate


def public_project_route(view: View) -> View:
    """For a public route that calls another service (an OAuth provider) between database
    steps: resolve the project and run the view with no transaction open. The view opens
    short ones with `public_step()`, so no connection waits, idle in a transaction, on the
    other service."""

    @wraps(view)
    def wrapper(project: str, **kwargs: Any) -> Any:
        found = runtime().projects.resolve(project)
        g.project_id = found.id
        g.public_project = found
        return view(**kwargs)

    return cast(View, wrapper)


def public_project() -> Project:
    """The project of a `public_project_route` view, outside its transactions."""
    return cast(Project, g.public_project)


@contextmanager
def public_step() -> Iterator[TenantRequest]:
    """One transaction of a `public_project_route` view: the app role, entered as an
    anonymous caller of the project (like `project_route(public=True)`); commits when the
    block ends, rolls back when it raises."""
    rt = runtime()
    found = public_project()
    with rt.db.request() as conn:
        entry = keys.enter_anonymous(
            conn, rt.settings.tenant_context, found.id, None, request.remote_addr or ""
        )
        yield TenantRequest(found, entry.principal, conn)


class TenantRequest:
    """What a project route's view may use: its project, its principal, its transaction,
    and (for collection routes) the registry version of the collection in the URL."""

    def __init__(
        self,
        project: Project,
        principal: Principal,
        conn: Connection,
        collection: str | None = None,
        collection_version: int | None = None,
    ) -> None:
        self.project = project
        self.principal = principal
        self.conn = conn
        self.collection = collection
        self.collection_version = collection_version


def tenant() -> TenantRequest:
    return cast(TenantRequest, g.tenant)
