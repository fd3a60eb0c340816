"""Collection definitions: load (from YAML/JSON objects), validate, dump canonically.

The canonical dump omits every default, so `export` → `apply` round-trips to a no-op plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects.postgresql.base import RESERVED_WORDS

from cairn.errors import Invalid

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SYSTEM_FIELDS = ("id", "created_at", "updated_at", "version", "owner")
# Names the API or the engine uses for itself.
RESERVED_NAMES = frozenset(SYSTEM_FIELDS) | {"expand", "project_id", "tableoid", "xmin", "ctid"}
FIELD_TYPES = (
    "text", "email", "url", "select", "integer", "number",
    "boolean", "date", "datetime", "json", "relation",
)  # fmt: skip
ON_DELETE = ("restrict", "set_null", "cascade")
RULE_ACTIONS = ("list", "view", "create", "update", "delete")

_COMMON = {"type", "required", "default", "unique", "renamed_from"}
_OPTIONS: dict[str, set[str]] = {
    "text": _COMMON | {"min_length", "max_length", "pattern"},
    "email": _COMMON | {"max_length"},
    "url": _COMMON | {"max_length"},
    "select": _COMMON | {"values", "multiple"},
    "integer": _COMMON | {"min", "max"},
    "number": _COMMON | {"min", "max"},
    "boolean": _COMMON - {"unique"},
    "date": _COMMON,
    "datetime": _COMMON,
    "json": _COMMON - {"unique"},
    "relation": _COMMON - {"default"} | {"collection", "multiple", "on_delete"},
}


def field_options(kind: str) -> frozenset[str]:
    """The keys a field of type `kind` may declare (`type` among them)."""
    return frozenset(_OPTIONS[kind])


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str
    required: bool = False
    default: Any = None
    unique: bool = False
    min: float | None = None
    max: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    values: tuple[str, ...] | None = None
    multiple: bool = False
    collection: str | None = None
    on_delete: str | None = None
    # A hint for the planner only; never stored.
    renamed_from: str | None = field(default=None, compare=False)

    @property
    def delete_action(self) -> str:
        return self.on_delete or "restrict"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for spec in fields(self):
            if spec.name in ("name", "type", "renamed_from"):
                continue
            value = getattr(self, spec.name)
            if value != spec.default:
                out[spec.name] = list(value) if isinstance(value, tuple) else json_ready(value)
        return out


@dataclass(frozen=True)
class IndexDef:
    fields: tuple[str, ...]
    unique: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fields": list(self.fields)}
        if self.unique:
            out["unique"] = True
        return out


@dataclass(frozen=True)
class Rules:
    list: str | None = None
    view: str | None = None
    create: str | None = None
    update: str | None = None
    delete: str | None = None

    def get(self, action: str) -> str | None:
        value: str | None = getattr(self, action)
        return value


@dataclass(frozen=True)
class CollectionDef:
    name: str
    fields: tuple[FieldDef, ...] = ()
    indexes: tuple[IndexDef, ...] = ()
    rules: Rules = Rules()

    def field(self, name: str) -> FieldDef | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def relations(self) -> tuple[FieldDef, ...]:
        return tuple(f for f in self.fields if f.type == "relation")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "fields": {f.name: f.to_dict() for f in self.fields},
        }
        if self.indexes:
            out["indexes"] = [i.to_dict() for i in self.indexes]
        rules = {a: self.rules.get(a) for a in RULE_ACTIONS if self.rules.get(a) is not None}
        if rules:
            out["rules"] = rules
        return out

    def without_hints(self) -> CollectionDef:
        return replace(self, fields=tuple(replace(f, renamed_from=None) for f in self.fields))


class _Errors:
    """Collects messages keyed by the path of the offending value (`fields.title.max_length`)."""

    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.messages.setdefault(path, []).append(message)

    def raise_if_any(self, detail: str) -> None:
        if self.messages:
            raise Invalid(detail, errors=self.messages)


def check_name(kind: str, name: Any) -> str | None:
    """Why `name` cannot name a collection or field, or None if it can."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        return (
            f"{kind} names start with a lower-case letter and use at most 63 lower-case "
            "letters, digits or underscores"
        )
    if name in RESERVED_NAMES:
        return f"'{name}' is reserved for the system"
    if name in RESERVED_WORDS:
        return f"'{name}' is an SQL keyword; choose another name"
    if name.startswith("pg_"):
        return "names starting with pg_ are reserved by Postgres"
    return None


