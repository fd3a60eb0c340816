"""resources.py of a generated SDK: one typed resource per collection, sync and async.

`PostsResource` wraps the runtime's `CollectionResource[Post]` (composition, not a
subclass: its keyword-argument `create(title=…)` cannot override the runtime's
`create(data)` without breaking substitutability). Optional fields default to `NOT_GIVEN`,
so that leaving a field out and writing null (`None`) stay different. `raw` is the same
collection as plain dicts, for what typed records cannot hold (`fields=`, nested
`expand=` paths).
"""

from __future__ import annotations

from collections.abc import Sequence

from cairn.sdkgen.model import CollectionModel, FieldModel, SdkModel
from cairn.sdkgen.pycode import (
    INDENT,
    LINE_LENGTH,
    Doc,
    all_list,
    assign,
    bracketed,
    call,
    from_import,
    signature,
    string,
)
from cairn.sdkgen.types import describe, input_type

_ID_DOC = "The record's id."
_IF_MATCH_DOC = (
    "Only if the record is still at this version (`record.version`, or an ETag); "
    "otherwise `cairn_sdk.PreconditionFailed` is raised and nothing changes."
)
_KEY_DOC = "Makes retries safe: the server creates the record once per key. Generated unless given."

Param = tuple[str, str | None, str | None]


def public_names(model: SdkModel) -> list[str]:
    names: list[str] = []
    for coll in model.collections:
        names += [coll.resource, coll.async_resource]
    return names


def render(model: SdkModel, header: list[str]) -> str:
    model_names = {"NOT_GIVEN", "NotGiven"}
    body: list[str] = []
    for coll in model.collections:
        model_names |= {coll.record, coll.create, coll.update, coll.sort_key}
        if coll.expand_key:
            model_names.add(coll.expand_key)
        model_names |= {f.alias for f in coll.declared if f.alias and f.writable}
        for asynchronous in (False, True):
            body += _resource(coll, asynchronous=asynchronous)
    lines = list(header)
    lines += (
        Doc()
        .para(
            f"Typed resources of the Cairn project `{model.project}`: `client.<collection>` "
            "creates, reads, updates, deletes and lists its records."
        )
        .lines("")
    )
    lines += ["", "from __future__ import annotations", ""]
    if model.collections:
        lines += [
            "import datetime as _dt",
            "from collections.abc import Mapping, Sequence",
            "from typing import Any",
            "",
            "import cairn_sdk",
            *from_import(
                "cairn_sdk", ["AsyncCollectionResource", "AsyncPage", "CollectionResource", "Page"]
            ),
            "from cairn_sdk.filters import Expr",
            "",
            *from_import(".models", model_names),
            "",
        ]
    lines += all_list(public_names(model)) if model.collections else ["__all__: list[str] = []"]
    lines += body
    if model.collections:
        lines += [
            "",
            "",
            "def _wire(data: Mapping[str, Any]) -> dict[str, Any]:",
            *Doc().para("A request body: dates and datetimes as ISO 8601 strings.").lines(INDENT),
            f"{INDENT}return {{key: _json(value) for key, value in data.items()}}",
            "",
            "",
            "def _json(value: Any) -> Any:",
            f"{INDENT}if isinstance(value, _dt.date):",
            f"{INDENT * 2}return value.isoformat()",
            f"{INDENT}return value",
        ]
    lines.append("")
    return "\n".join(lines)


