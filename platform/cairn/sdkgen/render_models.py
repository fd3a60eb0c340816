"""models.py of a generated SDK: records, their inputs and the literal types.

Per collection: a frozen dataclass of the record (every system field, then the declared
fields, `expand` last) with `from_dict`; `…Expand`, a TypedDict of the related records;
`…Create` (required keys as the API requires them, the others `NotRequired`) and `…Update`
(every key optional) TypedDicts of request bodies; `Literal` aliases of select values, of
sort keys (`"title"`, `"-title"`, …) and of expandable relations. `NotGiven` marks an
argument left out, as opposed to `None`, which writes null.
"""

from __future__ import annotations

from cairn.sdkgen import naming
from cairn.sdkgen.model import CollectionModel, FieldModel, SdkModel
from cairn.sdkgen.pycode import (
    INDENT,
    all_list,
    annotated,
    call,
    dict_entry,
    docstring,
    exploded,
    from_import,
    signature,
    string,
)
from cairn.sdkgen.types import describe, input_type, record_type

# Converters of a record's JSON values: (required, nullable) variants by field kind.
_CONVERTERS = {
    "date": ("_date", "_date_or_none"),
    "datetime": ("_datetime", "_datetime_or_none"),
    "number": ("float", "_float_or_none"),
}
_HELPERS = {
    "_date": [
        "def _date(value: Any) -> _dt.date:",
        f"{INDENT}return _dt.date.fromisoformat(value)",
    ],
    "_date_or_none": [
        "def _date_or_none(value: Any) -> _dt.date | None:",
        f"{INDENT}return None if value is None else _dt.date.fromisoformat(value)",
    ],
    "_datetime": [
        "def _datetime(value: Any) -> _dt.datetime:",
        f"{INDENT}return _dt.datetime.fromisoformat(value)",
    ],
    "_datetime_or_none": [
        "def _datetime_or_none(value: Any) -> _dt.datetime | None:",
        f"{INDENT}return None if value is None else _dt.datetime.fromisoformat(value)",
    ],
    "_float_or_none": [
        "def _float_or_none(value: Any) -> float | None:",
        f"{INDENT}return None if value is None else float(value)",
    ],
    "_tuple": [
        "def _tuple(value: Any) -> tuple[Any, ...]:",
        f"{INDENT}return tuple(value)",
    ],
    "_tuple_or_none": [
        "def _tuple_or_none(value: Any) -> tuple[Any, ...] | None:",
        f"{INDENT}return None if value is None else tuple(value)",
    ],
    "_one": [
        "def _one(parse: Callable[[Mapping[str, Any]], _R], value: Any) -> _R | None:",
        f"{INDENT}return None if value is None else parse(value)",
    ],
    "_many": [
        "def _many(parse: Callable[[Mapping[str, Any]], _R], value: Any) -> list[_R]:",
        f"{INDENT}return [parse(item) for item in value or ()]",
    ],
}


def public_names(model: SdkModel) -> list[str]:
    """What models.py exports."""
    names = ["NOT_GIVEN", "NotGiven"]
    for coll in model.collections:
        names += [coll.record, coll.create, coll.update, coll.sort_key]
        if coll.expand and coll.expand_key:
            names += [coll.expand, coll.expand_key]
        names += [f.alias for f in coll.fields if f.alias]
    return names


class _Module:
    def __init__(self) -> None:
        self.typing: set[str] = {"Literal"}
        self.abc: set[str] = set()
        self.helpers: set[str] = set()
        self.uses_dt = False
        self.uses_dataclass = False


def render(model: SdkModel, header: list[str]) -> str:
    mod = _Module()
    body: list[str] = []
    body += _not_given()
    for coll in model.collections:
        body += _aliases(coll, mod)
    # No `from __future__ import annotations` here: TypedDicts must see `NotRequired` at
    # run time (`__required_keys__`). So names are defined before annotations use them:
    # inputs, then the related-record TypedDicts (records quoted: they come later), then
    # the records, then the functions.
    for coll in model.collections:
        body += _inputs(coll, mod)
    for coll in model.collections:
        if coll.expand:
            body += _expand_type(coll, mod)
    for coll in model.collections:
        body += _record(coll, mod)
    for coll in model.collections:
        if coll.expand:
            body += _expand_function(coll, mod)
    helpers = [name for name in _HELPERS if name in mod.helpers]
    if {"_one", "_many"} & mod.helpers:
        mod.typing.add("TypeVar")
        mod.abc.add("Callable")
        body += ["", "", '_R = TypeVar("_R")']
    for name in helpers:
        body += ["", "", *_HELPERS[name]]

    lines = list(header)
    lines += docstring(
        f"Records of the Cairn project `{model.project}`, and the inputs that create and "
        "update them.",
        "",
    )
    lines.append("")
    if mod.uses_dt:
        lines.append("import datetime as _dt")
    if mod.abc:
        lines += from_import("collections.abc", mod.abc)
    if mod.uses_dataclass:
        lines.append("from dataclasses import dataclass")
    lines += from_import("typing", mod.typing)
    lines += ["", *all_list(public_names(model)), *body, ""]
    return "\n".join(lines)