def load_collection(data: Any, *, name: str | None = None) -> CollectionDef:
    """Validate one definition object; raise Invalid with every problem found at once."""
    errors = _Errors()
    if not isinstance(data, dict):
        raise Invalid("a collection definition must be an object")
    unknown = set(data) - {"name", "fields", "indexes", "rules"}
    for key in sorted(unknown):
        errors.add(key, "unknown key")
    coll_name = data.get("name", name)
    if name is not None and coll_name != name:
        errors.add("name", f"does not match the collection in the path ('{name}')")
    problem = check_name("collection", coll_name)
    if problem:
        errors.add("name", problem)
    raw_fields = data.get("fields", {})
    loaded: list[FieldDef] = []
    if not isinstance(raw_fields, dict):
        errors.add("fields", "must be an object of field name → field definition")
    else:
        for field_name, spec in raw_fields.items():
            loaded_field = _load_field(errors, str(field_name), spec)
            if loaded_field is not None:
                loaded.append(loaded_field)
    indexes = _load_indexes(errors, data.get("indexes", []), {f.name: f for f in loaded})
    rules = _load_rules(errors, data.get("rules", {}))
    errors.raise_if_any(f"the definition of collection '{coll_name}' is not valid")
    assert isinstance(coll_name, str)  # check_name refused anything else
    return CollectionDef(name=coll_name, fields=tuple(loaded), indexes=indexes, rules=rules)


def _load_field(errors: _Errors, name: str, spec: Any) -> FieldDef | None:
    path = f"fields.{name}"
    problem = check_name("field", name)
    if problem:
        errors.add(path, problem)
        return None
    if not isinstance(spec, dict):
        errors.add(path, "must be an object with at least a type")
        return None
    kind = spec.get("type")
    if kind not in FIELD_TYPES:
        errors.add(f"{path}.type", f"must be one of {', '.join(FIELD_TYPES)}")
        return None
    for key in sorted(set(spec) - _OPTIONS[kind]):
        errors.add(f"{path}.{key}", f"not an option of {kind} fields")
    before = len(errors.messages)
    values = _typed(errors, path, spec, "values", list)
    definition = FieldDef(
        name=name,
        type=kind,
        required=_typed(errors, path, spec, "required", bool) or False,
        unique=_typed(errors, path, spec, "unique", bool) or False,
        min=_number(errors, path, spec, "min"),
        max=_number(errors, path, spec, "max"),
        min_length=_count(errors, path, spec, "min_length"),
        max_length=_count(errors, path, spec, "max_length"),
        pattern=_typed(errors, path, spec, "pattern", str),
        values=tuple(values) if values is not None else None,
        multiple=_typed(errors, path, spec, "multiple", bool) or False,
        collection=_typed(errors, path, spec, "collection", str),
        on_delete=_typed(errors, path, spec, "on_delete", str),
        renamed_from=_typed(errors, path, spec, "renamed_from", str),
    )
    if len(errors.messages) > before:
        return None
    _check_field_semantics(errors, path, definition)
    if "default" in spec and spec["default"] is not None:
        definition = replace(definition, default=_check_default(errors, path, definition, spec))
    return definition


def _typed(errors: _Errors, path: str, spec: dict[str, Any], key: str, kind: type) -> Any:
    value = spec.get(key)
    if value is not None and (
        not isinstance(value, kind) or isinstance(value, bool) != (kind is bool)
    ):
        errors.add(f"{path}.{key}", f"must be a {kind.__name__.replace('str', 'string')}")
        return None
    return value


def _number(errors: _Errors, path: str, spec: dict[str, Any], key: str) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.add(f"{path}.{key}", "must be a number")
        return None
    return value


def _count(errors: _Errors, path: str, spec: dict[str, Any], key: str) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.add(f"{path}.{key}", "must be a whole number ≥ 0")
        return None
    return value


