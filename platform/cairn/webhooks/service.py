"""Declaring webhooks: validation, the SSRF guard, encrypted signing secrets, CRUD.

A webhook URL must resolve to public addresses only (no loopback, private, link-local,
multicast or reserved ones) unless the operator allows private targets
(CAIRN_WEBHOOK_ALLOW_PRIVATE=1). The check runs when a webhook is declared and again before
every delivery, since DNS can change in between.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import socket
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from cryptography.fernet import Fernet
from sqlalchemy import Connection, func, select
from sqlalchemy.engine import RowMapping

from cairn.audit import service as audit
from cairn.crypto import derive_key
from cairn.db.named import NAME_RULE, NAMED, delete_named, get_named, save_named
from cairn.errors import Invalid
from cairn.schema.definitions import NAME
from cairn.webhooks.models import webhooks

EVENT_TYPES = ("record.created", "record.updated", "record.deleted")
SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret


class SecretBox:
    """Encrypts secrets at rest with a key derived from CAIRN_SECRET_KEY, one per purpose."""

    def __init__(self, secret_key: str, purpose: str = "webhook-secrets") -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, purpose)))

    def seal(self, secret: str) -> bytes:
        return self._fernet.encrypt(secret.encode())

    def open(self, sealed: bytes) -> str:
        return self._fernet.decrypt(bytes(sealed)).decode()


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class WebhookDef:
    name: str
    url: str
    events: tuple[str, ...]
    collections: tuple[str, ...] = ()
    enabled: bool = True
    secret: str | None = None  # None: keep the stored one (or generate on create)

    def to_dict(self) -> dict[str, Any]:
        """As the project file holds it: never the secret."""
        out: dict[str, Any] = {"name": self.name, "url": self.url, "events": list(self.events)}
        if self.collections:
            out["collections"] = list(self.collections)
        if not self.enabled:
            out["enabled"] = False
        return out


@dataclass(frozen=True)
class Webhook:
    id: UUID
    name: str
    url: str
    events: tuple[str, ...]
    collections: tuple[str, ...]
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Webhook:
        return cls(
            id=row["id"],
            name=row["name"],
            url=row["url"],
            events=tuple(row["events"]),
            collections=tuple(row["collections"]),
            enabled=row["enabled"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def definition(self) -> WebhookDef:
        return WebhookDef(self.name, self.url, self.events, self.collections, self.enabled)


_COLUMNS = [webhooks.c[n] for n in Webhook.__dataclass_fields__]


def load_webhook(data: Any, *, partial_of: WebhookDef | None = None) -> WebhookDef:
    """Validate a webhook object; with `partial_of`, missing keys keep that definition's."""
    if not isinstance(data, dict):
        raise Invalid("a webhook must be an object")
    errors: dict[str, list[str]] = {}
    for key in sorted(set(data) - {"name", "url", "events", "collections", "enabled", "secret"}):
        errors[key] = ["unknown field"]
    base = partial_of.__dict__ if partial_of else {}
    merged = {**base, **data}
    name, url = merged.get("name"), merged.get("url")
    events, collections = merged.get("events"), merged.get("collections", ())
    enabled, secret = merged.get("enabled", True), data.get("secret")
    if not isinstance(name, str) or not NAMED.fullmatch(name):
        errors["name"] = [NAME_RULE]
    if not is_http_url(url):
        errors["url"] = ["must be an http:// or https:// URL with a host (and a valid port)"]
    if (
        not isinstance(events, list | tuple)
        or not events
        or not all(isinstance(e, str) and e in EVENT_TYPES for e in events)
    ):
        errors["events"] = [f"a non-empty list of {', '.join(EVENT_TYPES)}"]
    if not isinstance(collections, list | tuple) or not all(
        isinstance(c, str) and NAME.fullmatch(c) for c in collections
    ):
        errors["collections"] = ["a list of collection names (empty: all)"]
    if not isinstance(enabled, bool):
        errors["enabled"] = ["must be true or false"]
    if secret is not None and (not isinstance(secret, str) or len(secret) < 24):
        errors["secret"] = ["at least 24 characters (whsec_… from Standard Webhooks, or any)"]
    if errors:
        raise Invalid("the webhook is not valid", errors=errors)
    return WebhookDef(
        name=str(name),
        url=str(url),
        events=tuple(dict.fromkeys(events or ())),
        collections=tuple(collections),
        enabled=bool(enabled),
        secret=secret,
    )


