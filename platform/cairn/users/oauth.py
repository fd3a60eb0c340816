"""Signing end users in through a project's OAuth 2.0 / OpenID Connect providers.

The authorization-code flow, with `state` (single use, 10 minutes), an OpenID Connect
`nonce` and a PKCE S256 verifier. `begin` checks where the browser is to land afterwards
against the project's `auth.redirect_allow`, stores the state's hash with the nonce,
verifier and redirect target sealed; `Started.authorize_url` then makes the provider's
authorization URL. The state is bound to the browser that started the sign-in (`browser`: a
random value the HTTP layer keeps in a cookie), so a callback link planted in another
browser signs nobody in there (login CSRF). The callback takes three steps: `receive`
consumes the state (a second use finds nothing); `Received.identity` exchanges the code
with the verifier and validates the ID token (signature against the provider's JWKS,
issuer, audience, expiry, nonce); `finish` signs the user in:

1. an identity already linked (provider, subject) → its user;
2. else a user with the same email → linked only when the provider says the email is
   verified (an unverified account found so is taken over by the address's proven owner:
   its password and sessions go, since whoever set them never proved the address);
3. else a new user (verified as the provider says, no password), if sign-up is open.

Each provider's configuration (decrypted secret, discovery metadata, signing keys) is cached
per process under (project, provider id, version): a changed provider — a rotated secret
too — bumps the version, and the next login builds a new client. The authlib session that
talks to the provider is made per login: it holds the login's token.

Nothing here talks to the provider while holding a database transaction: the steps that do
(`Started.authorize_url`, `Received.identity`) take no connection, and the caller runs the
database steps around them in transactions of their own, so a slow provider keeps no
connection idle in a transaction.

Every URL fetched from the server side (discovery document, token endpoint, JWKS, user
info) must resolve to public addresses unless the operator allows private providers
(CAIRN_OAUTH_ALLOW_PRIVATE=1, say for a Keycloak inside the cluster), as for webhooks: a
project's administrator must not reach the operator's internal network through Cairn. It is
a setting of its own, so trusting an internal identity provider does not open webhooks to
the internal network too.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from cachetools import LRUCache
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import Connection, delete, insert
from sqlalchemy.exc import IntegrityError

from cairn.audit import service as audit
from cairn.errors import BadRequest, CairnError, Conflict, Forbidden, Invalid, Unauthorized
from cairn.tenancy.service import Project
from cairn.users import service as users
from cairn.users import sessions
from cairn.users.models import oauth_identities, oauth_states
from cairn.users.providers import Provider, ProviderDef, find_provider
from cairn.webhooks.service import SecretBox, check_url

STATE_LIFETIME = timedelta(minutes=10)
HTTP_TIMEOUT = 10.0  # seconds, per request to the provider
METADATA_TTL = 3600.0  # seconds a discovery document is trusted before it is fetched again
ID_TOKEN_LEEWAY = 120  # seconds of clock skew tolerated on exp/iat
# Asymmetric algorithms only: the keys come from the provider's JWKS.
_SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                       "ES256", "ES384", "ES512", "EdDSA")  # fmt: skip
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_CACHE_SIZE = 512


class ProviderFailed(CairnError):
    """The identity provider could not be reached or answered nonsense."""

    status = 502
    title = "Bad Gateway"
    slug = "provider-failed"


class CallbackFailed(CairnError):
    """A callback that failed after its state was consumed: the state is gone (and the
    failure audited), so the caller commits, then sends the browser back to `redirect_to`
    with the error. Carries the status, title and detail of `cause`."""

    def __init__(self, cause: CairnError, redirect_to: str) -> None:
        super().__init__(cause.detail, **cause.extra)
        self.status, self.title, self.slug = cause.status, cause.title, cause.slug
        self.cause = cause
        self.redirect_to = redirect_to


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in."""

    subject: str
    email: str | None
    email_verified: bool


@dataclass(frozen=True)
class Completed:
    signed_in: users.SignedIn
    redirect_to: str
    created: bool  # a new account
    linked: bool  # the identity was linked now (new account or existing one)


