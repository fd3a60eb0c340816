"""End-user auth: `client.auth.signup/login/logout/me/sessions` and the OAuth URL helper.

Signing in (`signup` when no e-mail verification is required, or `login`) sets the
client's `token` to the new session token, so every following call acts as that user and
the collection rules apply to them. `logout()` ends the session and clears it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from cairn_sdk._client import AsyncClient, Client, _BaseClient

__all__ = ["AsyncAuth", "Auth", "AuthResult"]


@dataclass(frozen=True)
class AuthResult:
    """A sign-up or sign-in: the `user`, the session `token` (`cs_…`; None when the
    project requires a verified e-mail before signing in) and when it `expires_at`."""

    user: dict[str, Any]
    token: str | None
    expires_at: str | None
    csrf_token: str | None = None
    verification_sent: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_body(cls, body: Any) -> AuthResult:
        """Read the server's `{"user", "token", "expires_at", ...}` answer."""
        data: dict[str, Any] = body if isinstance(body, dict) else {}
        user = data.get("user")
        token = data.get("token")
        expires = data.get("expires_at")
        csrf = data.get("csrf_token")
        return cls(
            user=user if isinstance(user, dict) else {},
            token=token if isinstance(token, str) else None,
            expires_at=expires if isinstance(expires, str) else None,
            csrf_token=csrf if isinstance(csrf, str) else None,
            verification_sent=bool(data.get("verification_sent", False)),
            raw=data,
        )


def _authorize_url(client: _BaseClient, provider: str, redirect_to: str) -> str:
    query = urlencode({"redirect_to": redirect_to})
    return f"{client.project_url}/auth/oauth/{quote(provider, safe='')}/authorize?{query}"


def _items(body: Any) -> list[dict[str, Any]]:
    items = body.get("items") if isinstance(body, dict) else body
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


class Auth:
    """End-user auth for a `Client` (available as `client.auth`)."""

    def __init__(self, client: Client) -> None:
        """Bind to `client`; sign-ins set its `token`."""
        self._client = client

    def _signed_in(self, body: Any) -> AuthResult:
        result = AuthResult.from_body(body)
        if result.token is not None:
            self._client.token = result.token
        return result

    def signup(self, email: str, password: str, **profile: Any) -> AuthResult:
        """Create an end user (with optional profile fields) and, unless the project
        requires a verified e-mail first, sign them in on this client."""
        body = self._client.request(
            "POST", "/auth/signup", json={**profile, "email": email, "password": password}
        )
        return self._signed_in(body)

    def login(self, email: str, password: str) -> AuthResult:
        """Sign in with e-mail and password; this client then acts as the user."""
        body = self._client.request(
            "POST", "/auth/login", json={"email": email, "password": password}
        )
        return self._signed_in(body)

    def logout(self) -> None:
        """End the current session on the server and forget its token here."""
        self._client.request("POST", "/auth/logout")
        self._client.token = None

    def me(self) -> dict[str, Any]:
        """The signed-in user."""
        body = self._client.request("GET", "/auth/me")
        return body if isinstance(body, dict) else {}

    def sessions(self) -> list[dict[str, Any]]:
        """The signed-in user's active sessions (the current one is marked)."""
        return _items(self._client.request("GET", "/auth/sessions"))

    def revoke_session(self, id: str) -> None:
        """Revoke one of the user's sessions (e.g. a lost device)."""
        self._client.request("DELETE", f"/auth/sessions/{quote(str(id), safe='')}")

    def authorize_url(self, provider: str, redirect_to: str) -> str:
        """The URL to send a browser to for signing in with OAuth `provider`; after the
        provider, Cairn redirects to `redirect_to` (which must be allowed by the project's
        `auth.redirect_allow`) with the session in the URL fragment. Sends no request."""
        return _authorize_url(self._client, provider, redirect_to)


class AsyncAuth:
    """End-user auth for an `AsyncClient` (available as `client.auth`)."""

    def __init__(self, client: AsyncClient) -> None:
        """Bind to `client`; sign-ins set its `token`."""
        self._client = client

    def _signed_in(self, body: Any) -> AuthResult:
        result = AuthResult.from_body(body)
        if result.token is not None:
            self._client.token = result.token
        return result

    async def signup(self, email: str, password: str, **profile: Any) -> AuthResult:
        """Create an end user and sign them in on this client; see `Auth.signup`."""
        body = await self._client.request(
            "POST", "/auth/signup", json={**profile, "email": email, "password": password}
        )
        return self._signed_in(body)

    async def login(self, email: str, password: str) -> AuthResult:
        """Sign in with e-mail and password; this client then acts as the user."""
        body = await self._client.request(
            "POST", "/auth/login", json={"email": email, "password": password}
        )
        return self._signed_in(body)

    async def logout(self) -> None:
        """End the current session on the server and forget its token here."""
        await self._client.request("POST", "/auth/logout")
        self._client.token = None

    async def me(self) -> dict[str, Any]:
        """The signed-in user."""
        body = await self._client.request("GET", "/auth/me")
        return body if isinstance(body, dict) else {}

    async def sessions(self) -> list[dict[str, Any]]:
        """The signed-in user's active sessions (the current one is marked)."""
        return _items(await self._client.request("GET", "/auth/sessions"))

    async def revoke_session(self, id: str) -> None:
        """Revoke one of the user's sessions."""
        await self._client.request("DELETE", f"/auth/sessions/{quote(str(id), safe='')}")

    def authorize_url(self, provider: str, redirect_to: str) -> str:
        """The OAuth sign-in URL for `provider`; see `Auth.authorize_url`. No request."""
        return _authorize_url(self._client, provider, redirect_to)
