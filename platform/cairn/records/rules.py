"""Collection access rules, applied through the same compiled filter language.

null → only service/admin keys; "" → anyone; an expression → must hold for the record
(list/view/update/delete) or for the record about to be created. `read` and `write` keys act
as an anonymous caller (`@request.auth.id` is ""); `service` and `admin` keys bypass rules.
An end user's session brings `@request.auth.id/email/verified/<profile field>`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.schema import MetaData

from cairn.auth.principal import Principal
from cairn.errors import Forbidden, Unauthorized
from cairn.records.collection import Collection, field_refs
from cairn.records.filter import FilterError, compile_expression, validate_expression
from cairn.schema.definitions import RULE_ACTIONS, CollectionDef
from cairn.schema.tables import build_table
from cairn.users.settings import profile_fields

AUTH_MACROS = ("id", "email", "verified")
_VERBS = {
    "list": "list",
    "view": "view",
    "create": "create",
    "update": "update",
    "delete": "delete",
}


def macro_names(definition: CollectionDef, profile_fields: Iterable[str] = ()) -> set[str]:
    return {
        "@now",
        *(f"@request.auth.{name}" for name in (*AUTH_MACROS, *profile_fields)),
        *(f"@request.body.{f.name}" for f in definition.fields),
    }


def macros(
    principal: Principal, body: dict[str, Any] | None = None, profile_names: Iterable[str] = ()
) -> dict[str, object]:
    """The request's macro values. An anonymous caller or a key is nobody: id and email are
    "", verified is false and every profile field is null."""
    values: dict[str, object] = {f"@request.auth.{name}": None for name in profile_names}
    values |= {
        "@now": datetime.now(UTC),
        "@request.auth.id": str(principal.user_id) if principal.user_id else "",
        "@request.auth.email": principal.email,
        "@request.auth.verified": principal.verified,
    }
    for name, value in principal.profile.items():
        values[f"@request.auth.{name}"] = value
    for name, value in (body or {}).items():
        values[f"@request.body.{name}"] = value
    return values


def bypasses_rules(principal: Principal) -> bool:
    return principal.scope in ("service", "admin")


def rule_for(definition: CollectionDef, principal: Principal, action: str) -> str | None:
    """The expression this principal's action must satisfy; None: no condition.
    Raises Forbidden when the rule is null and the principal does not bypass rules."""
    if bypasses_rules(principal):
        return None
    rule = definition.rules.get(action)
    if rule is None and principal.kind == "anonymous":
        raise Unauthorized(
            f"only service and admin keys may {_VERBS[action]} records of '{definition.name}'; "
            "send a credential"
        )
    if rule is None:
        raise Forbidden(
            f"only service and admin keys may {_VERBS[action]} records of '{definition.name}'"
        )
    return rule or None


def request_macros(
    collection: Collection, principal: Principal, body: dict[str, Any] | None = None
) -> dict[str, object]:
    """`macros` knowing the project's profile fields (null for a caller who has none)."""
    return macros(principal, body, profile_fields(collection.project.user_fields).names)


def rule_clause(
    collection: Collection,
    principal: Principal,
    action: str,
    body: dict[str, Any] | None = None,
) -> ColumnElement[bool] | None:
    """`rule_for` compiled against the collection's columns."""
    rule = rule_for(collection.definition, principal, action)
    if rule is None:
        return None
    return compile_expression(rule, collection.fields, request_macros(collection, principal, body))


def rule_errors(
    definition: CollectionDef, profile_fields: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Rules that do not parse or do not fit the collection, keyed `rules.<action>`.
    `profile_fields`: the project's user profile fields, usable as `@request.auth.<name>`."""
    refs = field_refs(definition, build_table(definition, "rules_check", MetaData()))
    errors: dict[str, list[str]] = {}
    names = macro_names(definition, profile_fields)
    for action in RULE_ACTIONS:
        rule = definition.rules.get(action)
        if rule:
            try:
                validate_expression(rule, refs, names)
            except FilterError as exc:
                errors[f"{definition.name}.rules.{action}"] = [exc.detail]
    return errors
