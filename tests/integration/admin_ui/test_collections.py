"""The schema editor over the Flask test client: list, create with the per-field form, the
plan first, apply, destructive confirmation, the raw YAML view, rule errors, drop, CSRF."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Connection, select, text

from cairn.audit.models import audit_log
from cairn.runtime import Runtime
from cairn.schema import engine
from cairn.schema import service as schema
from cairn.schema.definitions import load_collection
from cairn.tenancy.service import Project
from tests.integration.admin_ui.helpers import csrf_of


def base(project: Project) -> str:
    return f"/admin/p/{project.slug}/collections"


def put(runtime: Runtime, project: Project, definition: dict[str, Any]) -> None:
    with runtime.db.owner(project.id) as conn:
        schema.put_collection(
            conn, project, load_collection(definition), actor="test",
            app_role=runtime.settings.db_app_role,
        )  # fmt: skip


def insert_row(conn: Connection, project: Project, table: str, field: str, value: str) -> None:
    """One record with `field` set to the SQL `value`."""
    conn.execute(
        text(
            f'INSERT INTO "{project.schema_name}"."{table}" (id, "{field}") '
            f"VALUES (gen_random_uuid(), {value})"
        )
    )


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no hidden {name}"
    return html.unescape(match.group(1))


def editor_form(token: str, name: str = "posts", **extra: str) -> dict[str, str]:
    """The new-collection form with three fields typed in."""
    return {
        "csrf_token": token, "source": "form", "original": "", "name": name,
        "field_count": "3", "index_count": "1",
        "fields-0-name": "title", "fields-0-type": "text", "fields-0-required": "on",
        "fields-0-max_length": "200",
        "fields-1-name": "status", "fields-1-type": "select", "fields-1-values": "draft, published",
        "fields-1-default": "draft",
        # Options of other types are rendered for every row; they are ignored.
        "fields-1-min": "5",
        "fields-2-name": "score", "fields-2-type": "number", "fields-2-min": "0",
        "indexes-0-fields": "status, created_at",
        "rule-list-mode": "public", "rule-view-mode": "public",
        "rule-create-mode": "expr", "rule-create": "@request.auth.id != ''",
        "rule-update-mode": "locked", "rule-delete-mode": "locked",
        **extra,
    }  # fmt: skip


def test_an_empty_project_says_what_to_do(admin_client: FlaskClient, project: Project) -> None:
    page = admin_client.get(base(project))
    assert page.status_code == 200
    assert "No collections yet" in page.text
    assert f'href="{base(project)}/-/new"' in page.text
    assert 'aria-current="page">Collections' in page.text  # the sidebar marks the section


def test_the_list_shows_fields_records_and_links(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    put(runtime, project, {"name": "authors", "fields": {"name": {"type": "text"}}})
    put(runtime, project, {"name": "posts", "fields": {
        "title": {"type": "text"}, "author": {"type": "relation", "collection": "authors"},
    }})  # fmt: skip
    page = admin_client.get(base(project)).text
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>")[1], re.S)
    assert len(rows) == 2 and "authors" in rows[0] and "posts" in rows[1]
    assert re.search(r'class="num">2</td>', rows[1])
    assert f'href="{base(project)}/posts"' in page
    assert f'href="{base(project)}/posts/records"' in page  # the record browser is built in
    assert "Records (≈)" in page


def test_create_through_the_form_plans_first_then_applies(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    new = admin_client.get(f"{base(project)}/-/new")
    assert new.status_code == 200 and 'name="fields-0-name"' in new.text
    plan = admin_client.post(f"{base(project)}/-/plan", data=editor_form(csrf_of(new.text)))
    assert plan.status_code == 200
    assert "Review the plan for" in plan.text and "create collection posts" in plan.text
    assert "Safe: no data is lost" in plan.text and "allow_destructive" not in plan.text
    # Nothing exists before the confirmation …
    with runtime.db.owner(project.id) as conn:
        assert "posts" not in schema.registered(conn, project)
    # … and exactly the form's definition after it.
    fields = {k: hidden(plan.text, k) for k in ("definition", "original", "digest", "view")}
    applied = admin_client.post(
        f"{base(project)}/-/apply", data={"csrf_token": csrf_of(plan.text), **fields}
    )
    assert applied.status_code == 302
    assert applied.headers["Location"] == f"{base(project)}/posts"
    with runtime.db.owner(project.id) as conn:
        saved = schema.get_collection(conn, project, "posts").definition.to_dict()
        actors = (
            conn.execute(
                select(audit_log.c.actor).where(
                    audit_log.c.project_id == project.id,
                    audit_log.c.action == "collections.applied",
                )
            )
            .scalars()
            .all()
        )
    assert saved == {
        "name": "posts",
        "fields": {
            "title": {"type": "text", "required": True, "max_length": 200},
            "status": {"type": "select", "default": "draft", "values": ["draft", "published"]},
            "score": {"type": "number", "min": 0},
        },
        "indexes": [{"fields": ["status", "created_at"]}],
        "rules": {"list": "", "view": "", "create": "@request.auth.id != ''"},
    }
    assert len(actors) == 1 and actors[0].startswith("admin:")
    edit = admin_client.get(applied.headers["Location"])
    assert "Applied" in edit.text and 'value="title"' in edit.text


def test_the_form_round_trips_to_a_no_op_plan(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    put(runtime, project, {"name": "things", "fields": {
        "label": {"type": "text", "unique": True, "pattern": "^[a-z]+$"},
        "kind": {"type": "select", "values": ["a", "b"], "multiple": True, "default": ["a"]},
        "meta": {"type": "json", "default": {"x": [1, 2]}},
        "active": {"type": "boolean", "default": False, "required": True},
        "day": {"type": "date", "default": "2024-01-02"},
    }, "rules": {"list": "label = 'x'"}})  # fmt: skip
    page = admin_client.get(f"{base(project)}/things").text
    form = form_values(page)
    plan = admin_client.post(f"{base(project)}/-/plan", data=form)
    assert plan.status_code == 200, plan.text
    assert "Nothing to change" in plan.text and "Apply" not in plan.text


def form_values(page: str) -> dict[str, str]:
    """What a browser would post for the editor form as rendered (no script)."""
    form = page[
        page.index('id="schema-form"') : page.index("</form>", page.index('id="schema-form"'))
    ]
    form = re.sub(r"<template.*?</template>", "", form, flags=re.S)
    values: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio"):
            if " checked" in tag:
                values[name.group(1)] = (
                    value.group(1) if value and kind.group(1) == "radio" else "on"
                )
            continue
        values[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r"<option(?: value=\"([^\"]*)\")? selected>([^<]*)<", body)
        values[name] = (chosen.group(1) or chosen.group(2)) if chosen else ""
        if chosen and chosen.group(1) is not None:
            values[name] = chosen.group(1)
    values.pop("op", None)
    return values


def test_dropping_a_field_is_highlighted_and_needs_the_confirmation(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    put(runtime, project, {"name": "notes", "fields": {
        "title": {"type": "text"}, "body": {"type": "text"},
    }})  # fmt: skip
    form = form_values(admin_client.get(f"{base(project)}/notes").text)
    assert form["fields-1-name"] == "body" and form["fields-1-was"] == "body"
    form["fields-1-remove"] = "on"
    plan = admin_client.post(f"{base(project)}/-/plan", data=form)
    assert plan.status_code == 200
    assert 'class="step destructive"' in plan.text and "drop field notes.body" in plan.text
    assert 'name="allow_destructive"' in plan.text and "1 destructive" in plan.text
    fields = {k: hidden(plan.text, k) for k in ("definition", "original", "digest", "view")}
    token = csrf_of(plan.text)
    refused = admin_client.post(f"{base(project)}/-/apply", data={"csrf_token": token, **fields})
    assert (
        refused.status_code == 422 and "confirm that the destructive steps may run" in refused.text
    )
    with runtime.db.owner(project.id) as conn:
        assert schema.get_collection(conn, project, "notes").definition.field("body")
    confirmed = admin_client.post(
        f"{base(project)}/-/apply",
        data={"csrf_token": token, **fields, "allow_destructive": "on"},
    )
    assert confirmed.status_code == 302
    with runtime.db.owner(project.id) as conn:
        assert schema.get_collection(conn, project, "notes").definition.field("body") is None


def test_a_renamed_row_keeps_its_data(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    put(runtime, project, {"name": "pets", "fields": {"nick": {"type": "text"}}})
    form = form_values(admin_client.get(f"{base(project)}/pets").text)
    form["fields-0-name"] = "nickname"
    plan = admin_client.post(f"{base(project)}/-/plan", data=form)
    assert "rename field pets.nick to nickname (data kept)" in plan.text
    assert "destructive" not in plan.text.split("<ol", 1)[1].split("</ol>")[0]
    assert (
        json.loads(hidden(plan.text, "definition"))["fields"]["nickname"]["renamed_from"] == "nick"
    )
    back = admin_client.post(f"{base(project)}/-/plan", data={
        "csrf_token": csrf_of(plan.text), "source": "json", "op": "edit", "original": "pets",
        "definition": hidden(plan.text, "definition"),
    })  # fmt: skip
    assert back.status_code == 200 and "Renamed from <code>nick</code>" in back.text


def test_a_plan_that_changed_since_review_is_not_applied(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    put(runtime, project, {"name": "logs", "fields": {"line": {"type": "text"}}})
    form = form_values(admin_client.get(f"{base(project)}/logs").text)
    form["fields-0-remove"] = "on"
    plan = admin_client.post(f"{base(project)}/-/plan", data=form)
    with runtime.db.tenant(project.id) as conn:  # a record arrives meanwhile
        insert_row(conn, project, "logs", "line", "'x'")
    fields = {k: hidden(plan.text, k) for k in ("definition", "original", "digest", "view")}
    stale = admin_client.post(f"{base(project)}/-/apply", data={
        "csrf_token": csrf_of(plan.text), **fields, "allow_destructive": "on",
    })  # fmt: skip
    assert stale.status_code == 409 and "The plan changed since you reviewed it" in stale.text
    assert "1 value(s) lost" in stale.text
    with runtime.db.owner(project.id) as conn:
        assert schema.get_collection(conn, project, "logs").definition.field("line")


def test_a_blocked_plan_explains_and_offers_no_apply(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    put(runtime, project, {"name": "tasks", "fields": {"title": {"type": "text"}}})
    with runtime.db.tenant(project.id) as conn:
        insert_row(conn, project, "tasks", "title", "NULL")
    form = form_values(admin_client.get(f"{base(project)}/tasks").text)
    form["fields-0-required"] = "on"
    plan = admin_client.post(f"{base(project)}/-/plan", data=form)
    assert plan.status_code == 200
    assert "This plan cannot be applied" in plan.text and "1 record(s) have no title" in plan.text
    assert "/-/apply" not in plan.text and "Back to the editor" in plan.text


def test_errors_are_shown_next_to_their_fields(admin_client: FlaskClient, project: Project) -> None:
    token = csrf_of(admin_client.get(f"{base(project)}/-/new").text)
    form = editor_form(
        token, name="Bad Name",
        **{"fields-0-max_length": "lots", "fields-1-values": "", "fields-2-name": "title",
           "rule-update-mode": "expr", "rule-update": ""},
    )  # fmt: skip
    page = admin_client.post(f"{base(project)}/-/plan", data=form)
    assert page.status_code == 422
    text_ = page.text
    assert re.search(r'id="e-name">[^<]*lower-case letter', text_)
    assert re.search(r'id="e-fields-0-max_length">must be a whole number', text_)
    assert re.search(r'id="e-fields-1-values">select fields need a list', text_)
    assert re.search(r'id="e-fields-2-name">another field already has this name', text_)
    assert re.search(r'id="e-rule-update"[^>]*>write an expression', text_)
    assert 'value="lots"' in text_  # the input is kept as typed


def test_rule_parse_errors_are_shown_next_to_the_rule(
    admin_client: FlaskClient, project: Project
) -> None:
    token = csrf_of(admin_client.get(f"{base(project)}/-/new").text)
    form = editor_form(token, **{"rule-list-mode": "expr", "rule-list": "title = = 'x'",
                                 "rule-view-mode": "expr", "rule-view": "nope = 1"})  # fmt: skip
    page = admin_client.post(f"{base(project)}/-/plan", data=form)
    assert page.status_code == 422
    list_error = re.search(r'id="e-rule-list"[^>]*>([^<]+)<', page.text)
    view_error = re.search(r'id="e-rule-view"[^>]*>([^<]+)<', page.text)
    assert list_error and view_error
    assert "nope" in html.unescape(view_error.group(1))


def test_the_rule_check_endpoint_answers_for_the_script(
    admin_client: FlaskClient, project: Project
) -> None:
    token = csrf_of(admin_client.get(f"{base(project)}/-/new").text)
    url = f"{base(project)}/-/check-rule"
    good = admin_client.post(url, data=editor_form(token, rule_action="create"))
    assert good.status_code == 200 and good.json == {"errors": []}
    uses_a_field = admin_client.post(url, data=editor_form(
        token, rule_action="list", **{"rule-list": "score >= 10 && title ~ 'a'"}))  # fmt: skip
    assert uses_a_field.json == {"errors": []}
    bad = admin_client.post(url, data=editor_form(
        token, rule_action="list", **{"rule-list": "missing = 1"}))  # fmt: skip
    assert bad.json is not None and "missing" in bad.json["errors"][0]
    broken = admin_client.post(url, data=editor_form(
        token, rule_action="list", **{"rule-list": "(title = 'a'"}))  # fmt: skip
    assert broken.json is not None and len(broken.json["errors"]) == 1
    unsafe = admin_client.post(url, data={"rule_action": "list", "rule-list": "x = 1"})
    assert unsafe.status_code == 400  # the CSRF token is required here too


def test_add_field_and_type_change_without_the_script(
    admin_client: FlaskClient, project: Project
) -> None:
    token = csrf_of(admin_client.get(f"{base(project)}/-/new").text)
    form = editor_form(token, op="add_field")
    added = admin_client.post(f"{base(project)}/-/plan", data=form)
    assert added.status_code == 200 and 'name="fields-3-name"' in added.text
    assert (
        'name="field_count" value="4"' in added.text
        and 'data-focus="f-fields-3-name"' in added.text
    )
    assert 'value="title"' in added.text  # what was typed survives
    form = editor_form(token, op="refresh", **{"fields-2-type": "relation"})
    refreshed = admin_client.post(f"{base(project)}/-/plan", data=form).text
    row = refreshed[refreshed.index('name="fields-2-was"') :]
    relation_box = re.search(r'<div class="field opt"[^>]*data-types="relation"([^>]*)>', row)
    assert relation_box and "hidden" not in relation_box.group(1)
    minimum = re.search(r'data-types="integer number"([^>]*)>', row)
    assert minimum and "hidden" in minimum.group(1)


def test_the_raw_view_edits_and_reports_errors(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    put(runtime, project, {"name": "cards", "fields": {"front": {"type": "text"}}})
    raw_page = admin_client.get(f"{base(project)}/cards?view=raw")
    assert "name: cards" in raw_page.text and "front:" in raw_page.text
    token = csrf_of(raw_page.text)
    url = f"{base(project)}/-/plan"
    broken = admin_client.post(url, data={
        "csrf_token": token, "source": "raw", "original": "cards", "raw": "fields: {front: [",
    })  # fmt: skip
    assert broken.status_code == 422 and "not valid YAML or JSON at line" in broken.text
    invalid = admin_client.post(url, data={
        "csrf_token": token, "source": "raw", "original": "cards",
        "raw": "fields:\n  front: {type: text}\n  back: {type: texty}\n",
    })  # fmt: skip
    assert invalid.status_code == 422 and "fields.back.type: must be one of" in invalid.text
    renamed = admin_client.post(url, data={
        "csrf_token": token, "source": "raw", "original": "cards", "raw": "name: other\nfields: {}",
    })  # fmt: skip
    assert renamed.status_code == 422 and "does not match" in renamed.text
    as_json = json.dumps({"name": "cards", "fields": {"front": {"type": "text"},
                                                      "back": {"type": "text"}}})  # fmt: skip
    plan = admin_client.post(url, data={
        "csrf_token": token, "source": "raw", "original": "cards", "raw": as_json,
    })  # fmt: skip
    assert plan.status_code == 200 and "add text field cards.back" in plan.text
    assert hidden(plan.text, "view") == "raw"
    to_form = admin_client.post(url, data={
        "csrf_token": token, "source": "raw", "original": "cards", "raw": as_json, "op": "to_form",
    })  # fmt: skip
    assert to_form.status_code == 200 and 'value="back"' in to_form.text


def test_switching_to_raw_keeps_the_unsaved_form(
    admin_client: FlaskClient, project: Project
) -> None:
    token = csrf_of(admin_client.get(f"{base(project)}/-/new").text)
    page = admin_client.post(f"{base(project)}/-/plan", data=editor_form(token, op="to_raw"))
    assert page.status_code == 200 and "max_length: 200" in html.unescape(page.text)


def test_a_new_collection_cannot_take_an_existing_name(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    put(runtime, project, {"name": "posts", "fields": {}})
    token = csrf_of(admin_client.get(f"{base(project)}/-/new").text)
    page = admin_client.post(f"{base(project)}/-/plan", data=editor_form(token))
    assert page.status_code == 409 and re.search(
        r'id="e-name">[^<]*exists; edit it instead', page.text
    )


def test_relations_to_missing_collections_are_refused_in_place(
    admin_client: FlaskClient, project: Project
) -> None:
    token = csrf_of(admin_client.get(f"{base(project)}/-/new").text)
    form = editor_form(token, **{"fields-2-type": "relation", "fields-2-collection": "ghosts"})
    page = admin_client.post(f"{base(project)}/-/plan", data=form)
    assert page.status_code == 422
    assert re.search(r"id=\"e-fields-2-collection\">no collection &#39;ghosts&#39;", page.text)


def test_drop_a_collection_with_its_plan_and_typed_confirmation(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    put(runtime, project, {"name": "authors", "fields": {"name": {"type": "text"}}})
    put(runtime, project, {"name": "books", "fields": {
        "author": {"type": "relation", "collection": "authors"},
    }})  # fmt: skip
    blocked = admin_client.get(f"{base(project)}/authors/delete")
    assert blocked.status_code == 200 and "<code>books.author</code>" in blocked.text
    assert "cannot be dropped yet" in blocked.text and 'name="confirm"' not in blocked.text
    page = admin_client.get(f"{base(project)}/books/delete")
    assert "drop collection books and its 0 record(s)" in page.text
    token, digest = csrf_of(page.text), hidden(page.text, "digest")
    wrong = admin_client.post(
        f"{base(project)}/books/delete",
        data={"csrf_token": token, "digest": digest, "confirm": "nope"},
    )
    assert wrong.status_code == 422 and "type books to confirm" in wrong.text
    dropped = admin_client.post(
        f"{base(project)}/books/delete",
        data={"csrf_token": token, "digest": digest, "confirm": "books"},
    )
    assert dropped.status_code == 302 and dropped.headers["Location"] == base(project)
    with runtime.db.owner(project.id) as conn:
        assert "books" not in schema.registered(conn, project)
    assert "books and its records were dropped" in admin_client.get(base(project)).text
    assert admin_client.get(f"{base(project)}/books").status_code == 404


def test_every_form_needs_the_csrf_token(
    admin_client: FlaskClient, runtime: Runtime, project: Project
) -> None:
    put(runtime, project, {"name": "keep", "fields": {}})
    for path in ("/-/plan", "/-/apply", "/keep/delete", "/-/check-rule"):
        refused = admin_client.post(base(project) + path, data={"confirm": "keep"})
        assert refused.status_code == 400, path
    for path in ("", "/-/new", "/keep", "/keep/delete"):
        page = admin_client.get(base(project) + path).text
        forms = page.count("<form")
        assert page.count('name="csrf_token"') >= forms, path
        assert "<script>" not in page and "style=" not in page and " onclick" not in page


def test_pages_need_a_signed_in_admin(client: FlaskClient, project: Project) -> None:
    response = client.get(base(project))
    assert response.status_code == 302 and "/admin/sign-in" in response.headers["Location"]


def test_applying_and_dropping_plan_once(
    admin_client: FlaskClient, runtime: Runtime, project: Project, monkeypatch: Any
) -> None:
    """The reviewed plan is planned again once and run if it still matches: planning counts
    records and checks for duplicates, so it is not done twice per confirmation."""
    planned: list[int] = []
    real_plan = engine.plan

    def counting(*args: Any, **kwargs: Any) -> engine.Plan:
        planned.append(1)
        return real_plan(*args, **kwargs)

    new = admin_client.get(f"{base(project)}/-/new")
    plan = admin_client.post(f"{base(project)}/-/plan", data=editor_form(csrf_of(new.text)))
    fields = {k: hidden(plan.text, k) for k in ("definition", "original", "digest", "view")}
    monkeypatch.setattr(engine, "plan", counting)
    applied = admin_client.post(
        f"{base(project)}/-/apply", data={"csrf_token": csrf_of(plan.text), **fields}
    )
    assert applied.status_code == 302 and len(planned) == 1
    monkeypatch.setattr(engine, "plan", real_plan)
    page = admin_client.get(f"{base(project)}/posts/delete")
    monkeypatch.setattr(engine, "plan", counting)
    dropped = admin_client.post(
        f"{base(project)}/posts/delete",
        data={"csrf_token": csrf_of(page.text), "digest": hidden(page.text, "digest"),
              "confirm": "posts"},
    )  # fmt: skip
    assert dropped.status_code == 302 and len(planned) == 2
    with runtime.db.owner(project.id) as conn:
        assert "posts" not in schema.registered(conn, project)
