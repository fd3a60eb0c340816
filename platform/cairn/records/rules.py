"""Collection access rules, applied through the same compiled filter language.

null → only service/admin keys; "" → anyone; an expression → must hold for the record
(list/view/update/delete) or for the record about to be created. `read` and `write` keys act
as an anonymous caller (`@request.auth.id` is ""); `service` and `admin` keys bypass rules.
End-user sessions join later through the same macros.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.schema import MetaData

from cairn.auth.principal import Principal
from cairn.errors import Forbidden
from cairn.records.collection import field_refs
from cairn.records.fields import FieldRef
from cairn.records.filter import FilterError, compile_expression, validate_expression
from cairn.schema.definitions import RULE_ACTIONS, CollectionDef
from cairn.schema.tables import build_table

AUTH_MACROS = ("id", "email", "verified")
_VERBS = {
    "list": "list",
    "view": "view",
    "create": "create",
    "update": "update",
    "delete": "delete",
}


def macro_names(definition: CollectionDef) -> set[str]:
    return {
        "@now",
        *(f"@request.auth.{name}" for name in AUTH_MACROS),
        *(f"@request.body.{f.name}" for f in definition.fields),
    }


def macros(principal: Principal, body: dict[str, Any] | None = None) -> dict[str, object]:
    values: dict[str, object] = {
        "@now": datetime.now(UTC),
        "@request.auth.id": str(principal.user_id) if principal.user_id else "",
        "@request.auth.email": "",
        "@request.auth.verified": False,
    }
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
    if rule is None:
        raise Forbidden(
            f"only service and admin keys may {_VERBS[action]} records of '{definition.name}'"
        )
    return rule or None


def rule_clause(
    definition: CollectionDef,
    fields: dict[str, FieldRef],
    principal: Principal,
    action: str,
    body: dict[str, Any] | None = None,
) -> ColumnElement[bool] | None:
    """`rule_for` compiled against `fields` (usually the collection's columns)."""
    rule = rule_for(definition, principal, action)
    return None if rule is None else compile_expression(rule, fields, macros(principal, body))


def rule_errors(definition: CollectionDef) -> dict[str, list[str]]:
    """Rules that do not parse or do not fit the collection, keyed `rules.<action>`."""
    refs = field_refs(definition, build_table(definition, "rules_check", MetaData()))
    errors: dict[str, list[str]] = {}
    names = macro_names(definition)
    for action in RULE_ACTIONS:
        rule = definition.rules.get(action)
        if rule:
            try:
                validate_expression(rule, refs, names)
            except FilterError as exc:
                errors[f"{definition.name}.rules.{action}"] = [exc.detail]
    return errors
