"""A project's OAuth 2.0 / OpenID Connect providers: declared through the API, the CLI or the
project file (`auth.providers`), one named row each.

A provider is either a generic OpenID Connect provider found through its discovery URL, or a
preset: `google` (OpenID Connect) or `github` (plain OAuth 2.0 and GitHub's user API). The
client secret is sealed with a key derived from CAIRN_SECRET_KEY and never leaves the
server; every change (the secret included) bumps the row's `version`, which keys the cached
OAuth client, so a rotated secret takes effect on every process at once.

Linked identities name their provider; renaming a provider carries them along, deleting
one removes them (a new provider under the old name may be another identity provider, whose
subjects must not sign in to the old accounts).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.engine import RowMapping

from cairn.audit import service as audit
from cairn.db.named import NAME_RULE, NAMED, delete_named, get_named, save_named
from cairn.errors import Invalid, NotFound
from cairn.users.models import auth_providers, oauth_identities
from cairn.webhooks.service import SecretBox, is_http_url

MAX_CLIENT_ID = 255
MAX_SECRET = 1024
_KEYS = ("name", "preset", "discovery_url", "client_id", "client_secret", "scopes")
OIDC_SCOPES = ("openid", "email", "profile")


@dataclass(frozen=True)
class Preset:
    """What Cairn knows about a well-known provider. `kind` "oidc" reads `discovery_url`;
    "github" talks plain OAuth 2.0 and reads the user from GitHub's API."""

    kind: Literal["oidc", "github"]
    scopes: tuple[str, ...]
    discovery_url: str | None = None
    authorize_url: str | None = None
    token_url: str | None = None
    user_url: str | None = None
    emails_url: str | None = None


PRESETS: dict[str, Preset] = {
    "google": Preset(
        kind="oidc",
        scopes=OIDC_SCOPES,
        discovery_url="https://accounts.google.com/.well-known/openid-configuration",
    ),
    "github": Preset(
        kind="github",
        scopes=("read:user", "user:email"),
        authorize_url="https://github.com/login/oauth/authorize",
        token_url="https://github.com/login/oauth/access_token",  # noqa: S106 - a URL
        user_url="https://api.github.com/user",
        emails_url="https://api.github.com/user/emails",
    ),
}
_GENERIC = Preset(kind="oidc", scopes=OIDC_SCOPES)


@dataclass(frozen=True, kw_only=True)
class ProviderDef:
    """A provider as declared. `client_secret` None: keep the stored one."""

    name: str
    preset: str | None = None
    discovery_url: str | None = None
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    scopes: tuple[str, ...] = ()  # empty: the preset's (or OpenID Connect's) defaults

    @property
    def kind(self) -> Literal["oidc", "github"]:
        return self.spec.kind

    @property
    def spec(self) -> Preset:
        return PRESETS[self.preset] if self.preset else _GENERIC

    @property
    def effective_scopes(self) -> tuple[str, ...]:
        return self.scopes or self.spec.scopes

    @property
    def metadata_url(self) -> str | None:
        """Where an OpenID Connect provider's metadata is (None for GitHub)."""
        return self.discovery_url or self.spec.discovery_url

    def to_dict(self) -> dict[str, Any]:
        """As the project file holds it: never the secret, defaults left out."""
        out: dict[str, Any] = {"name": self.name}
        if self.preset is not None:
            out["preset"] = self.preset
        if self.discovery_url is not None:
            out["discovery_url"] = self.discovery_url
        out["client_id"] = self.client_id
        if self.scopes:
            out["scopes"] = list(self.scopes)
        return out