def _check_field_semantics(errors: _Errors, path: str, f: FieldDef) -> None:
    if f.min is not None and f.max is not None and f.min > f.max:
        errors.add(f"{path}.min", "must not be greater than max")
    if f.min_length is not None and f.max_length is not None and f.min_length > f.max_length:
        errors.add(f"{path}.min_length", "must not be greater than max_length")
    if f.pattern is not None:
        try:
            re.compile(f.pattern)
        except re.error as exc:
            errors.add(f"{path}.pattern", f"is not a valid regular expression: {exc}")
    if f.type == "select":
        if not f.values or not all(isinstance(v, str) and v for v in f.values):
            errors.add(f"{path}.values", "select fields need a list of non-empty strings")
        elif len(set(f.values)) != len(f.values):
            errors.add(f"{path}.values", "must not repeat a value")
    if f.type == "relation":
        if not f.collection:
            errors.add(f"{path}.collection", "relation fields name the related collection")
        if f.on_delete is not None and f.on_delete not in ON_DELETE:
            errors.add(f"{path}.on_delete", f"must be one of {', '.join(ON_DELETE)}")
        if f.on_delete == "set_null" and f.required:
            errors.add(f"{path}.on_delete", "set_null cannot apply to a required relation")
    if f.multiple and f.unique:
        errors.add(f"{path}.unique", "multiple fields cannot be unique")


def _check_default(errors: _Errors, path: str, f: FieldDef, spec: dict[str, Any]) -> Any:
    from cairn.schema.values import coerce_value

    try:
        return coerce_value(f, spec["default"])
    except ValueError as exc:
        errors.add(f"{path}.default", str(exc))
        return None


def _load_indexes(errors: _Errors, raw: Any, declared: dict[str, FieldDef]) -> tuple[IndexDef, ...]:
    if not isinstance(raw, list):
        errors.add("indexes", "must be a list of {fields: [...], unique: bool}")
        return ()
    loaded: list[IndexDef] = []
    indexable = set(declared) | set(SYSTEM_FIELDS)
    for position, spec in enumerate(raw):
        path = f"indexes.{position}"
        if not isinstance(spec, dict) or set(spec) - {"fields", "unique"}:
            errors.add(path, "must be an object with fields (and optionally unique)")
            continue
        names = spec.get("fields")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            errors.add(f"{path}.fields", "must be a non-empty list of field names")
            continue
        for unknown in [n for n in names if n not in indexable]:
            errors.add(f"{path}.fields", f"unknown field '{unknown}'")
        if len(set(names)) != len(names):
            errors.add(f"{path}.fields", "must not repeat a field")
        if any(declared[n].type == "json" for n in names if n in declared):
            errors.add(f"{path}.fields", "json fields cannot be indexed")
        unique = spec.get("unique", False)
        if not isinstance(unique, bool):
            errors.add(f"{path}.unique", "must be a boolean")
            continue
        loaded.append(IndexDef(fields=tuple(names), unique=unique))
    if len(set(loaded)) != len(loaded):
        errors.add("indexes", "the same index is declared twice")
    return tuple(loaded)


def _load_rules(errors: _Errors, raw: Any) -> Rules:
    if not isinstance(raw, dict):
        errors.add("rules", "must be an object of action → rule")
        return Rules()
    for key in sorted(set(raw) - set(RULE_ACTIONS)):
        errors.add(f"rules.{key}", f"not an action; use {', '.join(RULE_ACTIONS)}")
    for action in RULE_ACTIONS:
        value = raw.get(action)
        if value is not None and not isinstance(value, str):
            errors.add(f"rules.{action}", 'must be a filter expression, "" (anyone) or null')
    return Rules(**{a: raw.get(a) for a in RULE_ACTIONS if isinstance(raw.get(a), str)})


def load_project_collections(data: Any) -> list[CollectionDef]:
    """The `collections:` list of a project file, each validated, names unique."""
    if not isinstance(data, list):
        raise Invalid(
            "collections must be a list of definitions", errors={"collections": ["must be a list"]}
        )
    errors = _Errors()
    loaded: list[CollectionDef] = []
    for position, item in enumerate(data):
        try:
            loaded.append(load_collection(item))
        except Invalid as exc:
            label = item.get("name", position) if isinstance(item, dict) else position
            for path, messages in exc.errors.items():
                for message in messages:
                    errors.add(f"collections.{label}.{path}", message)
    names = [c.name for c in loaded]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        errors.add(f"collections.{duplicate}", "declared more than once")
    errors.raise_if_any("the project file's collections are not valid")
    return loaded


def json_ready(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [json_ready(v) for v in value]
    return value
