"""Collections: the list, the editor (a form per field, or the raw YAML/JSON), the plan every
save shows first, apply on confirmation, and drop with a typed confirmation.

Everything goes through cairn.schema.service, as the API and `cairn apply` do. The editor only
turns the form into a definition object (the same object the API takes) and the service's
errors back into messages next to the inputs they are about. A save never applies directly:
the plan page carries the proposed definition and a digest of the plan it showed; apply plans
again and refuses if the plan is not the one the admin confirmed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml
from flask import Response, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import Connection
from werkzeug.routing import BuildError

from cairn.auth.principal import platform_admin
from cairn.errors import Conflict, Invalid
from cairn.http.tenant import runtime
from cairn.records.rules import rule_errors
from cairn.runtime import Runtime
from cairn.schema import service as schema
from cairn.schema.definitions import (
    FIELD_TYPES,
    ON_DELETE,
    RULE_ACTIONS,
    CollectionDef,
    field_options,
    load_collection,
)
from cairn.schema.engine import Plan
from cairn.tenancy import service as tenancy
from cairn.tenancy.service import Project
from cairn.users.settings import profile_fields
from cairn_admin import bp
from cairn_admin.security import in_project, signed_in

SECTION = "admin.collections"
MAX_ROWS = 200  # fields (or indexes) one form may post
# Inputs of a field row besides name and type; `was` is the name the field had when the
# editor opened (a changed name then plans as a rename, keeping the data).
FLAGS = ("required", "unique", "multiple", "remove")
OPTIONS = ("min", "max", "min_length", "max_length", "pattern", "values", "collection",
           "on_delete", "default")  # fmt: skip
ROW_KEYS = ("name", "type", "was", *FLAGS, *OPTIONS)
# Which types show which input: read from the definitions, never restated here.
SHOWN_FOR = {
    key: tuple(t for t in FIELD_TYPES if key in field_options(t))
    for key in ("unique", "multiple", *OPTIONS)
}
RULE_HELP = {
    "list": "who may list records; the expression filters the list",
    "view": "who may read one record",
    "create": "who may create a record; the expression must hold for the new record",
    "update": "who may change a record",
    "delete": "who may delete a record",
}
RULE_MODES = ("locked", "public", "expr")

Row = dict[str, str]
Errors = dict[str, list[str]]


@dataclass
class Draft:
    """The editor's state: what the admin typed, as typed (strings), so a page re-rendered
    with errors shows exactly the input that caused them."""

    original: str = ""  # the collection being edited; "" for a new one
    name: str = ""
    rows: list[Row] = field(default_factory=list)
    indexes: list[Row] = field(default_factory=list)
    rules: dict[str, Row] = field(default_factory=dict)
    raw: str = ""
    view: str = "form"  # or "raw"


# -- pages -----------------------------------------------------------------------------------


@bp.get("/p/<slug>/collections")
@signed_in
def collections(slug: str) -> str:
    with in_project(slug) as (_, project, conn, _principal):
        found = schema.registered(conn, project)
        sizes = tenancy.collection_sizes(conn, project)
    items = [
        {
            "name": name,
            "fields": [f.name for f in r.definition.fields],
            "records": sizes.get(name, 0),
            "records_url": _records_url(slug, name),
        }
        for name, r in found.items()
    ]
    return render_template("collections/index.html", project=project, items=items, section=SECTION)


@bp.get("/p/<slug>/collections/-/new")
@signed_in
def collection_new(slug: str) -> str:
    with in_project(slug) as (_, project, conn, _principal):
        names = list(schema.registered(conn, project))
    draft = Draft(rows=[_blank_row()], indexes=[_blank_index()], rules=_rules_state(None))
    if request.args.get("view") == "raw":
        draft.view = "raw"
    return _editor(project, draft, {}, names)


@bp.get("/p/<slug>/collections/<name>")
@signed_in
def collection_edit(slug: str, name: str) -> str:
    with in_project(slug) as (_, project, conn, _principal):
        current = schema.get_collection(conn, project, name).definition
        names = list(schema.registered(conn, project))
    draft = _draft_of(current, current, original=name)
    if request.args.get("view") == "raw":
        draft.view = "raw"
    return _editor(project, draft, {}, names)


@bp.post("/p/<slug>/collections/-/plan")
@signed_in
def collection_plan(slug: str) -> str | tuple[str, int]:
    """The editor posts here: to add a row, switch views, or (by default) review the plan."""
    rt = runtime()
    project = rt.projects.resolve(slug)
    form = request.form
    original = form.get("original", "")
    op = form.get("op", "plan")
    with rt.db.owner(project.id) as conn:
        found = schema.registered(conn, project)
    names = list(found)
    current = found[original].definition if original in found else None
    source = form.get("source", "form")

    if source == "json":  # "back to the editor" from the plan page
        draft = _draft_of(_load_json(form.get("definition", ""), original), current, original)
        draft.view = "raw" if form.get("view") == "raw" else "form"
        return _editor(project, draft, {}, names)

    if source == "raw":
        draft = Draft(original=original, name=original, raw=form.get("raw", ""), view="raw")
        try:
            definition = _load_raw(draft.raw, original)
        except Invalid as exc:
            return _editor(project, draft, {"raw": _flat(exc)}, names), 422
        if op == "to_form":
            return _editor(project, _draft_of(definition, current, original), {}, names)
        return _review(rt, project, definition, draft, names)

    draft = _draft_from_form(form, original)
    if op == "add_field":
        draft.rows.append(_blank_row())
        return _editor(project, draft, {}, names, focus=f"fields-{len(draft.rows) - 1}-name")
    if op == "add_index":
        draft.indexes.append(_blank_index())
        return _editor(project, draft, {}, names, focus=f"indexes-{len(draft.indexes) - 1}-fields")
    if op == "refresh":
        return _editor(project, draft, {}, names)
    data, errors = _definition_data(draft)
    if op == "to_raw":
        draft.raw = _yaml(data)
        draft.view = "raw"
        return _editor(project, draft, {}, names)
    try:
        definition = load_collection(data, name=original or None)
    except Invalid as exc:
        errors = _merge(errors, _form_errors(exc.errors, draft) or {"": [exc.detail]})
    if errors:
        return _editor(project, draft, errors, names), 422
    return _review(rt, project, definition, draft, names)


@bp.post("/p/<slug>/collections/-/apply")
@signed_in
def collection_apply(slug: str) -> Response | str | tuple[str, int]:
    rt = runtime()
    project = rt.projects.resolve(slug)
    form = request.form
    original = form.get("original", "")
    definition = _load_json(form.get("definition", ""), original)
    allow = form.get("allow_destructive") == "on"
    notice = ""
    reviewed = form.get("digest")

    def runs(plan: Plan) -> bool:  # only the plan the admin reviewed, and only if it may run
        return plan.digest() == reviewed and not plan.blocked and (allow or not plan.destructive)

    with _owner(rt, project) as (conn, actor):
        names = list(schema.registered(conn, project))
        try:
            if not original and definition.name in names:
                raise Conflict(f"a collection named '{definition.name}' was created meanwhile")
            plan = schema.put_collection(
                conn, project, definition, actor=actor, app_role=rt.settings.db_app_role,
                allow_destructive=allow, proceed=runs,
            )  # fmt: skip
        except (Invalid, Conflict) as exc:
            draft = _draft_of(definition, None, original)
            draft.view = "raw" if form.get("view") == "raw" else "form"
            if isinstance(exc, Conflict):
                return _editor(project, draft, {"": [exc.detail]}, names), 409
            found = {"raw": _flat(exc)} if draft.view == "raw" else _form_errors(exc.errors, draft)
            return _editor(project, draft, found, names), 422
    if plan.digest() != reviewed:
        notice = "The plan changed since you reviewed it (the data or the schema moved on)."
    if not runs(plan):
        errors: Errors = {}
        if not notice and not plan.blocked:
            errors["allow_destructive"] = ["confirm that the destructive steps may run"]
        draft = Draft(original=original, name=definition.name,
                      view="raw" if form.get("view") == "raw" else "form")  # fmt: skip
        page = _plan_page(project, definition, plan, draft, errors=errors, notice=notice)
        return page, 409 if notice or plan.blocked else 422
    with rt.db.owner_autocommit() as conn:
        schema.build_concurrently(conn, project, plan)
    if plan.empty:
        flash(f"Nothing to change: {definition.name} already matches.", "success")
    else:
        count = len(plan.steps)
        flash(f"Applied {count} step{'' if count == 1 else 's'} to {definition.name}.", "success")
    return redirect(url_for("admin.collection_edit", slug=slug, name=definition.name))  # type: ignore[return-value]


@bp.route("/p/<slug>/collections/<name>/delete", methods=["GET", "POST"])
@signed_in
def collection_delete(slug: str, name: str) -> Response | str | tuple[str, int]:
    """Dropping a collection shows its plan (records lost, relations in the way) and asks for
    the name typed out; it applies only the plan that was shown."""
    rt = runtime()
    project = rt.projects.resolve(slug)
    errors: Errors = {}
    notice = ""
    confirmed = request.method == "POST" and request.form.get("confirm", "") == name
    reviewed = request.form.get("digest")

    def runs(plan: Plan) -> bool:  # only the plan that was shown, confirmed, and not blocked
        return confirmed and plan.digest() == reviewed and not plan.blocked

    with _owner(rt, project) as (conn, actor):
        try:
            plan = schema.delete_collection(
                conn, project, name, actor=actor, app_role=rt.settings.db_app_role,
                allow_destructive=True, proceed=runs,
            )  # fmt: skip
        except Invalid as exc:  # other collections still relate to it
            page = render_template(
                "collections/delete.html", project=project, name=name, plan=None,
                related=_related(exc.errors), problems=[] if _related(exc.errors) else _flat(exc),
                errors=errors, section=SECTION,
            )  # fmt: skip
            return page if request.method == "GET" else (page, 409)
    if runs(plan):
        flash(f"Collection {name} and its records were dropped.", "success")
        return redirect(url_for("admin.collections", slug=slug))  # type: ignore[return-value]
    if request.method == "POST":
        if not confirmed:
            errors["confirm"] = [f"type {name} to confirm"]
        elif plan.digest() != reviewed:
            notice = "The plan changed since you reviewed it; review it again."
    page = render_template(
        "collections/delete.html", project=project, name=name, plan=plan, digest=plan.digest(),
        errors=errors, notice=notice, section=SECTION,
    )  # fmt: skip
    if request.method == "GET":
        return page
    return page, 422 if errors else 409


def _related(messages: Mapping[str, list[str]]) -> list[str]:
    """`posts.author` for each relation field the planner found pointing at a dropped
    collection (its errors are keyed `<collection>.fields.<field>.collection`)."""
    found = []
    for path in messages:
        parts = path.split(".")
        if len(parts) == 4 and parts[1] == "fields" and parts[3] == "collection":
            found.append(f"{parts[0]}.{parts[2]}")
    return found


@bp.post("/p/<slug>/collections/-/check-rule")
@signed_in
def collection_check_rule(slug: str) -> Response:
    """Inline validation for the editor's script: the editor form plus `rule_action`; answers
    `{"errors": [...]}` for that rule against the fields the form declares."""
    project = runtime().projects.resolve(slug)
    action = request.form.get("rule_action", "")
    if action not in RULE_ACTIONS:
        return jsonify(errors=[f"rule_action must be one of {', '.join(RULE_ACTIONS)}"])
    expression = request.form.get(f"rule-{action}", "").strip()
    if not expression:
        return jsonify(errors=[])
    data, _ = _definition_data(_draft_from_form(request.form, ""))
    fields = dict(data["fields"])
    candidate = {"name": "rule_check", "fields": fields, "rules": {action: expression}}
    try:
        definition = load_collection(candidate)
    except Invalid as exc:  # check against the fields that are valid so far
        bad = {path.split(".")[1] for path in exc.errors if path.startswith("fields.")}
        candidate["fields"] = {n: spec for n, spec in fields.items() if n not in bad}
        try:
            definition = load_collection(candidate)
        except Invalid:
            return jsonify(errors=[])
    names = profile_fields(project.user_fields).names
    return jsonify(errors=rule_errors(definition, names).get(f"rule_check.rules.{action}", []))


# -- rendering -------------------------------------------------------------------------------


def _editor(
    project: Project, draft: Draft, errors: Errors, names: list[str], focus: str = ""
) -> str:
    targets = sorted({*names, *([draft.original] if draft.original else [])})
    return render_template(
        "collections/editor.html",
        project=project,
        draft=draft,
        errors=errors,
        targets=targets,
        focus=focus,
        field_types=FIELD_TYPES,
        on_delete=ON_DELETE,
        shown_for=SHOWN_FOR,
        rule_actions=RULE_ACTIONS,
        rule_help=RULE_HELP,
        section=SECTION,
        records_url=_records_url(project.slug, draft.original) if draft.original else None,
        blank_row=_blank_row(),
        blank_index=_blank_index(),
    )


def _review(
    rt: Runtime, project: Project, definition: CollectionDef, draft: Draft, names: list[str]
) -> str | tuple[str, int]:
    """Plan (a dry run of the same service call apply makes) and show it."""
    if not draft.original and definition.name in names:
        errors = {"name": [f"a collection named '{definition.name}' exists; edit it instead"]}
        if draft.view == "raw":
            errors = {"raw": errors["name"]}
        return _editor(project, draft, errors, names), 409
    try:
        with _owner(rt, project) as (conn, actor):
            plan = schema.put_collection(
                conn, project, definition, actor=actor, app_role=rt.settings.db_app_role,
                dry_run=True,
            )  # fmt: skip
    except Invalid as exc:
        errors = {"raw": _flat(exc)} if draft.view == "raw" else _form_errors(exc.errors, draft)
        return _editor(project, draft, errors, names), 422
    return _plan_page(project, definition, plan, draft)


def _plan_page(
    project: Project,
    definition: CollectionDef,
    plan: Plan,
    draft: Draft,
    *,
    errors: Errors | None = None,
    notice: str = "",
) -> str:
    proposed = _definition_dict(definition)
    return render_template(
        "collections/plan.html",
        project=project,
        name=definition.name,
        original=draft.original,
        view=draft.view,
        plan=plan,
        digest=plan.digest(),
        definition_json=json.dumps(proposed, separators=(",", ":")),
        definition_yaml=_yaml(proposed),
        errors=errors or {},
        notice=notice,
        section=SECTION,
    )


@contextmanager
def _owner(rt: Runtime, project: Project) -> Iterator[tuple[Connection, str]]:
    """Schema changes run on the owner path, scoped to the project, audited as this admin."""
    actor = platform_admin(project.id, g.admin.email).actor
    with rt.db.owner(project.id, source=request.remote_addr) as conn:
        yield conn, actor


def _records_url(slug: str, name: str) -> str | None:
    try:
        return url_for("admin.records", slug=slug, name=name)
    except BuildError:  # the record browser is not part of this build
        return None


# -- form ⇄ definition -------------------------------------------------------------------------


def _blank_row() -> Row:
    return {key: "" for key in ROW_KEYS} | {"type": "text"}


def _blank_index() -> Row:
    return {"fields": "", "unique": ""}


def _rules_state(rules: Mapping[str, str | None] | None) -> dict[str, Row]:
    state = {}
    for action in RULE_ACTIONS:
        value = (rules or {}).get(action)
        mode = "locked" if value is None else "public" if value == "" else "expr"
        state[action] = {"mode": mode, "text": value or ""}
    return state


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _draft_of(definition: CollectionDef, current: CollectionDef | None, original: str) -> Draft:
    """The editor's state for a definition; `current` (the live one) tells which fields
    already exist, so that renaming one in the form keeps its data."""
    data = _definition_dict(definition)
    rows = []
    for f in definition.fields:
        spec = data["fields"][f.name]
        row = _blank_row() | {"name": f.name, "type": f.type}
        for flag in ("required", "unique", "multiple"):
            row[flag] = "on" if spec.get(flag) else ""
        for key in OPTIONS:
            row[key] = _text(spec.get(key))
        if f.type == "json" and "default" in spec:
            row["default"] = json.dumps(spec["default"])
        exists = current is not None and current.field(f.name) is not None
        row["was"] = f.renamed_from or (f.name if exists else "")
        rows.append(row)
    indexes = [
        {"fields": ", ".join(i.fields), "unique": "on" if i.unique else ""}
        for i in definition.indexes
    ]
    return Draft(
        original=original,
        name=definition.name,
        rows=rows or [_blank_row()],
        indexes=[*indexes, _blank_index()],
        rules=_rules_state({a: definition.rules.get(a) for a in RULE_ACTIONS}),
        raw=_yaml(data),
    )


def _draft_from_form(form: Mapping[str, str], original: str) -> Draft:
    rows = []
    for i in range(min(_count(form.get("field_count")), MAX_ROWS)):
        prefix = f"fields-{i}-"
        if prefix + "name" not in form and prefix + "type" not in form:
            continue  # a row the script removed
        row = {key: form.get(prefix + key, "").strip() for key in ROW_KEYS}
        if row["remove"]:
            continue
        rows.append(row)
    indexes = []
    for i in range(min(_count(form.get("index_count")), MAX_ROWS)):
        prefix = f"indexes-{i}-"
        if prefix + "fields" in form:
            indexes.append({"fields": form.get(prefix + "fields", "").strip(),
                            "unique": form.get(prefix + "unique", "")})  # fmt: skip
    rules = {}
    for action in RULE_ACTIONS:
        text = form.get(f"rule-{action}", "").strip()
        mode = form.get(f"rule-{action}-mode", "")
        if mode not in RULE_MODES:
            mode = "expr" if text else "locked"
        rules[action] = {"mode": mode, "text": text}
    return Draft(
        original=original,
        name=original or form.get("name", "").strip(),
        rows=rows or [_blank_row()],
        indexes=indexes or [_blank_index()],
        rules=rules,
    )


def _count(value: str | None) -> int:
    try:
        return max(int(value or 0), 0)
    except ValueError:
        return 0


def _number(text: str) -> Any:
    """A number typed in the form; anything else is passed on for the definition to refuse."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _default(kind: str, multiple: bool, text: str) -> tuple[Any, str | None]:
    """The typed default of a field (JSON types from the form's text), or why it is not."""
    if kind in ("integer", "number"):
        return _number(text), None
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text), None
    if kind == "json":
        try:
            return json.loads(text), None
        except ValueError:
            return None, "is not valid JSON"
    if multiple:
        return [v.strip() for v in text.split(",") if v.strip()], None
    return text, None