@dataclass(frozen=True)
class _Pending:
    nonce: str
    verifier: str
    redirect_to: str
    browser: str | None  # hash of the browser binding, when the sign-in has one


@dataclass(frozen=True)
class Started:
    """A stored sign-in, waiting for the URL that sends the browser to the provider."""

    client: ProviderClient
    state: str
    nonce: str
    verifier: str

    def authorize_url(self, callback_url: str) -> str:
        """May fetch the provider's discovery document: call it outside any transaction."""
        return self.client.authorize_url(callback_url, self.state, self.nonce, self.verifier)


@dataclass(frozen=True)
class Received:
    """A callback whose state is consumed and whose provider is known."""

    provider: str
    client: ProviderClient
    pending: _Pending
    code: str

    def identity(self, callback_url: str) -> Identity:
        """Who signed in, in the provider's word: the code exchange and the checks of what
        comes back (over the network, so outside any transaction; a CairnError goes to
        `fail`)."""
        return self.client.identity(callback_url, self.code, self.pending)


# -- talking to the provider ------------------------------------------------------------


class ProviderClient:
    """One provider version's configuration in this process: credentials, endpoints and
    signing keys. Shared by concurrent logins, so it holds no login's state."""

    def __init__(self, definition: ProviderDef, client_secret: str, *, allow_private: bool):
        self.definition = definition
        self.client_id = definition.client_id
        self._secret = client_secret
        self._allow_private = allow_private
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._jwks: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    # - plumbing -

    def _check(self, url: str, what: str) -> None:
        try:
            check_url(url, allow_private=self._allow_private, setting="CAIRN_OAUTH_ALLOW_PRIVATE")
        except Invalid as exc:
            reason = "; ".join(exc.errors.get("url", [exc.detail]))
            raise ProviderFailed(
                f"the OAuth provider '{self.name}' cannot be used: its {what} {reason}"
            ) from None

    def _get_json(self, url: str, what: str, session: Any = None, **kwargs: Any) -> Any:
        self._check(url, what)
        try:
            if session is None:
                response = requests.get(
                    url, timeout=HTTP_TIMEOUT, allow_redirects=False,
                    headers={"Accept": "application/json"},
                )  # fmt: skip
            else:
                response = session.get(url, timeout=HTTP_TIMEOUT, allow_redirects=False, **kwargs)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderFailed(
                f"the OAuth provider '{self.name}' did not answer its {what} "
                f"({type(exc).__name__}); try again later"
            ) from None

    def metadata(self) -> dict[str, Any]:
        """The provider's endpoints: fixed for GitHub, discovered for OpenID Connect."""
        spec = self.definition.spec
        if self.definition.kind == "github":
            return {
                "authorization_endpoint": spec.authorize_url,
                "token_endpoint": spec.token_url,
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._fetched_at < METADATA_TTL:
                return self._metadata
        url = self.definition.metadata_url
        assert url is not None
        found = self._get_json(url, "discovery URL")
        needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(found, dict) or not all(isinstance(found.get(k), str) for k in needed):
            raise ProviderFailed(
                f"the discovery document of the OAuth provider '{self.name}' lacks "
                f"{', '.join(needed)}"
            )
        with self._lock:
            self._metadata, self._fetched_at = found, time.monotonic()
            self._jwks = None
        return found

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            cached = None if refresh else self._jwks
        if cached is None:
            cached = self._get_json(self.metadata()["jwks_uri"], "JWKS URL")
            if not isinstance(cached, dict) or not isinstance(cached.get("keys"), list):
                raise ProviderFailed(f"the OAuth provider '{self.name}' has no signing keys")
            with self._lock:
                self._jwks = cached
        try:
            return KeySet.import_key_set(cached)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise ProviderFailed(
                f"the OAuth provider '{self.name}' publishes signing keys Cairn cannot read"
            ) from None

    def session(self, callback_url: str) -> Any:
        """A new authlib session for one login (it keeps the login's token)."""
        supported = self.metadata().get(
            "token_endpoint_auth_methods_supported", ["client_secret_basic"]
        )
        method = (
            "client_secret_basic" if "client_secret_basic" in supported else "client_secret_post"
        )
        return OAuth2Session(
            client_id=self.client_id,
            client_secret=self._secret,
            scope=" ".join(self.definition.effective_scopes),
            redirect_uri=callback_url,
            code_challenge_method="S256",
            token_endpoint_auth_method=method,
            default_timeout=HTTP_TIMEOUT,
        )

    # - the flow -

    def authorize_url(self, callback_url: str, state: str, nonce: str, verifier: str) -> str:
        extra: dict[str, str] = {"nonce": nonce} if self.definition.kind == "oidc" else {}
        with self.session(callback_url) as session:
            url, _ = session.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=state,
                code_verifier=verifier,
                **extra,
            )
        return str(url)

    def identity(self, callback_url: str, code: str, pending: _Pending) -> Identity:
        endpoint = self.metadata()["token_endpoint"]
        self._check(endpoint, "token endpoint")
        with self.session(callback_url) as session:
            try:
                token = session.fetch_token(
                    endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.verifier,
                    headers={"Accept": "application/json"},
                )
            except requests.RequestException as exc:
                raise ProviderFailed(
                    f"the OAuth provider '{self.name}' did not answer the code exchange "
                    f"({type(exc).__name__}); try again later"
                ) from None
            except ValueError:
                raise ProviderFailed(
                    f"the OAuth provider '{self.name}' answered the code exchange with no token"
                ) from None
            except OAuthError as exc:  # an error answer: the provider refused the code
                raise Unauthorized(
                    f"{self.name} did not accept the sign-in ({exc.error}); start it again",
                    reason="code_rejected",
                ) from None
            if self.definition.kind == "github":
                return self._github_identity(session)
            return self._oidc_identity(session, dict(token), pending.nonce)

    def _oidc_identity(self, session: Any, token: dict[str, Any], nonce: str) -> Identity:
        raw = token.get("id_token")
        if not isinstance(raw, str):
            raise ProviderFailed(f"the OAuth provider '{self.name}' sent no ID token")
        claims = self.validate_id_token(raw, nonce, token.get("access_token"))
        email, verified = claims.get("email"), claims.get("email_verified")
        userinfo_url = self.metadata().get("userinfo_endpoint")
        if email is None and isinstance(userinfo_url, str):
            info = self._get_json(userinfo_url, "user info endpoint", session)
            if isinstance(info, dict) and info.get("sub") == claims["sub"]:
                email, verified = info.get("email"), info.get("email_verified")
        return Identity(
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) and email else None,
            email_verified=verified is True or verified == "true",
        )

    def validate_id_token(
        self, raw: str, nonce: str, access_token: str | None = None
    ) -> dict[str, Any]:
        """The ID token's claims once its signature (the provider's JWKS), issuer, audience,
        expiry and nonce check out; Unauthorized otherwise."""
        metadata = self.metadata()
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if a in _SIGNING_ALGORITHMS]
        registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
        try:
            try:
                decoded = jwt.decode(raw, self._key_set(), registry=registry)
            except InvalidKeyIdError:  # the provider rotated its keys: fetch them again
                decoded = jwt.decode(raw, self._key_set(refresh=True), registry=registry)
            params: dict[str, Any] = {"nonce": nonce, "client_id": self.client_id}
            if access_token:
                params["access_token"] = access_token
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": metadata["issuer"]},
                    "aud": {"essential": True, "value": self.client_id},
                },
                params,
            )
            claims.validate(leeway=ID_TOKEN_LEEWAY)
        except (JoseError, ValueError) as exc:
            raise Unauthorized(
                f"the ID token from {self.name} is not valid ({_jose_reason(exc)})",
                reason="invalid_id_token",
            ) from None
        return dict(claims)

    def _github_identity(self, session: Any) -> Identity:
        spec = self.definition.spec
        assert spec.user_url is not None and spec.emails_url is not None
        headers = {"Accept": "application/vnd.github+json"}
        user = self._get_json(spec.user_url, "user API", session, headers=headers)
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            raise ProviderFailed(f"the OAuth provider '{self.name}' sent no user id")
        email, verified = user.get("email"), False
        listed = self._get_json(spec.emails_url, "emails API", session, headers=headers)
        if isinstance(listed, list):
            entries = [e for e in listed if isinstance(e, dict) and isinstance(e.get("email"), str)]
            ranked = sorted(
                entries, key=lambda e: (e.get("verified") is not True, e.get("primary") is not True)
            )
            if ranked:
                email, verified = ranked[0]["email"], ranked[0].get("verified") is True
        return Identity(
            subject=str(user["id"]),
            email=email if isinstance(email, str) and email else None,
            email_verified=verified,
        )


