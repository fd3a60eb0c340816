"""Who is asking. Built by authentication, carried through the request, handed to services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from cairn.auth.models import API_KEY_SCOPES
from cairn.errors import Forbidden

Scope = Literal["read", "write", "service", "admin"]
_RANK = {scope: rank for rank, scope in enumerate(API_KEY_SCOPES)}


@dataclass(frozen=True)
class Principal:
    kind: Literal["api_key", "operator"]
    project_id: UUID
    scope: Scope
    key_id: UUID | None = None
    user_id: UUID | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        if self.kind == "api_key":
            return f"key:{self.key_id}"
        return "operator"

    def claims(self) -> dict[str, str]:
        """What the tenant transaction tells Postgres about the caller (rules read these)."""
        return {
            "principal": self.kind,
            "scope": self.scope,
            "user_id": str(self.user_id) if self.user_id else "",
        }

    def require(self, scope: Scope) -> None:
        if _RANK[self.scope] < _RANK[scope]:
            raise Forbidden(f"this operation needs a key with the '{scope}' scope")


def operator(project_id: UUID) -> Principal:
    """The person at the CLI: the machine's operator, with full rights over one project."""
    return Principal(kind="operator", project_id=project_id, scope="admin")