def _definition_data(draft: Draft) -> tuple[dict[str, Any], Errors]:
    """The definition object the form describes (as the API would receive it), and the
    problems only the form can have (two rows with one name, a default that is not JSON)."""
    errors: Errors = {}
    fields: dict[str, dict[str, Any]] = {}
    names = [row["name"] for row in draft.rows]
    for i, row in enumerate(draft.rows):
        name = row["name"]
        if not name:
            continue  # an empty row
        if name in fields:
            errors[f"fields-{i}-name"] = ["another field already has this name"]
            continue
        kind = row["type"]
        allowed = field_options(kind) if kind in FIELD_TYPES else frozenset()
        spec: dict[str, Any] = {"type": kind}
        for flag in ("required", "unique", "multiple"):
            if row[flag] and flag in allowed:
                spec[flag] = True
        for key in ("min", "max", "min_length", "max_length"):
            if row[key] and key in allowed:
                spec[key] = _number(row[key])
        for key in ("pattern", "collection", "on_delete"):
            if row[key] and key in allowed:
                spec[key] = row[key]
        if "values" in allowed and row["values"]:
            spec["values"] = [v.strip() for v in row["values"].split(",") if v.strip()]
        if "default" in allowed and row["default"]:
            value, problem = _default(kind, bool(spec.get("multiple")), row["default"])
            if problem:
                errors[f"fields-{i}-default"] = [problem]
            else:
                spec["default"] = value
        was = row["was"]
        if was and was != name and was not in names:
            spec["renamed_from"] = was
        fields[name] = spec
    indexes = []
    for row in draft.indexes:
        columns = [c.strip() for c in row["fields"].split(",") if c.strip()]
        if columns:
            indexes.append({"fields": columns, **({"unique": True} if row["unique"] else {})})
    rules: dict[str, str] = {}
    for action, rule in draft.rules.items():
        if rule["mode"] == "public":
            rules[action] = ""
        elif rule["mode"] == "expr":
            if rule["text"]:
                rules[action] = rule["text"]
            else:
                errors[f"rule-{action}"] = ['write an expression, or choose "Anyone"']
    data: dict[str, Any] = {"name": draft.name, "fields": fields}
    if indexes:
        data["indexes"] = indexes
    if rules:
        data["rules"] = rules
    return data, errors


