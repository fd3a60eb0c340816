"""Read a project's OpenAPI document into what the generator renders: collections, their
fields (with the declared type recovered from the JSON Schema), relations and names.

Only the document is read, never the server's definitions, so a document fetched from a
remote server gives the same model as one built locally. Per collection `c` (PascalCase
`P`), the document holds `PRecord` (the record as returned: every system field, then the
declared fields in their declared order), `PCreate` / `PUpdate` (request bodies: which
fields are required, defaults and limits) and, for collections with relations, `PExpand`
(each relation's target record). `info.x-cairn-collections` names the collections.

How a declared type shows in the record schema (see cairn.openapi.document):

    text / email / url   string / format email / format uri
    select               string with enum (array of those with multiple: true)
    integer / number     integer / number
    boolean              boolean
    date / datetime      string, format date / date-time
    json                 no type, or every JSON type but null
    relation             string, format uuid (array of those with multiple: true); the
                         target is the `$ref` under PExpand (or named in the description)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cairn.errors import Invalid
from cairn.openapi.document import pascal
from cairn.sdkgen import naming

SYSTEM_FIELDS = ("id", "created_at", "updated_at", "version", "owner")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,99}$")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
_COLLECTION = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_TARGET_IN_DESCRIPTION = re.compile(r"records in '([a-z][a-z0-9_]{0,62})'")
_REF = re.compile(r"^#/components/schemas/([A-Za-z0-9_]+)$")


class DocumentError(Invalid):
    """The document is not a Cairn project's OpenAPI document the generator can read."""


_NO_DEFAULT = object()


@dataclass(frozen=True)
class FieldModel:
    name: str  # the API's (JSON) name
    attr: str  # the Python attribute
    kind: str  # a declared type, or "id" for id/owner
    nullable: bool  # records may hold null
    required: bool  # creating needs it
    writable: bool  # in the create/update bodies
    multiple: bool = False
    values: tuple[str, ...] = ()  # select
    target: str | None = None  # relation: the related collection (if in the document)
    target_record: str | None = None  # its record class
    description: str | None = None
    default: Any = _NO_DEFAULT
    limits: tuple[str, ...] = ()  # what writes enforce, in words
    system: bool = False
    alias: str | None = None  # select: the Literal alias of its values
    input_nullable: bool = False  # writes may set null

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT

    @property
    def sortable(self) -> bool:
        return self.kind != "json" and not self.multiple

    @property
    def relation(self) -> bool:
        return self.kind == "relation"


@dataclass(frozen=True)
class CollectionModel:
    name: str
    attr: str  # client.<attr>
    record: str  # record dataclass (and filter class)
    create: str
    update: str
    expand: str | None  # TypedDict of related records; None without relations
    sort_key: str
    expand_key: str | None
    resource: str
    async_resource: str
    fields: tuple[FieldModel, ...]  # system fields first

    @property
    def declared(self) -> tuple[FieldModel, ...]:
        return tuple(f for f in self.fields if not f.system)

    @property
    def relations(self) -> tuple[FieldModel, ...]:
        return tuple(f for f in self.fields if f.relation)


@dataclass(frozen=True)
class SdkModel:
    project: str
    package: str
    version: str  # the document's info.version
    collections: tuple[CollectionModel, ...]


def _types(schema: dict[str, Any]) -> tuple[set[str], bool]:
    """The JSON types a property schema allows (without null), and whether null is one."""
    raw = schema.get("type")
    types = {raw} if isinstance(raw, str) else set(raw) if isinstance(raw, list) else set()
    nullable = "null" in types or None in schema.get("enum", ())
    if not types and "type" not in schema:
        nullable = True  # {}: any JSON value, null included
    types.discard("null")
    return types, nullable


