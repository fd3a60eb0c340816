"""The project file: everything declarative about a project in one YAML (or JSON) document.

Secrets never live in the file: `${VAR}` in any string is replaced from the environment, and
a missing variable is an error naming it. Sections that belong to later parts of Cairn are
refused by name rather than silently ignored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import yaml

from cairn.errors import Invalid
from cairn.schema.definitions import CollectionDef, load_project_collections

SUPPORTED_SECTIONS = ("collections",)
LATER_SECTIONS = ("users", "auth", "webhooks", "schedules", "limits")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def parse(text: str, environ: Mapping[str, str] | None = None) -> list[CollectionDef]:
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
        if key in LATER_SECTIONS:
            errors[str(key)] = ["this section is not supported by this version of Cairn yet"]
        elif key not in SUPPORTED_SECTIONS:
            errors[str(key)] = [f"unknown section; expected {', '.join(SUPPORTED_SECTIONS)}"]
    if errors:
        raise Invalid("the project file has sections this version cannot apply", errors=errors)
    resolved = _substitute(document, os.environ if environ is None else environ, errors, "")
    if errors:
        raise Invalid("the project file names variables that are not set", errors=errors)
    return load_project_collections(resolved.get("collections", []))


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


def dump(collections: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"collections": collections}, sort_keys=False, allow_unicode=True)
