"""Records of a collection: the browser (filter, sort by header, cursor paging both ways,
optional total), create/edit forms generated from the field types, delete with confirmation,
and a small JSON lookup that relation pickers search with.

Everything goes through the records services the API uses (`cairn.records.query`,
`cairn.records.service`); this module only turns HTML form text into JSON-shaped values and
back.

Paging backwards: a "previous" link carries the position of the page's first row (signed with
the API's cursor codec and scope), and the page before it is read forwards in the reversed
order (`query.reversed_sort`), then flipped. Links stay one cursor long however deep one pages,
and rows inserted meanwhile never make a page skip or repeat a row. When fewer than a page of
rows lies before, the first page is shown instead.

Editing is optimistic: the form carries the record's version (and a fingerprint of each value
it showed), the save is an update with that version as its precondition, and only the fields
whose text differs from the record's are sent, so a value the form cannot show exactly (a
datetime's microseconds) is never rewritten by a save. When someone else saved in between, the
form comes back with their version: the fields you left alone show their values, those you
changed keep yours, and where you both changed a field theirs is shown beside it, so saving
again overwrites deliberately, never silently.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from flask import Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import Connection
from werkzeug.datastructures import MultiDict

from cairn.auth.principal import Principal
from cairn.errors import BadRequest, CairnError, Conflict, Forbidden, Invalid, PreconditionFailed
from cairn.errors import NotFound as NotFoundError
from cairn.http.pagination import CursorCodec
from cairn.records import collection as collections
from cairn.records import query
from cairn.records import service as records
from cairn.records.collection import Collection
from cairn.records.filter import FilterError
from cairn.runtime import Runtime
from cairn.schema import service as schema_service
from cairn.schema.definitions import CollectionDef, FieldDef
from cairn_admin import bp
from cairn_admin.security import in_project, signed_in
from cairn_admin.views.manage_common import Errors, form_errors

SECTION = "admin.collections"
PAGE_SIZES = (25, 50, 100)
LOOKUP_LIMIT = 10
LOOKUP_CHARS = 200
CELL_CHARS = 60
TITLE_CHARS = 300
_SEARCHABLE = ("text", "email", "url", "select")
_INTEGER = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_IDS = re.compile(r"[\s,]+")

Raw = str | list[str]


# --- columns and cells of the browser -----------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    sortable: bool
    numeric: bool = False


@dataclass(frozen=True)
class Cell:
    text: str
    title: str = ""
    href: str = ""
    css: str = ""
    moment: str = ""  # a <time datetime=…> value


def _columns(definition: CollectionDef) -> list[Column]:
    declared = [
        Column(
            f.name,
            f.type,
            sortable=f.type != "json" and not f.multiple,
            numeric=f.type in ("integer", "number"),
        )
        for f in definition.fields
    ]
    system = [Column("created_at", "datetime", True), Column("updated_at", "datetime", True)]
    return declared + system


def _shorten(text: str, limit: int = CELL_CHARS) -> tuple[str, str]:
    """The text a cell shows and, when shortened, a longer part of it for its title."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat, ""
    return flat[: limit - 1] + "…", flat[: TITLE_CHARS - 1] + (
        "…" if len(flat) > TITLE_CHARS else ""
    )