def _kind(name: str, schema: dict[str, Any]) -> tuple[str, bool, tuple[str, ...]]:
    """(type, multiple, select values) of a record property."""
    types, _ = _types(schema)
    if types == {"array"}:
        items = schema.get("items") or {}
        if isinstance(items, dict) and items.get("enum"):
            return "select", True, tuple(str(v) for v in items["enum"] if v is not None)
        if isinstance(items, dict) and items.get("format") == "uuid":
            return "relation", True, ()
        return "json", False, ()
    if len(types) != 1:
        return "json", False, ()
    (kind,) = types
    if kind == "string":
        if schema.get("enum"):
            return "select", False, tuple(str(v) for v in schema["enum"] if v is not None)
        fmt = schema.get("format")
        if name in ("id", "owner"):
            return "id", False, ()
        return (
            {
                "uuid": "relation",
                "date-time": "datetime",
                "date": "date",
                "email": "email",
                "uri": "url",
            }.get(str(fmt), "text"),
            False,
            (),
        )
    if kind in ("integer", "number", "boolean"):
        return kind, False, ()
    return "json", False, ()


def _limits(schema: dict[str, Any]) -> tuple[str, ...]:
    out: list[str] = []
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        out.append(f"from {_num(low)} to {_num(high)}")
    elif low is not None:
        out.append(f"at least {_num(low)}")
    elif high is not None:
        out.append(f"at most {_num(high)}")
    shortest, longest = schema.get("minLength"), schema.get("maxLength")
    if shortest is not None and longest is not None:
        out.append(f"{shortest} to {longest} characters")
    elif shortest is not None:
        out.append(f"at least {shortest} characters")
    elif longest is not None:
        out.append(f"at most {longest} characters")
    if "pattern" in schema:
        out.append(f"matching `{schema['pattern']}`")
    return tuple(out)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _ref_name(schema: Any) -> str | None:
    """The component a property refers to (directly, in anyOf, or as array items)."""
    if not isinstance(schema, dict):
        return None
    if isinstance(schema.get("$ref"), str):
        match = _REF.match(schema["$ref"])
        return match.group(1) if match else None
    for option in schema.get("anyOf", ()):
        found = _ref_name(option)
        if found:
            return found
    if "items" in schema:
        return _ref_name(schema["items"])
    return None


def _object(schemas: dict[str, Any], name: str) -> dict[str, Any] | None:
    schema = schemas.get(name)
    if schema is None:
        return None
    if not isinstance(schema, dict) or not isinstance(schema.get("properties", {}), dict):
        raise DocumentError(f"the document's schema '{name}' is not an object schema")
    return schema


def collection_names(document: dict[str, Any]) -> list[str]:
    """The project's collections: `info.x-cairn-collections`, else the record paths."""
    info = document.get("info") or {}
    listed = info.get("x-cairn-collections")
    if isinstance(listed, dict):
        names = [str(n) for n in listed]
    else:
        names = [
            m.group(1)
            for path in document.get("paths") or {}
            if (m := re.fullmatch(r"/collections/([a-z][a-z0-9_]{0,62})/records", path))
        ]
    for name in names:
        if not _COLLECTION.match(name):
            raise DocumentError(f"'{name}' is not a collection name")
    return sorted(set(names))


