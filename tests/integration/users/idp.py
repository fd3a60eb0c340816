"""A real OpenID Connect provider for the OAuth tests: `oidc-provider-mock` served over HTTP
on a free local port, in a thread.

The mock issues real codes, RS256-signed ID tokens (with the nonce it was sent) and a real
JWKS, and checks registered clients' secrets; it does not check PKCE, so a small WSGI layer
in front of it does, as a provider must (RFC 7636 §4.6): a code issued for a
`code_challenge` is only exchanged with the matching `code_verifier`. The layer also keeps
what went over the wire, for the tests to look at.

The "browser" is plain HTTP: fetch the provider's authorization page, post its form.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import oidc_provider_mock
from werkzeug.serving import BaseWSGIServer, make_server

StartResponse = Callable[..., Any]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class TokenRequest:
    form: dict[str, str]
    authorization: str | None
    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)


class IdentityProvider:
    def __init__(self) -> None:
        self._app = oidc_provider_mock.app(require_nonce=True)
        self._challenges: dict[str, tuple[str, str]] = {}  # code → (challenge, method)
        self.token_requests: list[TokenRequest] = []
        self._lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self.url = ""

    # -- lifecycle --

    def start(self) -> None:
        self._server = make_server("localhost", 0, self._wsgi, threaded=True)
        self.url = f"http://localhost:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def discovery_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    # -- setting it up --

    def set_user(self, sub: str, **claims: Any) -> None:
        """The claims the provider asserts for `sub` (email, email_verified, name …)."""
        response = httpx.put(f"{self.url}/users/{sub}", json=claims)
        assert response.status_code == 204, response.text

    def register_client(self, redirect_uri: str) -> tuple[str, str]:
        """A registered client: its secret is checked at the token endpoint."""
        response = httpx.post(
            f"{self.url}/oauth2/clients",
            json={
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "client_secret_basic",
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return body["client_id"], body["client_secret"]

    # -- the browser at the provider --

    def approve(self, authorize_url: str, sub: str) -> str:
        """Sign in as `sub` on the provider's page; where the provider sends the browser."""
        page = httpx.get(authorize_url)
        assert page.status_code == 200 and 'name="sub"' in page.text, page.text[:500]
        back = httpx.post(authorize_url, data={"sub": sub})
        assert back.status_code == 302, back.text[:500]
        return back.headers["Location"]

    def deny(self, authorize_url: str) -> str:
        back = httpx.post(authorize_url, data={"action": "deny"})
        assert back.status_code == 302, back.text[:500]
        return back.headers["Location"]

    # -- the PKCE check and the wire log --

    def _wsgi(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == "/oauth2/authorize" and method == "POST":
            return self._authorize(environ, start_response)
        if path == "/oauth2/token" and method == "POST":
            return self._token(environ, start_response)
        return self._app(environ, start_response)  # type: ignore[no-any-return]

    def _authorize(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}

        def remember(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            location = dict(headers).get("Location", "")
            code = parse_qs(urlsplit(location).query).get("code")
            if code:
                with self._lock:
                    self._challenges[code[0]] = (
                        query.get("code_challenge", ""),
                        query.get("code_challenge_method", ""),
                    )
            return start_response(status, headers, *args)

        return self._app(environ, remember)  # type: ignore[no-any-return]

    def _token(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        logged = TokenRequest(form, environ.get("HTTP_AUTHORIZATION"))
        self.token_requests.append(logged)
        if form.get("grant_type") == "authorization_code":
            with self._lock:
                challenge, method = self._challenges.pop(form.get("code", ""), ("", ""))
            verifier = form.get("code_verifier", "")
            if method != "S256" or not verifier or s256(verifier) != challenge:
                body = {"error": "invalid_grant", "error_description": "PKCE verification failed"}
                logged.status, logged.body = 400, body
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [json.dumps(body).encode()]
        captured: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            captured["status"] = int(status.split()[0])
            return start_response(status, headers, *args)

        chunks = b"".join(self._app(environ, keep))
        logged.status = captured.get("status", 0)
        try:
            logged.body = json.loads(chunks)
        except ValueError:
            logged.body = {}
        return [chunks]