def _resource(coll: CollectionModel, *, asynchronous: bool) -> list[str]:
    name = coll.async_resource if asynchronous else coll.resource
    runtime = "AsyncCollectionResource" if asynchronous else "CollectionResource"
    client = "cairn_sdk.AsyncClient" if asynchronous else "cairn_sdk.Client"
    twin = f" The asyncio twin of `{coll.resource}`." if asynchronous else ""
    out = [
        "",
        "",
        f"class {name}:",
        *Doc()
        .para(f"The records of '{coll.name}' (`client.{coll.attr}`), as `{coll.record}`.{twin}")
        .lines(INDENT),
        "",
        f"{INDENT}def __init__(self, client: {client}) -> None:",
        *Doc().para("Bind to `client` (the generated client does this for you).").lines(INDENT * 2),
        f"{INDENT * 2}self._client = client",
        *call(
            INDENT * 2,
            "self._records = ",
            runtime,
            ["client", string(coll.name), f"{coll.record}.from_dict"],
        ),
        "",
        f"{INDENT}@property",
        f"{INDENT}def raw(self) -> {runtime}[dict[str, Any]]:",
        *Doc()
        .para(
            "The same records as plain dicts, for what typed records cannot hold (`fields=`, "
            "nested `expand=` paths)."
        )
        .lines(INDENT * 2),
        *call(INDENT * 2, "return ", "self._client.collection", [string(coll.name)]),
    ]
    out += _create(coll, asynchronous)
    out += _get(coll, asynchronous)
    out += _update(coll, asynchronous)
    out += _delete(coll, asynchronous)
    # Last: a method named `list` would shadow the builtin in later annotations.
    out += _list(coll, asynchronous)
    return out


def _def(asynchronous: bool) -> str:
    return "async def" if asynchronous else "def"


def _await(asynchronous: bool) -> str:
    return "await " if asynchronous else ""


def _writable(coll: CollectionModel) -> list[FieldModel]:
    return [f for f in coll.declared if f.writable]


def _create(coll: CollectionModel, asynchronous: bool) -> list[str]:
    fields = _writable(coll)
    required = [f for f in fields if f.required]
    optional = [f for f in fields if not f.required]
    params: list[Param] = [("self", None, None), ("*", None, None)]
    params += [(f.attr, input_type(f, nullable=f.input_nullable), None) for f in required]
    params += [
        (f.attr, input_type(f, nullable=f.input_nullable, optional=True), "NOT_GIVEN")
        for f in optional
    ]
    params.append(("idempotency_key", "str | None", "None"))
    doc = Doc().para(f"Create a record in '{coll.name}' and return it.")
    doc.section(
        "Args:",
        [(f.attr, describe(f, writing=True)) for f in [*required, *optional]]
        + [("idempotency_key", _KEY_DOC)],
    )
    out = [""]
    out += signature(INDENT, _def(asynchronous), "create", params, coll.record)
    out += doc.lines(INDENT * 2)
    out += _required_keys(coll.create, required)
    out += _optional_keys(optional)
    out += call(
        INDENT * 2,
        f"return {_await(asynchronous)}",
        "self._records.create",
        ["_wire(data)", "idempotency_key=idempotency_key"],
    )
    return out


def _required_keys(typeddict: str, fields: Sequence[FieldModel]) -> list[str]:
    """`data: PostCreate = {"title": title, …}` with the required keys."""
    head = f"data: {typeddict} = {{"
    items = [f"{string(f.name)}: {f.attr}" for f in fields]
    one = bracketed(head, items, "}", INDENT * 2)
    if not items or len(one) == 1:
        return one if items else [f"{INDENT * 2}{head}}}"]
    out = [f"{INDENT * 2}{head}"]
    inner = INDENT * 3
    for f in fields:
        line = f"{inner}{string(f.name)}: {f.attr},"
        if len(line) <= LINE_LENGTH:
            out.append(line)
        else:  # ruff keeps a long value in parentheses
            out += [f"{inner}{string(f.name)}: (", f"{inner}{INDENT}{f.attr}", f"{inner}),"]
    out.append(f"{INDENT * 2}}}")
    return out


def _optional_keys(fields: Sequence[FieldModel]) -> list[str]:
    out: list[str] = []
    for f in fields:
        out += call(INDENT * 2, "if not ", "isinstance", [f.attr, "NotGiven"], ":")
        out += assign(INDENT * 3, f"data[{string(f.name)}]", f.attr)
    return out


def _get(coll: CollectionModel, asynchronous: bool) -> list[str]:
    params: list[Param] = [("self", None, None), ("id", "str", None)]
    doc = Doc().para(
        f"The record `id` of '{coll.name}'; `cairn_sdk.NotFound` if there is none, or if "
        "the view rule hides it."
    )
    items = [("id", _ID_DOC)]
    args = ["id"]
    if coll.expand_key:
        params += [("*", None, None), ("expand", f"Sequence[{coll.expand_key}] | None", "None")]
        items.append(("expand", "Relations to inline under `expand` (each through its view rule)."))
        args.append("expand=expand")
    doc.section("Args:", items)
    out = [""]
    out += signature(INDENT, _def(asynchronous), "get", params, coll.record)
    out += doc.lines(INDENT * 2)
    out += call(INDENT * 2, f"return {_await(asynchronous)}", "self._records.get", args)
    return out


