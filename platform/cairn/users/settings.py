"""A project's end-user settings, as its project file declares them.

`auth:` — signup on/off, whether a verified email is required to sign in, session lifetime
and idle timeout, where OAuth may redirect back to, and where mailed links point.
`users:` — the profile fields of the project's users, declared like a collection's fields
(the same types and validation). They are stored with the user (not in a table of their
own), so a profile field can be neither unique nor a relation.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from cachetools import LRUCache
from marshmallow import RAISE, Schema

from cairn.durations import parse_duration
from cairn.errors import Invalid
from cairn.schema.definitions import CollectionDef, FieldDef, json_ready, load_collection
from cairn.schema.values import marshmallow_field
from cairn.validation import load

T = TypeVar("T")

FLOWS = ("verify_email", "password_reset", "email_change")
DEFAULT_LIFETIME = timedelta(days=30)
DEFAULT_IDLE = timedelta(days=7)
_AUTH_KEYS = ("signup", "require_verified_email", "sessions", "redirect_allow", "links")
# The user's own columns: a profile field may not shadow them.
USER_COLUMNS = frozenset(
    {"id", "email", "password", "verified", "disabled", "created_at", "updated_at",
     "last_login_at", "profile"}
)  # fmt: skip


@dataclass(frozen=True)
class AuthSettings:
    signup: bool = True
    require_verified_email: bool = False
    lifetime: timedelta = DEFAULT_LIFETIME
    idle: timedelta = DEFAULT_IDLE
    redirect_allow: tuple[str, ...] = ()
    # flow → URL template with {token}: where a mailed link sends the user (the app's page).
    links: dict[str, str] = field(default_factory=dict, compare=True)

    def to_dict(self) -> dict[str, Any]:
        """As the project file holds it: defaults left out, so a round trip is a no-op."""
        out: dict[str, Any] = {}
        if not self.signup:
            out["signup"] = False
        if self.require_verified_email:
            out["require_verified_email"] = True
        sessions = {}
        if self.lifetime != DEFAULT_LIFETIME:
            sessions["lifetime"] = _duration_text(self.lifetime)
        if self.idle != DEFAULT_IDLE:
            sessions["idle"] = _duration_text(self.idle)
        if sessions:
            out["sessions"] = sessions
        if self.redirect_allow:
            out["redirect_allow"] = list(self.redirect_allow)
        if self.links:
            out["links"] = dict(sorted(self.links.items()))
        return out

    def redirect_allowed(self, url: str) -> bool:
        """Whether OAuth may send the browser back to `url`: it must match a pattern of the
        allow-list (`*` matches within the URL), be http(s), and hold no control character
        (a line break could not be sent back in the callback's Location header)."""
        if not url.startswith(("https://", "http://")):
            return False
        if any(c < " " or c == "\x7f" for c in url):
            return False
        return any(fnmatch.fnmatchcase(url, pattern) for pattern in self.redirect_allow)


def _duration_text(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def load_auth(raw: Any) -> AuthSettings:
    """The `auth:` section without `providers` (those are stored one by one)."""
    if raw is None:
        return AuthSettings()
    if not isinstance(raw, dict):
        raise Invalid(errors={"auth": ["must be an object"]})
    errors: dict[str, list[str]] = {}
    for key in sorted(set(raw) - set(_AUTH_KEYS) - {"providers"}):
        errors[f"auth.{key}"] = [f"unknown key; expected {', '.join(_AUTH_KEYS)} or providers"]
    for key in ("signup", "require_verified_email"):
        if key in raw and not isinstance(raw[key], bool):
            errors[f"auth.{key}"] = ["must be true or false"]
    durations = {"lifetime": DEFAULT_LIFETIME, "idle": DEFAULT_IDLE}
    sessions = raw.get("sessions", {})
    if not isinstance(sessions, dict):
        errors["auth.sessions"] = ["must be an object with lifetime and idle"]
        sessions = {}
    for key in sorted(set(sessions) - set(durations)):
        errors[f"auth.sessions.{key}"] = ["unknown key; expected lifetime or idle"]
    for key in durations:
        if key in sessions:
            try:
                durations[key] = parse_duration(str(sessions[key]))
            except ValueError as exc:
                errors[f"auth.sessions.{key}"] = [str(exc)]
    if durations["idle"] > durations["lifetime"]:
        errors["auth.sessions.idle"] = ["must not be longer than the lifetime"]
    allow = raw.get("redirect_allow", [])
    if not isinstance(allow, list) or not all(isinstance(p, str) for p in allow):
        errors["auth.redirect_allow"] = ["must be a list of URL patterns"]
        allow = []
    for pattern in allow:
        if not pattern.startswith(("https://", "http://")):
            errors["auth.redirect_allow"] = [f"{pattern!r} must start with https:// or http://"]
    links = raw.get("links", {})
    if not isinstance(links, dict):
        errors["auth.links"] = ["must map verify_email/password_reset/email_change to URLs"]
        links = {}
    for flow, template in links.items():
        if flow not in FLOWS:
            errors[f"auth.links.{flow}"] = [f"not a mail flow; use {', '.join(FLOWS)}"]
        elif not isinstance(template, str) or "{token}" not in template:
            errors[f"auth.links.{flow}"] = ["must be a URL containing {token}"]
        elif not template.startswith(("https://", "http://")):
            errors[f"auth.links.{flow}"] = ["must start with https:// or http://"]
    if errors:
        raise Invalid("the project file's auth settings are not valid", errors=errors)
    return AuthSettings(
        signup=raw.get("signup", True),
        require_verified_email=raw.get("require_verified_email", False),
        lifetime=durations["lifetime"],
        idle=durations["idle"],
        redirect_allow=tuple(allow),
        links={str(k): str(v) for k, v in links.items()},
    )


@dataclass(frozen=True)
class ProfileFields:
    """The `users:` section: the profile fields and the validators built from them."""

    definition: CollectionDef
    create_schema: Schema = field(compare=False)
    update_schema: Schema = field(compare=False)

    @property
    def fields(self) -> tuple[FieldDef, ...]:
        return self.definition.fields

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def to_dict(self) -> dict[str, Any]:
        return {"fields": {f.name: f.to_dict() for f in self.fields}} if self.fields else {}

    def validate(self, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        """JSON-ready profile values, or Invalid naming each bad field."""
        schema = self.update_schema if partial else self.create_schema
        loaded = load(schema, data, partial=partial)
        return {name: json_ready(value) for name, value in loaded.items()}


def _schema(definition: CollectionDef, partial: bool) -> Schema:
    declared = {}
    for f in definition.fields:
        spec = marshmallow_field(f)
        if f.required:
            spec.allow_none = False
            spec.required = not partial and f.default is None
        if not partial and f.default is not None:
            spec.load_default = f.default
        declared[f.name] = spec
    return Schema.from_dict(declared, name="user_profile")(unknown=RAISE)


def _profile(definition: CollectionDef) -> ProfileFields:
    return ProfileFields(definition, _schema(definition, False), _schema(definition, True))


_parsed: LRUCache[tuple[str, str], Any] = LRUCache(maxsize=2048)
_lock = threading.Lock()


def _stored(kind: str, raw: dict[str, Any], load: Callable[[Any], T]) -> T:
    """`load(raw)` for a section stored on the project row, parsed once per content: every
    session request reads both sections."""
    key = (kind, json.dumps(raw, sort_keys=True))
    with _lock:
        found: T | None = _parsed.get(key)
    if found is None:
        found = load(raw)
        with _lock:
            _parsed[key] = found
    return found


def profile_fields(raw: dict[str, Any]) -> ProfileFields:
    """The stored `users:` section."""
    return _stored("users", raw, load_user_fields)


def auth_of(raw: dict[str, Any]) -> AuthSettings:
    """The stored `auth:` section."""
    return _stored("auth", raw, load_auth)


def load_user_fields(raw: Any) -> ProfileFields:
    if raw is None or raw == {}:
        return _profile(CollectionDef(name="users", fields=()))
    if not isinstance(raw, dict) or set(raw) - {"fields"}:
        raise Invalid(errors={"users": ["must be an object with `fields:`"]})
    try:
        definition = load_collection({"fields": raw.get("fields", {})}, name="users")
    except Invalid as exc:
        raise Invalid(
            "the project file's user fields are not valid",
            errors={f"users.{path}": messages for path, messages in exc.errors.items()},
        ) from None
    errors: dict[str, list[str]] = {}
    for f in definition.fields:
        if f.name in USER_COLUMNS:
            errors[f"users.fields.{f.name}"] = ["is a field every user has; choose another name"]
        elif f.type == "relation":
            errors[f"users.fields.{f.name}"] = ["a profile field cannot be a relation"]
        elif f.unique:
            errors[f"users.fields.{f.name}"] = ["a profile field cannot be unique"]
    if errors:
        raise Invalid("the project file's user fields are not valid", errors=errors)
    return _profile(definition)
