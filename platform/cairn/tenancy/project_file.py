"""The project file: everything declarative about a project in one YAML (or JSON) document.

Secrets never live in the file: `${VAR}` in any string is replaced from the environment, and
a missing variable is an error naming it. Sections that belong to later parts of Cairn are
refused by name rather than silently ignored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from cairn.errors import Invalid
from cairn.schedules.service import ScheduleDef, load_schedule
from cairn.schema.definitions import CollectionDef, load_project_collections
from cairn.tenancy.service import load_limits
from cairn.users.providers import ProviderDef, load_provider
from cairn.users.settings import AuthSettings, ProfileFields, load_auth, load_user_fields
from cairn.webhooks.service import WebhookDef, load_webhook

SUPPORTED_SECTIONS = ("collections", "users", "auth", "webhooks", "schedules", "limits")


@dataclass(frozen=True)
class ProjectFile:
    """What a file declares. A section it leaves out (None) is left as it is."""

    collections: list[CollectionDef] | None = None
    webhooks: list[WebhookDef] | None = None
    schedules: list[ScheduleDef] | None = None
    limits: dict[str, str] | None = None
    users: ProfileFields | None = None
    auth: AuthSettings | None = None
    # `auth.providers`; None when the file does not list them (they are left as they are).
    providers: list[ProviderDef] | None = None


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def parse(text: str, environ: Mapping[str, str] | None = None) -> ProjectFile:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed"
        raise Invalid(f"the project file is not valid YAML{where}: {problem}") from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise Invalid("the project file must be a mapping with a `collections:` list")
    errors: dict[str, list[str]] = {}
    for key in document:
        if key not in SUPPORTED_SECTIONS:
            errors[str(key)] = [f"unknown section; expected {', '.join(SUPPORTED_SECTIONS)}"]
    if errors:
        raise Invalid("the project file has sections this version cannot apply", errors=errors)
    resolved = _substitute(document, os.environ if environ is None else environ, errors, "")
    if errors:
        raise Invalid("the project file names variables that are not set", errors=errors)
    return load_document(resolved)


def load_document(resolved: dict[str, Any]) -> ProjectFile:
    """A parsed document whose variables are already resolved (or that never had any: a
    project archive's definitions are taken literally)."""
    collections = resolved.get("collections")
    return ProjectFile(
        collections=load_project_collections(collections) if collections is not None else None,
        webhooks=_load_webhooks(resolved["webhooks"]) if "webhooks" in resolved else None,
        schedules=_load_named(resolved["schedules"], "schedules", load_schedule)
        if "schedules" in resolved
        else None,
        limits=load_limits(resolved["limits"]) if "limits" in resolved else None,
        users=load_user_fields(resolved["users"]) if "users" in resolved else None,
        auth=load_auth(resolved["auth"]) if "auth" in resolved else None,
        providers=_load_named(resolved["auth"]["providers"], "auth.providers", load_provider)
        if isinstance(resolved.get("auth"), dict) and "providers" in resolved["auth"]
        else None,
    )


def _load_webhooks(raw: Any) -> list[WebhookDef]:
    return _load_named(raw, "webhooks", load_webhook)


def _load_named(raw: Any, section: str, load: Callable[[Any], Any]) -> list[Any]:
    """A list section of named objects, each validated, names unique."""
    if not isinstance(raw, list):
        raise Invalid(errors={section: [f"must be a list of {section}"]})
    loaded: list[Any] = []
    errors: dict[str, list[str]] = {}
    for position, item in enumerate(raw):
        try:
            loaded.append(load(item))
        except Invalid as exc:
            label = item.get("name", position) if isinstance(item, dict) else position
            for path, messages in exc.errors.items():
                errors[f"{section}.{label}.{path}"] = messages
    names = [item.name for item in loaded]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        errors[f"{section}.{duplicate}"] = ["declared more than once"]
    if errors:
        raise Invalid(f"the project file's {section} are not valid", errors=errors)
    return loaded


def _substitute(
    value: Any, environ: Mapping[str, str], errors: dict[str, list[str]], path: str
) -> Any:
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                errors.setdefault(path or "(root)", []).append(f"${{{name}}} is not set")
                return ""
            return environ[name]

        return _VARIABLE.sub(replace, value)
    if isinstance(value, dict):
        return {k: _substitute(v, environ, errors, f"{path}.{k}" if path else str(k))
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [_substitute(v, environ, errors, f"{path}.{i}") for i, v in enumerate(value)]
    return value


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