def is_http_url(url: Any) -> bool:
    """An http(s) URL with a host and, if any, a valid port (urlsplit raises on bad ones)."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def check_url(
    url: str,
    *,
    allow_private: bool,
    field: str = "url",
    setting: str = "CAIRN_WEBHOOK_ALLOW_PRIVATE",
) -> None:
    """Refuse URLs whose host resolves to a non-public address (SSRF); `field` names the
    URL in the error, `setting` what an operator sets to allow private targets."""
    if not is_http_url(url):
        raise Invalid(errors={field: ["must be an http:// or https:// URL with a host"]})
    host = urlsplit(url).hostname or ""
    port = urlsplit(url).port or (443 if url.lower().startswith("https") else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        raise Invalid(errors={field: [f"the host '{host}' does not resolve"]}) from None
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise Invalid(
                errors={
                    field: [
                        f"'{host}' resolves to a non-public address ({address}); set "
                        f"{setting}=1 to allow private targets"
                    ]
                }
            )


def list_webhooks(conn: Connection, project_id: UUID) -> list[Webhook]:
    rows = conn.execute(
        select(*_COLUMNS).where(webhooks.c.project_id == project_id).order_by(webhooks.c.name)
    ).mappings()
    return [Webhook.from_row(r) for r in rows]


def get_webhook(conn: Connection, project_id: UUID, webhook_id: UUID) -> Webhook:
    return Webhook.from_row(
        get_named(conn, webhooks, _COLUMNS, project_id, webhook_id, kind="webhook")
    )


def sealed_secrets(conn: Connection, project_id: UUID) -> dict[UUID, bytes]:
    """Every webhook's encrypted signing secret, by webhook id (one query)."""
    rows = conn.execute(
        select(webhooks.c.id, webhooks.c.secret_encrypted).where(
            webhooks.c.project_id == project_id
        )
    )
    return {row.id: bytes(row.secret_encrypted) for row in rows}


def save_webhook(
    conn: Connection,
    box: SecretBox,
    project_id: UUID,
    definition: WebhookDef,
    *,
    actor: str,
    allow_private: bool,
    webhook_id: UUID | None = None,
    stored_url: str | None = None,
    url_checked: bool = False,
) -> tuple[Webhook, str | None]:
    """Create (or, with `webhook_id`, replace) a webhook. Returns it and, when Cairn made the
    secret, that secret: the only time it is shown.

    A URL equal to `stored_url` (the one the webhook has now) is not resolved again, so a
    webhook whose host has gone can still be paused or renamed; delivery checks it anyway.
    `url_checked`: the caller has just checked it (`cairn apply`, while planning)."""
    if not url_checked and definition.url != stored_url:
        check_url(definition.url, allow_private=allow_private)
    generated = None
    values: dict[str, Any] = {
        "name": definition.name,
        "url": definition.url,
        "events": list(definition.events),
        "collections": list(definition.collections),
        "enabled": definition.enabled,
        "updated_at": func.now(),
    }
    if definition.secret is not None:
        values["secret_encrypted"] = box.seal(definition.secret)
    if webhook_id is None and definition.secret is None:
        generated = new_secret()
        values["secret_encrypted"] = box.seal(generated)
    row = save_named(
        conn, webhooks, _COLUMNS, project_id, values, item_id=webhook_id, kind="webhook"
    )
    webhook = Webhook.from_row(row)
    audit.record(conn, project_id, actor, "webhook.saved", str(webhook.id), definition.to_dict())
    return webhook, generated


def update_webhook(
    conn: Connection,
    box: SecretBox,
    project_id: UUID,
    webhook_id: UUID,
    changes: Any,
    *,
    actor: str,
    allow_private: bool,
) -> Webhook:
    """Change the keys `changes` names; the others, and the secret unless given, stay."""
    current = get_webhook(conn, project_id, webhook_id)
    webhook, _ = save_webhook(
        conn,
        box,
        project_id,
        load_webhook(changes, partial_of=current.definition()),
        actor=actor,
        allow_private=allow_private,
        webhook_id=webhook_id,
        stored_url=current.url,
    )
    return webhook


def delete_webhook(conn: Connection, project_id: UUID, webhook_id: UUID, *, actor: str) -> str:
    """Delete the webhook (its delivery log goes with it); answers its name."""
    name = delete_named(conn, webhooks, project_id, webhook_id, kind="webhook")
    audit.record(conn, project_id, actor, "webhook.deleted", str(webhook_id))
    return name


def differs(box: SecretBox, existing: Webhook, sealed: bytes, wanted: WebhookDef) -> bool:
    """Whether applying `wanted` would change `existing` (a secret left out keeps the stored
    one; a given secret is compared with the stored one, `sealed`, decrypted)."""
    same_secret = wanted.secret is None or wanted.secret == box.open(sealed)
    return existing.definition() != replace(wanted, secret=None) or not same_secret