def _number_text(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _moment_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _label_field(definition: CollectionDef) -> str | None:
    """The field that names a record of `definition` in pickers and relation cells: its first
    required text field, else its first single text-like field."""
    candidates = [f for f in definition.fields if f.type in _SEARCHABLE and not f.multiple]
    required = [f for f in candidates if f.type == "text" and f.required]
    ranked = required + [f for f in candidates if f.type == "text"] + candidates
    return ranked[0].name if ranked else None


def record_label(definition: CollectionDef, record: dict[str, Any]) -> str:
    name = _label_field(definition)
    value = record.get(name) if name else None
    return str(value) if value not in (None, "") else str(record["id"])


def _short_id(value: Any) -> str:
    return "…" + str(value)[-8:]


def _cell(
    slug: str, column: Column, item: dict[str, Any], targets: dict[str, CollectionDef]
) -> Cell:
    value = item.get(column.name)
    if value is None or value == []:
        return Cell("—", css="muted")
    kind = column.type
    if kind == "relation":
        target = targets[column.name]
        related = item.get("expand", {}).get(column.name)
        if isinstance(value, list):
            found = {str(r["id"]): r for r in related or []}
            labels = [record_label(target, found[str(v)]) if str(v) in found else str(v)
                      for v in value]  # fmt: skip
            text, _ = _shorten(", ".join(labels))
            return Cell(text, title=", ".join(map(str, value)))
        text, _ = _shorten(record_label(target, related) if related else _short_id(value))
        href = url_for("admin.record_edit", slug=slug, name=target.name, record_id=value)
        return Cell(text, href=href)
    if kind == "boolean":
        return Cell("Yes" if value else "No")
    if kind in ("integer", "number"):
        return Cell(_number_text(value), css="num")
    if kind == "datetime":
        return Cell(_moment_text(value), moment=value.isoformat())
    if kind == "date":
        return Cell(value.isoformat(), moment=value.isoformat())
    if kind == "json":
        text, title = _shorten(json.dumps(value, ensure_ascii=False))
        return Cell(text, title=title, css="mono")
    if isinstance(value, list):
        text, title = _shorten(", ".join(map(str, value)))
        return Cell(text, title=title)
    text, title = _shorten(str(value))
    return Cell(text, title=title)


# --- form widgets and form text ↔ values -------------------------------------------------------


@dataclass(frozen=True)
class Widget:
    field: FieldDef
    control: str  # input | textarea | checkbox | select | json | relation | relations
    input_type: str = "text"
    attrs: dict[str, str] = dataclass_field(default_factory=dict)
    hint: str = ""

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def key(self) -> str:
        """The form key: prefixed, so that no field name collides with the form's own."""
        return f"f.{self.field.name}"


def _bounds(f: FieldDef, low: Any, high: Any, unit: str) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}{unit}"
    if low is not None:
        return f"at least {low}{unit}"
    if high is not None:
        return f"at most {high}{unit}"
    return ""


def _widget(f: FieldDef) -> Widget:
    attrs: dict[str, str] = {}
    notes: list[str] = []
    control, input_type = "input", "text"
    if f.type in ("text", "email", "url"):
        input_type = {"text": "text", "email": "email", "url": "url"}[f.type]
        if f.max_length is not None:
            attrs["maxlength"] = str(f.max_length)
        if f.min_length is not None:
            attrs["minlength"] = str(f.min_length)
        if f.type == "text" and (f.max_length is None or f.max_length > 200):
            control = "textarea"
        notes.append({"text": "Text", "email": "An email address", "url": "An http(s) URL"}[f.type])
        notes.append(_bounds(f, f.min_length, f.max_length, " characters"))
        if f.pattern:
            notes.append(f"matching {f.pattern}")
    elif f.type in ("integer", "number"):
        input_type = "number"
        attrs["step"] = "1" if f.type == "integer" else "any"
        for key in ("min", "max"):
            bound = getattr(f, key)
            if bound is not None:
                attrs[key] = _number_text(bound)
        notes.append("A whole number" if f.type == "integer" else "A number")
        notes.append(_bounds(f, f.min, f.max, ""))
    elif f.type == "boolean":
        control = "checkbox"
    elif f.type == "select":
        control = "select"
        if f.multiple:
            attrs["size"] = str(min(len(f.values or ()), 6))
            notes.append("Choose any number (Ctrl or ⌘ + click)")
    elif f.type == "date":
        input_type = "date"
        notes.append("A date")
    elif f.type == "datetime":
        input_type = "datetime-local"
        attrs["step"] = "1"
        notes.append("Date and time in UTC")
    elif f.type == "json":
        control = "json"
        notes.append('Any JSON value, e.g. {"key": 1} or [1, 2]')
    elif f.type == "relation":
        control = "relations" if f.multiple else "relation"
        notes.append(
            f"Ids of records in {f.collection}, one per line"
            if f.multiple
            else f"The id of a record in {f.collection}"
        )
    if f.required:
        notes.append("required")
    if f.unique:
        notes.append("unique")
    hint = ", ".join(n for n in notes if n)
    return Widget(f, control, input_type, attrs, hint[:1].upper() + hint[1:] + "." if hint else "")