@dataclass(frozen=True)
class Provider:
    id: UUID
    name: str
    definition: ProviderDef  # without the secret
    version: int
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.definition.to_dict(),
            "scopes": list(self.definition.effective_scopes),
            "version": self.version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_row(cls, row: RowMapping) -> Provider:
        stored = row["definition"]
        return cls(
            id=row["id"],
            name=row["name"],
            definition=ProviderDef(
                name=row["name"],
                preset=stored.get("preset"),
                discovery_url=stored.get("discovery_url"),
                client_id=stored["client_id"],
                scopes=tuple(stored.get("scopes", ())),
            ),
            version=row["version"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


_COLUMNS = [auth_providers.c[n] for n in ("id", "name", "definition", "version",
                                           "created_at", "updated_at")]  # fmt: skip


def load_provider(raw: Any) -> ProviderDef:
    """Validate a provider object (API body or project file entry)."""
    if not isinstance(raw, dict):
        raise Invalid("an OAuth provider must be an object", errors={"provider": ["not an object"]})
    errors: dict[str, list[str]] = {}
    for key in sorted(set(raw) - set(_KEYS), key=str):
        errors[str(key)] = [f"unknown field; expected {', '.join(_KEYS)}"]
    name, preset, discovery_url = raw.get("name"), raw.get("preset"), raw.get("discovery_url")
    client_id, secret, scopes = raw.get("client_id"), raw.get("client_secret"), raw.get("scopes")
    if not isinstance(name, str) or not NAMED.fullmatch(name):
        errors["name"] = [NAME_RULE]
    if preset is not None and (not isinstance(preset, str) or preset not in PRESETS):
        errors["preset"] = [f"one of {', '.join(PRESETS)}"]
    if preset is not None and discovery_url is not None:
        errors["discovery_url"] = ["give either preset or discovery_url, not both"]
    elif preset is None and discovery_url is None:
        errors["discovery_url"] = [
            f"required: the OpenID Connect discovery URL (or give a preset: {', '.join(PRESETS)})"
        ]
    elif discovery_url is not None and not is_http_url(discovery_url):
        errors["discovery_url"] = ["must be an https:// (or http://) URL with a host"]
    if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > MAX_CLIENT_ID:
        errors["client_id"] = [
            f"required: the client id the provider issued (at most {MAX_CLIENT_ID})"
        ]
    if secret is not None and (
        not isinstance(secret, str) or not secret.strip() or len(secret) > MAX_SECRET
    ):
        errors["client_secret"] = [f"a non-empty string of at most {MAX_SECRET} characters"]
    if scopes is not None:
        if not isinstance(scopes, list) or not all(
            isinstance(s, str) and s and not any(c.isspace() for c in s) for s in scopes
        ):
            errors["scopes"] = ["a list of scope names, such as [openid, email, profile]"]
        elif "openid" not in scopes and PRESETS.get(str(preset), _GENERIC).kind == "oidc":
            errors["scopes"] = ["an OpenID Connect provider needs the openid scope"]
    if errors:
        raise Invalid("the OAuth provider is not valid", errors=errors)
    return ProviderDef(
        name=str(name),
        preset=preset,
        discovery_url=discovery_url,
        client_id=str(client_id).strip(),
        client_secret=secret,
        scopes=tuple(dict.fromkeys(scopes or ())),
    )


def list_providers(conn: Connection, project_id: UUID) -> list[Provider]:
    rows = conn.execute(
        select(*_COLUMNS)
        .where(auth_providers.c.project_id == project_id)
        .order_by(auth_providers.c.name)
    ).mappings()
    return [Provider.from_row(r) for r in rows]


def page_providers(
    conn: Connection, project_id: UUID, *, limit: int, after: str | None = None
) -> tuple[list[Provider], bool]:
    """Providers by name, a page at a time (`after`: the last name of the previous page)."""
    query = select(*_COLUMNS).where(auth_providers.c.project_id == project_id)
    if after is not None:
        query = query.where(auth_providers.c.name > after)
    rows = conn.execute(query.order_by(auth_providers.c.name).limit(limit + 1)).mappings().all()
    found = [Provider.from_row(r) for r in rows]
    return found[:limit], len(found) > limit


def get_provider(conn: Connection, project_id: UUID, provider_id: UUID) -> Provider:
    return Provider.from_row(
        get_named(conn, auth_providers, _COLUMNS, project_id, provider_id, kind="OAuth provider")
    )


def find_provider(conn: Connection, project_id: UUID, name: str) -> tuple[Provider, bytes]:
    """The provider called `name` and its sealed client secret; NotFound otherwise."""
    if not NAMED.fullmatch(name):  # no provider has such a name (nor may a query hold it)
        raise NotFound(f"no OAuth provider named '{name}' in this project")
    row = (
        conn.execute(
            select(*_COLUMNS, auth_providers.c.client_secret).where(
                auth_providers.c.project_id == project_id, auth_providers.c.name == name
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no OAuth provider named '{name}' in this project")
    return Provider.from_row(row), bytes(row["client_secret"])


def sealed_secrets(conn: Connection, project_id: UUID) -> dict[UUID, bytes]:
    """Every provider's sealed client secret, by provider id (one query)."""
    rows = conn.execute(
        select(auth_providers.c.id, auth_providers.c.client_secret).where(
            auth_providers.c.project_id == project_id
        )
    )
    return {row.id: bytes(row.client_secret) for row in rows}


def differs(box: SecretBox, current: Provider, sealed: bytes, wanted: ProviderDef) -> bool:
    """Whether saving `wanted` over `current` would change it (a secret left out keeps the
    stored one; a given one is compared with `sealed`, opened)."""
    if current.definition != replace(wanted, client_secret=None):
        return True
    return wanted.client_secret is not None and wanted.client_secret != box.open(sealed)


def save_provider(
    conn: Connection,
    box: SecretBox,
    project_id: UUID,
    wanted: ProviderDef,
    *,
    actor: str,
    provider_id: UUID | None = None,
) -> Provider:
    """Create a provider (no `provider_id`; its secret is required) or replace the one with
    that id (a missing secret keeps the stored one). Saving what is already stored changes
    nothing, not even the version. (Where the discovery URL points is checked when it is
    fetched: see cairn.users.oauth.)"""
    values: dict[str, Any] = {"name": wanted.name, "definition": wanted.to_dict()}
    if wanted.client_secret is not None:
        values["client_secret"] = box.seal(wanted.client_secret)
    if provider_id is None:
        if wanted.client_secret is None:
            raise Invalid(
                "the OAuth provider is not valid",
                errors={"client_secret": ["required for a new provider"]},
            )
        row = save_named(
            conn, auth_providers, _COLUMNS, project_id, values, item_id=None,
            kind="OAuth provider",
        )  # fmt: skip
        provider = Provider.from_row(row)
        audit.record(conn, project_id, actor, "auth_provider.created", str(provider.id),
                     wanted.to_dict())  # fmt: skip
        return provider
    row = get_named(
        conn, auth_providers, [*_COLUMNS, auth_providers.c.client_secret], project_id,
        provider_id, kind="OAuth provider",
    )  # fmt: skip
    current, sealed = Provider.from_row(row), bytes(row["client_secret"])
    if not differs(box, current, sealed, wanted):
        return current
    values.update(version=auth_providers.c.version + 1, updated_at=func.now())
    row = save_named(
        conn, auth_providers, _COLUMNS, project_id, values, item_id=provider_id,
        kind="OAuth provider",
    )  # fmt: skip
    provider = Provider.from_row(row)
    if provider.name != current.name:  # the linked identities follow their provider
        conn.execute(
            update(oauth_identities)
            .where(
                oauth_identities.c.project_id == project_id,
                oauth_identities.c.provider == current.name,
            )
            .values(provider=provider.name)
        )
    changed = sorted(
        key
        for key in ("name", "preset", "discovery_url", "client_id", "scopes")
        if getattr(current.definition, key) != getattr(wanted, key)
    )
    if wanted.client_secret is not None and wanted.client_secret != box.open(sealed):
        changed.append("client_secret")
    detail = {"name": provider.name, "changed": changed, "version": provider.version}
    audit.record(conn, project_id, actor, "auth_provider.updated", str(provider.id), detail)
    return provider


def delete_provider(conn: Connection, project_id: UUID, provider_id: UUID, *, actor: str) -> str:
    """The provider goes, with the identities linked through it (their accounts stay);
    answers its name."""
    name = delete_named(conn, auth_providers, project_id, provider_id, kind="OAuth provider")
    unlinked = conn.execute(
        delete(oauth_identities).where(
            oauth_identities.c.project_id == project_id,
            oauth_identities.c.provider == name,
        )
    ).rowcount
    audit.record(conn, project_id, actor, "auth_provider.deleted", str(provider_id),
                 {"name": name, "identities_removed": unlinked})  # fmt: skip
    return name


__all__ = [
    "PRESETS",
    "Preset",
    "Provider",
    "ProviderDef",
    "delete_provider",
    "differs",
    "find_provider",
    "get_provider",
    "list_providers",
    "load_provider",
    "page_providers",
    "save_provider",
    "sealed_secrets",
]
