"""Who is asking. Built by authentication, carried through the request, handed to services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from cairn.auth.models import API_KEY_SCOPES
from cairn.errors import Forbidden

Scope = Literal["read", "write", "service", "admin"]
_RANK = {scope: rank for rank, scope in enumerate(API_KEY_SCOPES)}


@dataclass(frozen=True)
class Principal:
    """An API key, an end user's session, an anonymous caller, or the CLI operator. Users
    and anonymous callers act with `write` scope: collection rules decide what they may do."""

    kind: Literal["api_key", "operator", "user", "anonymous"]
    project_id: UUID
    scope: Scope
    key_id: UUID | None = None
    user_id: UUID | None = None
    session_id: UUID | None = None
    email: str = ""
    verified: bool = False
    # The user's profile fields, as `@request.auth.<field>` in rules.
    profile: dict[str, Any] = field(default_factory=dict, compare=False)
    # For an operator acting through the admin UI: the platform admin's email.
    admin_email: str = ""

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        if self.kind == "api_key":
            return f"key:{self.key_id}"
        if self.kind == "user":
            return f"user:{self.user_id}"
        if self.admin_email:
            return f"admin:{self.admin_email}"
        return self.kind

    def claims(self) -> dict[str, str]:
        """What the tenant transaction tells Postgres about the caller (rules read these)."""
        return {
            "principal": self.kind,
            "scope": self.scope,
            "user_id": str(self.user_id) if self.user_id else "",
        }

    def require(self, scope: Scope) -> None:
        if _RANK[self.scope] < _RANK[scope]:
            if self.kind == "user":
                raise Forbidden("an end-user session cannot do this; use a project API key")
            raise Forbidden(f"this operation needs a key with the '{scope}' scope")


def operator(project_id: UUID) -> Principal:
    """The person at the CLI: the machine's operator, with full rights over one project."""
    return Principal(kind="operator", project_id=project_id, scope="admin")


def platform_admin(project_id: UUID, email: str) -> Principal:
    """A platform admin in the admin UI: an operator over the project, audited by email."""
    return Principal(kind="operator", project_id=project_id, scope="admin", admin_email=email)


def anonymous(project_id: UUID) -> Principal:
    return Principal(kind="anonymous", project_id=project_id, scope="write")