def _render(f: FieldDef, value: Any) -> Raw:
    """A stored value as the form shows it."""
    if f.multiple:
        items = [str(v) for v in value or []]
        return "\n".join(items) if f.type == "relation" else items
    if value is None:
        return ""
    if f.type == "boolean":
        return "on" if value else ""
    if f.type in ("integer", "number"):
        return _number_text(value)
    if f.type == "datetime":
        moment = value.astimezone(UTC)
        text: str = moment.strftime("%Y-%m-%dT%H:%M:%S")
        return text + (f".{moment.microsecond // 1000:03d}" if moment.microsecond else "")
    if f.type == "date":
        return str(value.isoformat())
    if f.type == "json":
        return json.dumps(value, indent=2, ensure_ascii=False)
    return str(value)


def _submitted(w: Widget, form: MultiDict[str, str]) -> Raw:
    """The text of one field as the browser sent it."""
    if w.control == "checkbox":
        return "on" if form.get(w.key) else ""
    if w.control == "select" and w.field.multiple:
        return form.getlist(w.key)
    return form.get(w.key, "").replace("\r\n", "\n")


class _Unreadable(ValueError):
    pass


def _decode(f: FieldDef, raw: Raw) -> Any:
    """Form text as the JSON value the API would receive; _Unreadable with the message."""
    if isinstance(raw, list):
        return raw
    if f.type == "boolean":
        return raw == "on"
    if f.type == "relation" and f.multiple:
        return [i for i in _IDS.split(raw) if i]
    if f.type in ("text", "email", "url", "select"):
        return raw if raw != "" else None
    text = raw.strip()
    if not text:
        return None
    if f.type == "integer":
        if not _INTEGER.fullmatch(text):
            raise _Unreadable("must be a whole number")
        return int(text)
    if f.type == "number":
        if not _NUMBER.fullmatch(text) or not math.isfinite(float(text)):
            raise _Unreadable("must be a number")
        return float(text)
    if f.type == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _Unreadable(
                f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
    return text  # date, datetime, relation: the service reads the text


def _moment(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _same(f: FieldDef, raw: Raw, shown: Raw) -> bool:
    """Whether submitted text means the value the form showed (a datetime without its zero
    seconds, reformatted JSON and reordered whitespace are the same value)."""
    if raw == shown:
        return True
    if isinstance(raw, list) or isinstance(shown, list):
        return False
    if f.type in ("text", "email", "url") and _widget(f).control == "input":
        # A one-line input drops line breaks from the value it is given.
        return raw == shown.replace("\r", "").replace("\n", "")
    try:
        if f.type == "datetime":
            a, b = _moment(raw.strip()), _moment(shown)
            return a is not None and a == b
        if f.type in ("number", "json") or (f.type == "relation" and f.multiple):
            return bool(_decode(f, raw) == _decode(f, shown))
    except _Unreadable:
        return False
    return False


def _fingerprint(f: FieldDef, raw: Raw) -> str:
    """A short digest of the value form text means (as `_same` compares them)."""
    try:
        value = _decode(f, raw)
    except _Unreadable:
        value = raw
    if f.type == "datetime" and isinstance(value, str):
        moment = _moment(value)
        value = moment.isoformat() if moment else value
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _read_base(text: str) -> dict[str, str]:
    """The fingerprints an edit form was opened with; none (every field counts as changed)
    when missing or malformed."""
    try:
        base = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in base.items()} if isinstance(base, dict) else {}


def _body(
    coll: Collection, form: MultiDict[str, str], current: dict[str, Any] | None
) -> dict[str, Any]:
    """The record body a form means: every filled field for a create; for an edit only the
    fields whose text differs from the current record's. Invalid names every field at once."""
    body: dict[str, Any] = {}
    unreadable: dict[str, list[str]] = {}
    for w in map(_widget, coll.definition.fields):
        raw = _submitted(w, form)
        if current is not None and _same(w.field, raw, _render(w.field, current[w.name])):
            continue
        try:
            value = _decode(w.field, raw)
        except _Unreadable as exc:
            unreadable[w.name] = [str(exc)]
            continue
        if current is None and value in (None, []) and w.field.type != "boolean":
            continue  # left empty: the default applies
        body[w.name] = value
    if unreadable:
        errors = dict(unreadable)
        try:
            records.validate(coll, body, partial=current is not None)
        except Invalid as exc:
            errors.update({k: v for k, v in exc.errors.items() if k not in unreadable})
        raise Invalid(errors=errors)
    return body


def _errors(exc: CairnError, coll: Collection) -> Errors:
    return form_errors(exc, (f.name for f in coll.definition.fields))


# --- shared page parts ----------------------------------------------------------------------


def _codec(rt: Runtime, coll: Collection) -> CursorCodec:
    """The records API's codec and scope: a cursor means the same in both."""
    return CursorCodec(rt.cursor_secret, query.cursor_scope(coll))


def _record_id(coll: Collection, raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise NotFoundError(f"no record {raw} in '{coll.name}'") from None


def _targets(conn: Connection, coll: Collection) -> dict[str, CollectionDef]:
    """The collection each relation field points at, from one read of the registry."""
    if not coll.definition.relations:
        return {}
    registry = schema_service.registered(conn, coll.project)
    return {f.name: registry[str(f.collection)].definition for f in coll.definition.relations}


def _optional_url(endpoint: str, **values: Any) -> str | None:
    """A link to another part of the UI, if that part is installed."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


def _page_context(conn: Connection, coll: Collection) -> dict[str, Any]:
    return {
        "project": coll.project,
        "coll": coll,
        "section": SECTION,
        "collections_url": _optional_url("admin.collections", slug=coll.project.slug),
        "schema_url": _optional_url(
            "admin.collection_edit", slug=coll.project.slug, name=coll.name
        ),
    }


def _form_page(
    conn: Connection,
    coll: Collection,
    *,
    values: dict[str, Raw],
    errors: dict[str, list[str]],
    record: dict[str, Any] | None = None,
    version: int | None = None,
    theirs: dict[str, str] | None = None,
    conflict: bool = False,
    base: str | None = None,
) -> str:
    """The create or edit form. An edit form carries the version it was filled in from and
    the fingerprints of the values it showed (`base`), so that a conflict can tell the fields
    you changed from those you left alone."""
    targets = _targets(conn, coll)
    if record is not None and base is None:
        shown = {f.name: _render(f, record[f.name]) for f in coll.definition.fields}
        base = json.dumps(
            {f.name: _fingerprint(f, shown[f.name]) for f in coll.definition.fields},
            separators=(",", ":"),
        )
    return render_template(
        "records/form.html",
        widgets=[_widget(f) for f in coll.definition.fields],
        values=values,
        errors=errors,
        record=record,
        version=version if version is not None else (record["version"] if record else None),
        theirs=theirs or {},
        conflict=conflict,
        base=base,
        utc=_utc_text,
        lookups={
            name: url_for("admin.record_lookup", slug=coll.project.slug, name=target.name)
            for name, target in targets.items()
        },
        **_page_context(conn, coll),
    )


def _listing_url(coll: Collection, **params: Any) -> str:
    args = {k: v for k, v in params.items() if v not in (None, "", False)}
    return url_for("admin.records", slug=coll.project.slug, name=coll.name, **args)


# --- the browser ------------------------------------------------------------------------------


def _limit(raw: str | None) -> int:
    try:
        value = int(raw or PAGE_SIZES[0])
    except ValueError:
        return PAGE_SIZES[0]
    return value if value in PAGE_SIZES else PAGE_SIZES[0]


@dataclass
class _Listing:
    items: list[dict[str, Any]]
    total: int | None = None
    next_cursor: str | None = None
    before_cursor: str | None = None
    first_page_link: bool = False  # past the end: offer the first page


def _read_page(
    conn: Connection,
    coll: Collection,
    rt: Runtime,
    principal: Principal,
    keys: list[query.SortKey],
    base: query.ListRequest,
) -> _Listing:
    codec = _codec(rt, coll)
    after, before = request.args.get("cursor"), request.args.get("before")

    def cursor(item: dict[str, Any]) -> str:
        return codec.encode(query.cursor_position(base.sort or "", query.position_of(keys, item)))

    if before:
        position = query.cursor_values(codec.decode(before), keys)
        backwards = replace(base, sort=query.reversed_sort(keys), after=position)
        back = query.list_records(conn, coll, principal, backwards)
        if back.next_position is not None:  # more rows before these: a middle page
            items = back.items[::-1]
            return _Listing(items, back.total, cursor(items[-1]), cursor(items[0]))
        after = None  # at most a page lies before: that is the first page
    values = query.cursor_values(codec.decode(after), keys) if after else None
    page = query.list_records(conn, coll, principal, replace(base, after=values))
    listing = _Listing(page.items, page.total)
    if page.next_position is not None:
        listing.next_cursor = codec.encode(query.cursor_position(page.sort_key, page.next_position))
    if values is not None and page.items:
        listing.before_cursor = cursor(page.items[0])
    listing.first_page_link = values is not None and not page.items
    return listing


@bp.get("/p/<slug>/collections/<name>/records", endpoint="records")
@signed_in
def records_page(slug: str, name: str) -> tuple[str, int]:
    filter_text = request.args.get("filter", "").strip()
    limit = _limit(request.args.get("limit"))
    count = request.args.get("count") == "1"
    errors: dict[str, list[str]] = {}
    listing = _Listing([])
    with in_project(slug) as (rt, project, conn, principal):
        coll = collections.load(conn, project, name)
        sort_text = request.args.get("sort", "").strip()
        try:
            keys = query.parse_sort(coll, sort_text or None)
        except BadRequest as exc:
            errors["sort"] = [exc.detail]
            sort_text, keys = "", query.parse_sort(coll, None)
        relations = [f.name for f in coll.definition.relations][: query.MAX_EXPAND_PATHS]
        base = query.ListRequest(
            filter=filter_text or None,
            sort=query.sort_signature(keys),
            limit=limit,
            expand=",".join(relations) or None,
            count=count,
        )
        try:
            listing = _read_page(conn, coll, rt, principal, keys, base)
        except FilterError as exc:
            errors["filter"] = [exc.detail]
        except BadRequest as exc:
            errors[""] = [exc.detail]
        targets = _targets(conn, coll)
        context = _page_context(conn, coll)
        siblings = list(schema_service.registered(conn, project))
    columns = _columns(coll.definition)
    primary = keys[0]
    state = {"filter": filter_text, "sort": sort_text, "limit": limit if limit != PAGE_SIZES[0]
             else None, "count": "1" if count else None}  # fmt: skip

    def sort_link(column: Column) -> str:
        ascending = primary.ref.name == column.name and not primary.descending
        return _listing_url(coll, **{**state, "sort": ("-" if ascending else "") + column.name})

    page = render_template(
        "records/index.html",
        columns=columns,
        rows=[
            (item, [_cell(project.slug, c, item, targets) for c in columns])
            for item in listing.items
        ],
        listing=listing,
        errors=errors,
        state=state,
        page_sizes=PAGE_SIZES,
        sorted_by=(primary.ref.name, primary.descending),
        sort_link=sort_link,
        next_url=listing.next_cursor and _listing_url(coll, **state, cursor=listing.next_cursor),
        previous_url=listing.before_cursor
        and _listing_url(coll, **state, before=listing.before_cursor),
        first_url=_listing_url(coll, **state),
        count_url=_listing_url(coll, **{**state, "count": "1"}),
        clear_url=_listing_url(coll, sort=sort_text),
        siblings=siblings,
        **context,
    )
    return page, 400 if errors else 200


# --- create, edit, delete ----------------------------------------------------------------------


@bp.route("/p/<slug>/collections/<name>/records/new", methods=["GET", "POST"])
@signed_in
def record_new(slug: str, name: str) -> Response | str | tuple[str, int]:
    if request.method == "GET":
        with in_project(slug) as (_rt, project, conn, _principal):
            coll = collections.load(conn, project, name)
            defaults = {f.name: _render(f, f.default) for f in coll.definition.fields}
            return _form_page(conn, coll, values=defaults, errors={})
    try:
        with in_project(slug) as (_rt, project, conn, principal):
            coll = collections.load(conn, project, name)
            row = records.create_record(conn, coll, principal, _body(coll, request.form, None))
    except (Invalid, Conflict, Forbidden) as exc:
        with in_project(slug) as (_rt, project, conn, _principal):
            coll = collections.load(conn, project, name)
            widgets = map(_widget, coll.definition.fields)
            submitted = {w.name: _submitted(w, request.form) for w in widgets}
            return _form_page(conn, coll, values=submitted, errors=_errors(exc, coll)), exc.status
    flash(f"Record {row.id} created.", "success")
    return redirect(url_for("admin.records", slug=slug, name=name))  # type: ignore[return-value]


def _at(version: int) -> records.Precondition:
    """The If-Match of a form: the version it was filled in from."""
    return records.Precondition(versions=frozenset({version}))


def _version(raw: str | None) -> int:
    if raw is None or not raw.isdigit():
        raise BadRequest("the form has no record version; reload the record and retry")
    return int(raw)


@bp.route("/p/<slug>/collections/<name>/records/<record_id>", methods=["GET", "POST"])
@signed_in
def record_edit(slug: str, name: str, record_id: str) -> Response | str | tuple[str, int]:
    if request.method == "GET":
        with in_project(slug) as (_rt, project, conn, principal):
            coll = collections.load(conn, project, name)
            row = records.get_record(conn, coll, principal, _record_id(coll, record_id))
            record = collections.dump(coll, row)
            values = {f.name: _render(f, record[f.name]) for f in coll.definition.fields}
            return _form_page(conn, coll, values=values, errors={}, record=record)
    version = _version(request.form.get("_version"))
    base = request.form.get("_base", "")
    try:
        with in_project(slug) as (_rt, project, conn, principal):
            coll = collections.load(conn, project, name)
            rid = _record_id(coll, record_id)
            current = collections.dump(coll, records.get_record(conn, coll, principal, rid))
            changes = _body(coll, request.form, current)
            if changes or current["version"] != version:
                records.update_record(conn, coll, principal, rid, changes, _at(version))
    except (Invalid, Conflict, Forbidden, PreconditionFailed) as exc:
        with in_project(slug) as (_rt, project, conn, principal):
            coll = collections.load(conn, project, name)
            rid = _record_id(coll, record_id)
            record = collections.dump(coll, records.get_record(conn, coll, principal, rid))
            widgets = [_widget(f) for f in coll.definition.fields]
            submitted = {w.name: _submitted(w, request.form) for w in widgets}
            if not isinstance(exc, PreconditionFailed):
                page = _form_page(conn, coll, values=submitted, errors=_errors(exc, coll),
                                  record=record, version=version, base=base)  # fmt: skip
                return page, exc.status
            merged, theirs = _merge(widgets, submitted, record, _read_base(base))
            page = _form_page(conn, coll, values=merged, errors={}, record=record,
                              theirs=theirs, conflict=True)  # fmt: skip
            return page, 409
    flash("Record saved." if changes else "Nothing changed.", "success")
    return redirect(url_for("admin.record_edit", slug=slug, name=name, record_id=record_id))  # type: ignore[return-value]


def _merge(
    widgets: list[Widget],
    submitted: dict[str, Raw],
    record: dict[str, Any],
    opened: dict[str, str],
) -> tuple[dict[str, Raw], dict[str, str]]:
    """Someone else saved first. The fields you left alone take their values; those you
    changed keep yours, and where they changed the same field, theirs is named beside it.
    With their version in the form, saving again is a deliberate overwrite."""
    values: dict[str, Raw] = {}
    theirs: dict[str, str] = {}
    for w in widgets:
        mine, now = submitted[w.name], _render(w.field, record[w.name])
        was = opened.get(w.name)  # none known: every field counts as changed by both
        touched = was != _fingerprint(w.field, mine)
        values[w.name] = mine if touched else now
        if touched and was != _fingerprint(w.field, now) and not _same(w.field, mine, now):
            theirs[w.name] = _shown(w, record[w.name])
    return values, theirs


def _shown(w: Widget, value: Any) -> str:
    """A stored value in words, for the conflict notes."""
    if value is None or value == []:
        return "(empty)"
    if w.field.type == "boolean":
        return "checked" if value else "not checked"
    rendered = _render(w.field, value)
    text = ", ".join(rendered) if isinstance(rendered, list) else rendered
    if w.field.type == "datetime":
        text += " UTC"
    return _shorten(text, 200)[0]


@bp.route("/p/<slug>/collections/<name>/records/<record_id>/delete", methods=["GET", "POST"])
@signed_in
def record_delete(slug: str, name: str, record_id: str) -> Response | str | tuple[str, int]:
    error, status = None, 200
    if request.method == "POST":
        version = _version(request.form.get("_version"))
        try:
            with in_project(slug) as (_rt, project, conn, principal):
                coll = collections.load(conn, project, name)
                rid = _record_id(coll, record_id)
                records.delete_record(conn, coll, principal, rid, _at(version))
        except PreconditionFailed:
            error, status = (
                "Someone else changed this record since you opened this page. "
                "Check it below and confirm again.",
                409,
            )
        except Conflict as exc:
            error, status = exc.detail, exc.status
        else:
            flash(f"Record {record_id} deleted.", "success")
            return redirect(url_for("admin.records", slug=slug, name=name))  # type: ignore[return-value]
    with in_project(slug) as (_rt, project, conn, principal):
        coll = collections.load(conn, project, name)
        row = records.get_record(conn, coll, principal, _record_id(coll, record_id))
        record = collections.dump(coll, row)
        targets = _targets(conn, coll)
        incoming = [
            (other.name, f.name, f.delete_action)
            for other in (r.definition for r in schema_service.registered(conn, project).values())
            for f in other.relations
            if f.collection == coll.name
        ]
        context = _page_context(conn, coll)
    columns = _columns(coll.definition)
    page = render_template(
        "records/delete.html",
        record=record,
        label=record_label(coll.definition, record),
        cells=[(c, _cell(slug, c, record, targets)) for c in columns],
        incoming=incoming,
        error=error,
        **context,
    )
    return page, status


# --- the relation pickers' search ------------------------------------------------------------


@bp.get("/p/<slug>/collections/<name>/lookup")
@signed_in
def record_lookup(slug: str, name: str) -> Response | tuple[Response, int]:
    """`?q=` → `{"items": [{"id", "label"}]}`: records of `name` whose id is `q` or whose
    text fields contain it, newest first; for the relation pickers."""
    text = request.args.get("q", "")[:LOOKUP_CHARS]
    with in_project(slug) as (_rt, project, conn, principal):
        coll = collections.load(conn, project, name)
        try:
            search = query.ListRequest(filter=query.text_search(coll, text), limit=LOOKUP_LIMIT)
            page = query.list_records(conn, coll, principal, search)
        except BadRequest as exc:
            return jsonify(items=[], error=exc.detail), 400
    items = [{"id": str(i["id"]), "label": record_label(coll.definition, i)} for i in page.items]
    return jsonify(items=items)