def _update(coll: CollectionModel, asynchronous: bool) -> list[str]:
    fields = _writable(coll)
    params: list[Param] = [
        ("self", None, None),
        ("id", "str", None),
        ("*", None, None),
        ("if_match", "int | str | None", "None"),
    ]
    params += [
        (f.attr, input_type(f, nullable=f.input_nullable, optional=True), "NOT_GIVEN")
        for f in fields
    ]
    doc = Doc().para(
        f"Change the given fields of the record `id` of '{coll.name}' and return the "
        "record as it is now; fields left out keep their values."
    )
    doc.section(
        "Args:",
        [("id", _ID_DOC), ("if_match", _IF_MATCH_DOC)]
        + [(f.attr, describe(f, writing=True)) for f in fields],
    )
    out = [""]
    out += signature(INDENT, _def(asynchronous), "update", params, coll.record)
    out += doc.lines(INDENT * 2)
    out.append(f"{INDENT * 2}data: {coll.update} = {{}}")
    out += _optional_keys(fields)
    out += call(
        INDENT * 2,
        f"return {_await(asynchronous)}",
        "self._records.update",
        ["id", "_wire(data)", "if_match=if_match"],
    )
    return out


def _delete(coll: CollectionModel, asynchronous: bool) -> list[str]:
    params: list[Param] = [
        ("self", None, None),
        ("id", "str", None),
        ("*", None, None),
        ("if_match", "int | str | None", "None"),
    ]
    doc = Doc().para(f"Delete the record `id` of '{coll.name}'.")
    doc.section("Args:", [("id", _ID_DOC), ("if_match", _IF_MATCH_DOC)])
    out = [""]
    out += signature(INDENT, _def(asynchronous), "delete", params, "None")
    out += doc.lines(INDENT * 2)
    out += call(
        INDENT * 2, _await(asynchronous), "self._records.delete", ["id", "if_match=if_match"]
    )
    return out


def _list(coll: CollectionModel, asynchronous: bool) -> list[str]:
    page = "AsyncPage" if asynchronous else "Page"
    params: list[Param] = [
        ("self", None, None),
        ("*", None, None),
        ("filter", "str | Expr | None", "None"),
        ("sort", f"{coll.sort_key} | Sequence[{coll.sort_key}] | None", "None"),
        ("limit", "int | None", "None"),
        ("cursor", "str | None", "None"),
    ]
    items = [
        (
            "filter",
            f"Which records: an `Expr` of the fields of `filters.{coll.record}`, or filter "
            "text; only records the list rule lets the caller see are listed.",
        ),
        ("sort", "Sort keys, `-` first for descending; by default newest first."),
        ("limit", "Records per page (1-500; the server's default is 50)."),
        ("cursor", "Start at this `next_cursor` of an earlier page."),
    ]
    args = [
        "filter=None if filter is None else str(filter)",
        "sort=sort",
        "limit=limit",
        "cursor=cursor",
    ]
    if coll.expand_key:
        params.append(("expand", f"Sequence[{coll.expand_key}] | None", "None"))
        items.append(("expand", "Relations to inline under each record's `expand`."))
        args.append("expand=expand")
    params.append(("count", "bool", "False"))
    items.append(("count", "Also count every matching record, in `page.total`."))
    args.append("count=count")
    iterate = "async for" if asynchronous else "for"
    doc = Doc().para(
        f"The first page of records of '{coll.name}'. `{iterate} record in page` reads "
        "every matching record, fetching the next pages as it goes."
    )
    doc.section("Args:", items)
    out = [""]
    out += signature(INDENT, _def(asynchronous), "list", params, f"{page}[{coll.record}]")
    out += doc.lines(INDENT * 2)
    out += call(INDENT * 2, f"return {_await(asynchronous)}", "self._records.list", args)
    return out