def _not_given() -> list[str]:
    return [
        "",
        "",
        "class NotGiven:",
        *docstring(
            "The type of `NOT_GIVEN`: an argument left out, so the field keeps its value "
            "(or gets its default). `None` instead writes null.",
            INDENT,
        ),
        "",
        f"{INDENT}def __bool__(self) -> Literal[False]:",
        f"{INDENT * 2}return False",
        "",
        f"{INDENT}def __repr__(self) -> str:",
        f'{INDENT * 2}return "NOT_GIVEN"',
        "",
        "",
        "NOT_GIVEN = NotGiven()",
        *docstring("The default of optional arguments: leave the field out.", ""),
    ]


def _literal_alias(name: str, values: list[str], doc: str, mod: _Module) -> list[str]:
    mod.typing.add("TypeAlias")
    quoted = [string(v) for v in values]
    if len(quoted) == 1:
        one = f"{name}: TypeAlias = Literal[{quoted[0]}]"
        lines = (
            [one] if len(one) <= 88 else exploded(f"{name}: TypeAlias = Literal[", quoted, "]", "")
        )
    else:
        lines = exploded(f"{name}: TypeAlias = Literal[", quoted, "]", "")
    return ["", *lines, *docstring(doc, "")]


def _aliases(coll: CollectionModel, mod: _Module) -> list[str]:
    out: list[str] = []
    for f in coll.fields:
        if f.alias:
            out += _literal_alias(
                f.alias, list(f.values), f"The values of `{coll.record}.{f.attr}`.", mod
            )
    keys: list[str] = []
    for f in coll.fields:
        if f.sortable:
            keys += [f.name, f"-{f.name}"]
    out += _literal_alias(
        coll.sort_key,
        keys,
        f"A sort key of '{coll.name}': a field, `-` first for descending order.",
        mod,
    )
    if coll.expand_key:
        out += _literal_alias(
            coll.expand_key,
            [f.name for f in coll.relations],
            f"A relation of '{coll.name}' that `expand=` can inline.",
            mod,
        )
    return out


def _value(f: FieldModel, indent: str, mod: _Module) -> list[str]:
    """The keyword argument `attr=…` reading field `f` from `data`."""
    key = string(f.name)
    read = f"data.get({key})" if f.nullable else f"data[{key}]"
    if f.multiple:
        name = "_tuple_or_none" if f.nullable else "_tuple"
    elif f.kind in _CONVERTERS:
        required, nullable = _CONVERTERS[f.kind]
        name = nullable if f.nullable else required
    elif f.nullable:
        return call(indent, f"{f.attr}=", "data.get", [key], ",")
    else:
        return call(indent, f"{f.attr}=", "data", [key], ",", brackets="[]")
    if name != "float":
        mod.helpers.add(name)
    return call(indent, f"{f.attr}=", name, [read], ",")


def _record(coll: CollectionModel, mod: _Module) -> list[str]:
    mod.uses_dataclass = True
    mod.typing |= {"Any", "Self"}
    mod.abc.add("Mapping")
    out = [
        "",
        "",
        "@dataclass(frozen=True, kw_only=True, slots=True)",
        f"class {coll.record}:",
        *docstring(
            f"A record of '{coll.name}', as the API returns it (`from_dict` reads one from "
            "its JSON object; keys it does not know are ignored).",
            INDENT,
        ),
        "",
    ]
    for f in coll.fields:
        annotation = record_type(f)
        mod.uses_dt |= "_dt." in annotation
        out += annotated(INDENT, f.attr, annotation)
        text = describe(f)
        if text:
            out += docstring(text, INDENT)
    if coll.expand:
        out += annotated(INDENT, "expand", f"{coll.expand} | None", "None")
        out += docstring("The related records, when read with `expand=` (None otherwise).", INDENT)
    out += [
        "",
        f"{INDENT}@classmethod",
        f"{INDENT}def from_dict(cls, data: Mapping[str, Any]) -> Self:",
        *docstring("Read the record from the API's JSON object.", INDENT * 2),
    ]
    inner = INDENT * 3
    kwargs: list[str] = []
    for f in coll.fields:
        kwargs += _value(f, inner, mod)
    if coll.expand:
        kwargs += call(inner, "expand=", f"_{coll.name}_expand", ['data.get("expand")'], ",")
    out += [f"{INDENT * 2}return cls(", *kwargs, f"{INDENT * 2})"]
    return out