def _jose_reason(exc: Exception) -> str:
    error = getattr(exc, "error", None) or type(exc).__name__
    description = getattr(exc, "description", None)
    return f"{error}: {description}" if description else str(error)


_clients: LRUCache[tuple[UUID, UUID, int, bool], ProviderClient] = LRUCache(maxsize=_CACHE_SIZE)
_clients_lock = threading.Lock()


def provider_client(
    project_id: UUID, provider: Provider, box: SecretBox, sealed: bytes, *, allow_private: bool
) -> ProviderClient:
    """The cached client of this provider version (built, and its secret opened, once)."""
    key = (project_id, provider.id, provider.version, allow_private)
    with _clients_lock:
        found = _clients.get(key)
    if found is None:
        found = ProviderClient(provider.definition, box.open(sealed), allow_private=allow_private)
        with _clients_lock:
            found = _clients.setdefault(key, found)
    return found


# -- the flow ---------------------------------------------------------------------------


def _state_hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


def _binding(browser: str) -> str:
    return hashlib.sha256(b"cairn:oauth-browser:" + browser.encode()).hexdigest()


def begin(
    conn: Connection,
    box: SecretBox,
    project: Project,
    provider_name: str,
    redirect_to: str | None,
    *,
    browser: str | None = None,
    allow_private: bool = False,
) -> Started:
    """Start a sign-in: store it and answer what the authorization URL needs (the URL itself
    may need the provider's discovery document: `Started.authorize_url`, outside the
    transaction). `browser`: a secret the browser will present again at the callback (None:
    no binding)."""
    allowed = users.auth_settings(project)
    if not redirect_to:
        raise Invalid(errors={"redirect_to": ["required: where to send the browser afterwards"]})
    if not allowed.redirect_allowed(redirect_to):
        hint = (
            "it matches no pattern of the project's auth.redirect_allow"
            if allowed.redirect_allow
            else "the project allows no redirect targets yet: add your app's URL to "
            "auth.redirect_allow"
        )
        raise Invalid("redirect_to is not allowed", errors={"redirect_to": [hint]})
    provider, sealed = find_provider(conn, project.id, provider_name)
    client = provider_client(project.id, provider, box, sealed, allow_private=allow_private)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, within PKCE's 43 to 128
    now = datetime.now(UTC)
    conn.execute(
        delete(oauth_states).where(
            oauth_states.c.project_id == project.id, oauth_states.c.expires_at < now
        )
    )
    pending = {
        "nonce": nonce,
        "verifier": verifier,
        "redirect_to": redirect_to,
        "browser": _binding(browser) if browser else None,
    }
    conn.execute(
        insert(oauth_states).values(
            project_id=project.id,
            state_hash=_state_hash(state),
            provider=provider.name,
            sealed=box.seal(json.dumps(pending)),
            created_at=now,
            expires_at=now + STATE_LIFETIME,
        )
    )
    return Started(client, state, nonce, verifier)