def read(document: dict[str, Any], *, project: str, package: str) -> SdkModel:
    """The model of `document`, the OpenAPI document of `project`."""
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise DocumentError("not an OpenAPI 3 document")
    if not _PROJECT.match(project):
        raise DocumentError(f"'{project}' is not a project slug")
    version = str((document.get("info") or {}).get("version", ""))
    if not _VERSION.match(version):
        raise DocumentError(f"the document's info.version {version[:40]!r} is not a version")
    schemas = (document.get("components") or {}).get("schemas") or {}
    names = collection_names(document)
    records = {f"{pascal(n)}Record": n for n in names}

    allocator = naming.Names()
    bases: dict[str, str] = {}
    derive = {
        "record": "{}",
        "create": "{}Create",
        "update": "{}Update",
        "expand": "{}Expand",
        "sort_key": "{}SortKey",
        "expand_key": "{}ExpandKey",
    }
    for name in names:
        p = pascal(name)
        candidates = [naming.singular_pascal(name), p, f"{p}Record"]
        bases[name] = allocator.claim_group(candidates, derive)
    resources: dict[str, tuple[str, str]] = {}
    for name in names:
        p = pascal(name)
        resources[name] = (
            allocator.claim([f"{p}Resource", f"{p}RecordsResource"]),
            allocator.claim([f"Async{p}Resource", f"Async{p}RecordsResource"]),
        )

    client_attrs: set[str] = set()
    collections = []
    for name in names:
        base = bases[name]
        attr = naming.client_attribute(name, client_attrs)
        client_attrs.add(attr)
        fields = _fields(schemas, name, bases, records, allocator)
        has_relations = any(f.relation for f in fields)
        collections.append(
            CollectionModel(
                name=name,
                attr=attr,
                record=base,
                create=f"{base}Create",
                update=f"{base}Update",
                expand=f"{base}Expand" if has_relations else None,
                sort_key=f"{base}SortKey",
                expand_key=f"{base}ExpandKey" if has_relations else None,
                resource=resources[name][0],
                async_resource=resources[name][1],
                fields=fields,
            )
        )
    return SdkModel(project, package, version, tuple(collections))


def _fields(
    schemas: dict[str, Any],
    collection: str,
    bases: dict[str, str],
    records: dict[str, str],
    allocator: naming.Names,
) -> tuple[FieldModel, ...]:
    p, base = pascal(collection), bases[collection]
    record = _object(schemas, f"{p}Record")
    if record is None:
        raise DocumentError(f"the document has no schema '{p}Record' for '{collection}'")
    create = _object(schemas, f"{p}Create") or {}
    update = _object(schemas, f"{p}Update") or {}
    expand = _object(schemas, f"{p}Expand") or {}
    properties: dict[str, Any] = record.get("properties", {})
    create_props: dict[str, Any] = create.get("properties", {})
    update_props: dict[str, Any] = update.get("properties", {})
    expand_props: dict[str, Any] = expand.get("properties", {})
    create_required = set(create.get("required", ()))
    missing = [s for s in SYSTEM_FIELDS if s not in properties]
    if missing:
        raise DocumentError(f"'{p}Record' lacks the system fields {', '.join(missing)}")

    taken: set[str] = set()
    out: list[FieldModel] = []
    for name, schema in properties.items():
        if name == "expand" or not isinstance(schema, dict):
            continue
        if not _COLLECTION.match(name):
            raise DocumentError(f"'{name}' of '{collection}' is not a field name")
        system = name in SYSTEM_FIELDS
        kind, multiple, values = _kind(name, schema)
        _, nullable = _types(schema)
        write = create_props.get(name) or update_props.get(name) or {}
        target = target_record = None
        if kind == "relation":
            ref = _ref_name(expand_props.get(name))
            target = records.get(ref or "")
            if target is None:
                found = _TARGET_IN_DESCRIPTION.search(str(schema.get("description", "")))
                target = found.group(1) if found and found.group(1) in records.values() else None
            target_record = bases.get(target or "")
        attr = naming.field_attribute(name, taken)
        taken.add(attr)
        alias = None
        if kind == "select":
            field_p = pascal(name)
            alias = allocator.claim([f"{base}{field_p}", f"{base}{field_p}Value"])
        description = schema.get("description") or write.get("description")
        out.append(
            FieldModel(
                name=name,
                attr=attr,
                kind=kind,
                nullable=nullable,
                required=name in create_required,
                writable=not system and (name in create_props or name in update_props),
                multiple=multiple,
                values=values,
                target=target,
                target_record=target_record,
                description=str(description) if description else None,
                default=write.get("default", _NO_DEFAULT),
                limits=_limits(write),
                system=system,
                alias=alias,
                input_nullable=bool(write) and _types(write)[1],
            )
        )
    return tuple(out)