def _expand_type(coll: CollectionModel, mod: _Module) -> list[str]:
    assert coll.expand is not None
    mod.typing.add("TypedDict")
    entries: list[tuple[str, str]] = []
    for f in coll.relations:
        if f.target_record is None:
            mod.typing.add("Any")
            target = "dict[str, Any]"
        else:
            target = f.target_record
        annotation = f"list[{target}]" if f.multiple else f"{target} | None"
        # Quoted: the record classes are defined further down.
        entries.append((f.name, string(annotation) if f.target_record else annotation))
    doc = (
        f"The records related to a record of '{coll.name}', by relation field: what "
        "`expand=` asked for (records the caller may not see are left out)."
    )
    return _typeddict(coll.expand, entries, doc, total=False)


def _expand_function(coll: CollectionModel, mod: _Module) -> list[str]:
    assert coll.expand is not None
    mod.typing.add("Any")
    out = [
        "",
        "",
        *signature(
            "", "def", f"_{coll.name}_expand", [("value", "Any", None)], f"{coll.expand} | None"
        ),
        f"{INDENT}if not isinstance(value, dict):",
        f"{INDENT * 2}return None",
        f"{INDENT}out: {coll.expand} = {{}}",
    ]
    for f in coll.relations:
        key = string(f.name)
        out.append(f"{INDENT}if {key} in value:")
        if f.target_record is None:
            out.append(f"{INDENT * 2}out[{key}] = value[{key}]")
            continue
        helper = "_many" if f.multiple else "_one"
        mod.helpers.add(helper)
        out += call(
            INDENT * 2, f"out[{key}] = ", helper, [f"{f.target_record}.from_dict", f"value[{key}]"]
        )
    out.append(f"{INDENT}return out")
    return out


def _typeddict(name: str, entries: list[tuple[str, str]], doc: str, *, total: bool) -> list[str]:
    """A TypedDict: class syntax, or the functional one when a key cannot be an attribute."""
    keys = [key for key, _ in entries]
    if naming.needs_functional_typeddict(keys):
        return ["", "", *_functional(name, entries, total), *docstring(doc, "")]
    head = f"class {name}(TypedDict{'' if total else ', total=False'}):"
    out = ["", "", head, *docstring(doc, INDENT)]
    if entries:
        out.append("")
    for key, annotation in entries:
        out += annotated(INDENT, key, annotation)
    return out


def _functional(name: str, entries: list[tuple[str, str]], total: bool) -> list[str]:
    lines = [f"{name} = TypedDict(", f"{INDENT}{string(name)},", f"{INDENT}{{"]
    for key, annotation in entries:
        lines += dict_entry(INDENT * 2, string(key), annotation)
    lines.append(f"{INDENT}}},")
    if not total:
        lines.append(f"{INDENT}total=False,")
    lines.append(")")
    return lines


def _inputs(coll: CollectionModel, mod: _Module) -> list[str]:
    mod.typing.add("TypedDict")
    writable = [f for f in coll.declared if f.writable]
    create: list[tuple[str, str]] = []
    update: list[tuple[str, str]] = []
    for f in writable:
        annotation = input_type(f, nullable=f.input_nullable)
        mod.uses_dt |= "_dt." in annotation
        if f.required:
            create.append((f.name, annotation))
        else:
            mod.typing.add("NotRequired")
            create.append((f.name, f"NotRequired[{annotation}]"))
        update.append((f.name, annotation))
    out = _typeddict(
        coll.create,
        create,
        f"The body that creates a record of '{coll.name}' (`NotRequired` keys may be left "
        "out: they get their default, or null).",
        total=True,
    )
    out += _typeddict(
        coll.update,
        update,
        f"The body that updates a record of '{coll.name}': only the keys given change.",
        total=False,
    )
    return out