def _consume(
    conn: Connection,
    box: SecretBox,
    project_id: UUID,
    provider_name: str,
    state: str | None,
    browser: str | None,
) -> _Pending:
    """The pending sign-in `state` names, removed: a state works once, in the browser that
    started it."""
    if not state:
        raise BadRequest("the callback has no state; start the sign-in again",
                         reason="invalid_state")  # fmt: skip
    row = conn.execute(
        delete(oauth_states)
        .where(
            oauth_states.c.project_id == project_id, oauth_states.c.state_hash == _state_hash(state)
        )
        .returning(oauth_states.c.provider, oauth_states.c.sealed, oauth_states.c.expires_at)
    ).first()
    if row is None or row.provider != provider_name:
        raise BadRequest(
            "this sign-in is unknown or was already completed; start the sign-in again",
            reason="invalid_state",
        )
    if row.expires_at <= datetime.now(UTC):
        minutes = int(STATE_LIFETIME.total_seconds() // 60)
        raise BadRequest(
            f"the sign-in took longer than {minutes} minutes; start it again",
            reason="expired_state",
        )
    data = json.loads(box.open(row.sealed))
    pending = _Pending(data["nonce"], data["verifier"], data["redirect_to"], data.get("browser"))
    if pending.browser is not None and (
        browser is None or not secrets.compare_digest(_binding(browser), pending.browser)
    ):
        raise BadRequest(
            "this sign-in was started in another browser; start it again here",
            reason="browser_mismatch",
        )
    return pending


def error_code(error: str) -> str:
    """A provider's `error` parameter as Cairn passes it on: an OAuth error code, or
    `provider_error` for anything else."""
    return error if _ERROR_CODE.fullmatch(error) else "provider_error"


def abandon(
    conn: Connection,
    box: SecretBox,
    project: Project,
    provider_name: str,
    state: str | None,
    error: str,
    description: str | None = None,
    *,
    browser: str | None = None,
) -> str:
    """The provider sent the browser back with an error (the user denied access): the state
    is consumed, the failure audited; answers where to send the browser."""
    pending = _consume(conn, box, project.id, provider_name, state, browser)
    code = error_code(error)
    audit.record(conn, project.id, "anonymous", "user.login_failed", None,
                 {"method": f"oauth:{provider_name}", "reason": code,
                  "description": (description or "")[:200]})  # fmt: skip
    return pending.redirect_to


def receive(
    conn: Connection,
    box: SecretBox,
    project: Project,
    provider_name: str,
    state: str | None,
    code: str | None,
    *,
    browser: str | None = None,
    allow_private: bool = False,
) -> Received:
    """A callback's first step: consume the pending sign-in `state` names and find its
    provider. A missing, unknown, expired or reused state is a BadRequest (nothing changes);
    a failure after that is a CallbackFailed (see `_audited`). `browser`: the binding the
    browser presents (see `begin`)."""
    pending = _consume(conn, box, project.id, provider_name, state, browser)
    with _audited(conn, project, provider_name, pending):
        if not code:
            raise BadRequest("the callback has no code", reason="missing_code")
        provider, sealed = find_provider(conn, project.id, provider_name)
        client = provider_client(project.id, provider, box, sealed,
                                 allow_private=allow_private)  # fmt: skip
    return Received(provider.name, client, pending, code)


def finish(
    conn: Connection,
    kit: users.UserAuth,
    project: Project,
    received: Received,
    identity: Identity,
    ip: str | None,
    user_agent: str | None,
) -> Completed:
    """A callback's last step: the account `identity` signs in as (found, linked or made)
    and its new session. A failure is a CallbackFailed (see `_audited`)."""
    with _audited(conn, project, received.provider, received.pending):
        user, created, linked = _resolve(conn, kit, project, received.provider, identity)
        signed_in = users.start_session(
            conn, kit, project, user, method=f"oauth:{received.provider}", ip=ip,
            user_agent=user_agent,
        )  # fmt: skip
    return Completed(signed_in, received.pending.redirect_to, created, linked)


def fail(conn: Connection, project: Project, received: Received, exc: CairnError) -> CallbackFailed:
    """A callback that failed at the provider (`Received.identity`), audited: commit, then
    answer the CallbackFailed this returns."""
    _record_failure(conn, project, received.provider, exc)
    return CallbackFailed(exc, received.pending.redirect_to)


@contextmanager
def _audited(
    conn: Connection, project: Project, provider_name: str, pending: _Pending
) -> Iterator[None]:
    """Run a step of a callback whose state is consumed: on a CairnError its writes are
    undone and the failure audited, and it is raised again as a CallbackFailed: commit (the
    state stays consumed), then send the browser back with the error."""
    try:
        with conn.begin_nested():
            yield
    except CairnError as exc:
        _record_failure(conn, project, provider_name, exc)
        raise CallbackFailed(exc, pending.redirect_to) from exc


def _record_failure(
    conn: Connection, project: Project, provider_name: str, exc: CairnError
) -> None:
    audit.record(conn, project.id, "anonymous", "user.login_failed", None,
                 {"method": f"oauth:{provider_name}",
                  "reason": exc.extra.get("reason", exc.slug)})  # fmt: skip


def _resolve(
    conn: Connection, kit: users.UserAuth, project: Project, provider: str, identity: Identity
) -> tuple[users.User, bool, bool]:
    """The user `identity` signs in as: (user, created, linked now)."""
    linked_to = conn.execute(
        oauth_identities.select().where(
            oauth_identities.c.project_id == project.id,
            oauth_identities.c.provider == provider,
            oauth_identities.c.subject == identity.subject,
        )
    ).first()
    if linked_to is not None:
        user = users.get_user(conn, project.id, linked_to.user_id)
        _refuse_disabled(user)
        return user, False, False
    if identity.email is None:
        raise Forbidden(
            f"{provider} did not share an email address; allow access to it and try again",
            reason="no_email",
        )
    existing = users.find_user(conn, project.id, identity.email)
    created = False
    if existing is not None:
        if not identity.email_verified:
            raise Conflict(
                f"an account with {identity.email} already exists, and {provider} does not "
                "confirm that this address is yours; sign in with your password instead (or "
                "verify the address with the provider first)",
                reason="email_not_verified_by_provider",
            )
        _refuse_disabled(existing)
        user = existing
        if not existing.verified:
            user = _take_over(conn, project, existing, provider)
    else:
        if not users.auth_settings(project).signup:
            raise Forbidden(
                "signup is disabled for this project; ask its administrator",
                reason="signup_disabled",
            )
        user = users.create_user(
            conn, kit, project, email=identity.email, password=None, profile={},
            actor="anonymous", verified=identity.email_verified,
        )  # fmt: skip
        created = True
    try:
        with conn.begin_nested():
            conn.execute(
                insert(oauth_identities).values(
                    project_id=project.id,
                    provider=provider,
                    subject=identity.subject,
                    user_id=user.id,
                    email=identity.email,
                )
            )
    except IntegrityError:  # the same identity signing in twice at once
        raise Conflict("this sign-in is already being completed; try again",
                       reason="concurrent_link") from None  # fmt: skip
    audit.record(conn, project.id, f"user:{user.id}", "oauth_identity.linked", str(user.id),
                 {"provider": provider, "subject": identity.subject, "email": identity.email,
                  "created": created})  # fmt: skip
    return user, created, True


def _refuse_disabled(user: users.User) -> None:
    if user.disabled:
        raise Forbidden("the account is disabled", reason="disabled")


def _take_over(conn: Connection, project: Project, user: users.User, provider: str) -> users.User:
    """An unverified account whose address a provider has now proven: whoever set its
    password never proved the address (it may be someone squatting the email), so the
    password and the sessions go; the owner signs in through the provider, or resets."""
    verified = users.verify_without_password(conn, project.id, user.id)
    ended = sessions.revoke_all(conn, project.id, user.id)
    audit.record(conn, project.id, f"user:{user.id}", "user.verified", str(user.id),
                 {"via": f"oauth:{provider}", "password_removed": user.has_password,
                  "sessions_ended": ended})  # fmt: skip
    return verified


__all__ = [
    "CallbackFailed",
    "Completed",
    "Identity",
    "ProviderClient",
    "ProviderFailed",
    "Received",
    "Started",
    "abandon",
    "begin",
    "error_code",
    "fail",
    "finish",
    "provider_client",
    "receive",
]