def _form_errors(messages: Mapping[str, list[str]], draft: Draft) -> Errors:
    """The service's errors (keyed by paths in the definition, sometimes behind the
    collection's name) placed on the inputs they are about; the rest above the form."""
    row_of: dict[str, int] = {}
    for i, row in enumerate(draft.rows):
        if row["name"]:
            row_of.setdefault(row["name"], i)  # a repeated name is the later row's problem
    index_rows = [i for i, row in enumerate(draft.indexes) if row["fields"].strip(", ")]
    out: Errors = {}
    for path, texts in messages.items():
        key = path
        if draft.name and key.startswith(draft.name + "."):
            key = key[len(draft.name) + 1 :]
        parts = key.split(".")
        target = ""
        if parts[0] == "name" and len(parts) == 1:
            target = "name"
        elif parts[0] == "fields" and len(parts) > 1 and parts[1] in row_of:
            option = parts[2] if len(parts) > 2 else "name"
            column = option if option in ROW_KEYS and option not in ("was", "remove") else "name"
            target = f"fields-{row_of[parts[1]]}-{column}"
        elif parts[0] == "indexes" and len(parts) > 1 and parts[1].isdigit():
            position = int(parts[1])
            if position < len(index_rows):
                target = f"indexes-{index_rows[position]}-fields"
        elif parts[0] == "rules" and len(parts) == 2 and parts[1] in RULE_ACTIONS:
            target = f"rule-{parts[1]}"
        out.setdefault(target, []).extend(texts if target else [f"{key}: {t}" for t in texts])
    return out


