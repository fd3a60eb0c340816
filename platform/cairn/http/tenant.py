"""The tenant wall at the HTTP edge: resolve the project, open its transaction as the app
role, authenticate inside it, check the scope, run the view, commit.

Every route under /api/v1/projects/<project>/ goes through `project_route`; nothing else
hands a view a database connection.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request
from sqlalchemy import Connection

from cairn.auth import keys
from cairn.auth.principal import Principal, Scope
from cairn.errors import Unauthorized
from cairn.runtime import Runtime
from cairn.tenancy.service import Project

View = TypeVar("View", bound=Callable[..., Any])


def runtime() -> Runtime:
    return cast(Runtime, current_app.extensions["cairn"])


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("send a credential: Authorization: Bearer <token>")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return token.strip()


def project_route(scope: Scope, *, collection_arg: str | None = None) -> Callable[[View], View]:
    """Wrap a view taking `project` from the URL into one tenant transaction. With
    `collection_arg`, the URL argument naming a collection: its registry version is fetched
    in the same first round trip."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(project: str, **kwargs: Any) -> Any:
            rt = runtime()
            found = rt.projects.resolve(project)
            token = bearer_token()
            collection = kwargs.get(collection_arg) if collection_arg else None
            with rt.db.request() as conn:
                entry = keys.enter_with_key(
                    conn,
                    rt.settings.tenant_context,
                    rt.key_pepper,
                    found.id,
                    token,
                    rt.key_touch_after,
                    collection,
                )
                entry.principal.require(scope)
                g.tenant = TenantRequest(
                    found, entry.principal, conn, collection, entry.collection_version
                )
                return view(**kwargs)

        return cast(View, wrapper)

    return decorate


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