def _merge(first: Errors, second: Errors) -> Errors:
    out = {k: list(v) for k, v in first.items()}
    for k, v in second.items():
        out.setdefault(k, []).extend(v)
    return out


def _flat(exc: Invalid) -> list[str]:
    """Every problem as one line, for the raw editor."""
    if not exc.errors:
        return [exc.detail]
    return [f"{path}: {text}" if path else text
            for path, texts in exc.errors.items() for text in texts]  # fmt: skip


def _load_raw(text: str, original: str) -> CollectionDef:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed"
        raise Invalid(f"not valid YAML or JSON{where}: {problem}") from None
    if isinstance(data, dict) and original and "name" not in data:
        data = {"name": original, **data}
    return load_collection(data, name=original or None)


def _load_json(text: str, original: str) -> CollectionDef:
    """The definition a plan page carries (it went through load_collection before)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise Invalid("the proposed definition was lost; open the editor again") from None
    return load_collection(data, name=original or None)


def _definition_dict(definition: CollectionDef) -> dict[str, Any]:
    """`to_dict()` plus the rename hints, which a plan needs but the registry never keeps."""
    data = definition.to_dict()
    for f in definition.fields:
        if f.renamed_from:
            data["fields"][f.name] = {**data["fields"][f.name], "renamed_from": f.renamed_from}
    return data


def _yaml(data: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)
