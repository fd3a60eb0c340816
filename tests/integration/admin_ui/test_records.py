"""The record browser over the Flask test client: columns per field, filter (and its inline
error), sort by header, cursor paging both ways without skips or repeats, the total, forms
generated from the field types with errors next to fields, edit with a version conflict, delete
with confirmation, and the relation pickers' lookup. The browser journey is in
tests/e2e/test_admin_records.py."""

from __future__ import annotations

import gzip
import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from flask.testing import FlaskClient

from cairn.auth.principal import operator
from cairn.records import collection as collections
from cairn.records import service as records
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.factories import apply_yaml, make_project
from tests.integration.admin_ui.helpers import csrf_of

SCHEMA = """
collections:
  - name: authors
    fields:
      name: {type: text, required: true, max_length: 80}
      email: {type: email, unique: true}
  - name: posts
    fields:
      title: {type: text, required: true, max_length: 200}
      body: {type: text}
      status: {type: select, values: [draft, published], default: draft}
      score: {type: number, min: 0}
      views: {type: integer, default: 0}
      published: {type: boolean, default: false}
      due: {type: date}
      posted_at: {type: datetime}
      meta: {type: json}
      link: {type: url}
      tags: {type: select, values: [a, b, c], multiple: true}
      author: {type: relation, collection: authors, on_delete: restrict}
      reviewers: {type: relation, collection: authors, multiple: true, on_delete: set_null}
  - name: counters
    fields:
      n: {type: integer}
"""


@pytest.fixture
def shop(runtime: Runtime) -> Project:
    project = make_project(runtime)
    apply_yaml(runtime, project, SCHEMA)
    return project


def create(runtime: Runtime, project: Project, name: str, data: dict[str, Any]) -> dict[str, Any]:
    with runtime.db.tenant(project.id) as conn:
        coll = collections.load(conn, project, name)
        return collections.dump(coll, records.create_record(conn, coll, operator(project.id), data))


def fetch(runtime: Runtime, project: Project, name: str, record_id: Any) -> dict[str, Any]:
    with runtime.db.tenant(project.id) as conn:
        coll = collections.load(conn, project, name)
        row = records.get_record(conn, coll, operator(project.id), UUID(str(record_id)))
        return collections.dump(coll, row)


def change(runtime: Runtime, project: Project, name: str, record_id: Any, **data: Any) -> None:
    with runtime.db.tenant(project.id) as conn:
        coll = collections.load(conn, project, name)
        records.update_record(conn, coll, operator(project.id), UUID(str(record_id)), data)


def url(project: Project, collection: str = "posts", suffix: str = "/records") -> str:
    return f"/admin/p/{project.slug}/collections/{collection}{suffix}"


def row_ids(page: str) -> list[str]:
    return re.findall(r'aria-label="Edit record ([0-9a-f-]{36})"', page)


def field_block(page: str, name: str) -> str:
    """The markup of one form field (label, control, error, hint)."""
    match = re.search(
        rf'<div class="field rec-field[^"]*">(?:(?!<div class="field).)*?id="f-{name}".*?</div>',
        page,
        re.S,
    )
    assert match, f"no field {name}"
    return match.group(0)


def link(page: str, rel: str) -> str | None:
    match = re.search(rf'rel="{rel}" href="([^"]+)"', page)
    return html.unescape(match.group(1)) if match else None


def post_form(client: FlaskClient, page_path: str, action: str | None = None, **fields: Any) -> Any:
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action or page_path, data={"csrf_token": csrf_of(page.text), **fields})


# --- the browser ------------------------------------------------------------------------------


def test_a_column_per_field_with_typed_cells(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    ann = create(runtime, shop, "authors", {"name": "Ann"})
    create(
        runtime,
        shop,
        "posts",
        {
            "title": "Hello",
            "score": 2.5,
            "published": True,
            "due": "2024-03-01",
            "posted_at": "2024-03-01T10:30:00Z",
            "meta": {"k": [1, 2]},
            "tags": ["a", "c"],
            "author": str(ann["id"]),
        },
    )
    page = admin_client.get(url(shop))
    assert page.status_code == 200
    headers = re.findall(r'<th scope="col"[^>]*>\s*(?:<a [^>]*>)?([a-z_]+)', page.text)
    assert headers == [
        "id", "title", "body", "status", "score", "views", "published", "due", "posted_at",
        "meta", "link", "tags", "author", "reviewers", "created_at", "updated_at",
    ]  # fmt: skip
    text = page.text
    for cell in ("Hello", "2.5", "Yes", "2024-03-01", "2024-03-01 10:30 UTC", "a, c"):
        assert f">{cell}<" in text, cell
    assert "{&#34;k&#34;: [1, 2]}" in text
    # The relation shows the related record's name and links to it.
    assert f'/collections/authors/records/{ann["id"]}">Ann</a>' in text
    assert 'aria-current="page">posts</a>' in text  # the collection tabs
    assert "<script>" not in text and "style=" not in text and "onclick" not in text
    assert "records.css" in text and "records.js" in text


def test_empty_states_say_what_to_do(admin_client: FlaskClient, shop: Project) -> None:
    empty = admin_client.get(url(shop)).text
    assert "No records in posts yet" in empty and url(shop, suffix="/records/new") in empty
    filtered = admin_client.get(url(shop), query_string={"filter": 'title = "x"'}).text
    assert "No records match this filter" in filtered and "clear it" in filtered


def test_filter_and_its_error_inline(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    for i in range(4):
        create(runtime, shop, "posts", {"title": f"p{i}", "status": ["draft", "published"][i % 2]})
    page = admin_client.get(url(shop), query_string={"filter": 'status = "published"'})
    assert page.status_code == 200
    assert len(row_ids(page.text)) == 2
    assert 'value="status = &#34;published&#34;"' in page.text  # the box keeps the filter

    bad = admin_client.get(url(shop), query_string={"filter": "nope = 1"})
    assert bad.status_code == 400
    block = re.search(r'<div class="field grow invalid">.*?</div>', bad.text, re.S)
    assert block, bad.text
    assert 'aria-invalid="true"' in block.group(0) and 'id="filter-error"' in block.group(0)
    assert "nope" in block.group(0)
    assert "<table" not in bad.text


def test_sort_by_clicking_headers(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    for title, score in (("b", 2), ("a", 3), ("c", 1)):
        create(runtime, shop, "posts", {"title": title, "score": score})

    def titles(page: str) -> list[str]:
        return re.findall(r"<td>([abc])</td>", page)

    first = admin_client.get(url(shop)).text
    assert titles(first) == ["c", "a", "b"]  # newest first by default
    by_title = admin_client.get(html.unescape(re.findall(r'href="([^"]*sort=title)"', first)[0]))
    assert titles(by_title.text) == ["a", "b", "c"]
    assert 'aria-sort="ascending"' in by_title.text
    # The same header again sorts descending.
    again = re.findall(r'href="([^"]*sort=-title)"', by_title.text)[0]
    assert titles(admin_client.get(html.unescape(again)).text) == ["c", "b", "a"]
    by_score = admin_client.get(url(shop), query_string={"sort": "-score"}).text
    assert titles(by_score) == ["a", "b", "c"] and 'aria-sort="descending"' in by_score
    # json and multiple fields have no sort link; a bad sort falls back with a message.
    assert "sort=meta" not in first and "sort=tags" not in first
    bad = admin_client.get(url(shop), query_string={"sort": "meta"})
    assert bad.status_code == 400 and "cannot be sorted" in bad.text


def test_next_and_previous_never_skip_or_repeat(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    for i in range(60):
        create(runtime, shop, "counters", {"n": i % 7})  # many ties: id breaks them
    start = admin_client.get(
        url(shop, "counters"), query_string={"sort": "n", "limit": 25, "count": "1"}
    ).text
    assert link(start, "prev") is None and ">60</strong> records" in start
    pages = [row_ids(start)]
    forward = [start]
    next_url = link(start, "next")
    inserted = False
    while next_url:
        if not inserted:  # rows written meanwhile sort before the position: no effect
            create(runtime, shop, "counters", {"n": -1})
            inserted = True
        page = admin_client.get(next_url).text
        forward.append(page)
        pages.append(row_ids(page))
        next_url = link(page, "next")
    seen = [i for ids in pages for i in ids]
    assert [len(p) for p in pages] == [25, 25, 10]
    assert len(seen) == len(set(seen)) == 60
    # Back again: the same pages in reverse, ending on the first page.
    back = link(forward[-1], "prev")
    assert back is not None
    middle = admin_client.get(back).text
    assert row_ids(middle) == pages[1]
    assert link(middle, "next") is not None
    again = link(middle, "prev")
    assert again is not None
    before = admin_client.get(again).text
    assert row_ids(before) == pages[0]
    # The row inserted meanwhile lies before it: one more step back reaches the first page,
    # which now starts with that row.
    start_again = link(before, "prev")
    assert start_again is not None
    first = admin_client.get(start_again).text
    assert row_ids(first)[1:] == pages[0][:24] and link(first, "prev") is None
    # A cursor that was tampered with is refused, with a way back.
    broken = admin_client.get(url(shop, "counters"), query_string={"cursor": "x.y"})
    assert broken.status_code == 400 and "first page" in broken.text


@pytest.mark.parametrize("sort", ["n", "-n"])
def test_paging_back_keeps_the_order_of_nulls(
    admin_client: FlaskClient, runtime: Runtime, shop: Project, sort: str
) -> None:
    for i in range(55):
        create(runtime, shop, "counters", {"n": None if i % 3 == 0 else i % 4})
    pages, next_url = [], url(shop, "counters") + f"?sort={sort}"
    while next_url:
        page = admin_client.get(next_url).text
        pages.append(page)
        next_url = link(page, "next")
    assert len(pages) == 3
    forward = [row_ids(p) for p in pages]
    assert len({i for ids in forward for i in ids}) == 55
    back = link(pages[2], "prev")
    assert back is not None and row_ids(admin_client.get(back).text) == forward[1]
    middle = admin_client.get(back).text
    again = link(middle, "prev")
    assert again is not None and row_ids(admin_client.get(again).text) == forward[0]


def test_total_only_when_asked(admin_client: FlaskClient, runtime: Runtime, shop: Project) -> None:
    for i in range(3):
        create(runtime, shop, "posts", {"title": f"p{i}", "status": "published" if i else "draft"})
    plain = admin_client.get(url(shop)).text
    assert "3 on this page" in plain and "count all" in plain and "</strong> records" not in plain
    counted = admin_client.get(
        url(shop), query_string={"count": "1", "filter": 'status = "published"'}
    ).text
    assert "<strong>2</strong> records match the filter" in counted


# --- create and edit ------------------------------------------------------------------------


def test_create_form_has_a_control_per_type(admin_client: FlaskClient, shop: Project) -> None:
    page = admin_client.get(url(shop, suffix="/records/new"))
    assert page.status_code == 200
    text = page.text
    assert 'name="csrf_token"' in text
    assert re.search(r'<textarea id="f-body" name="f.body"', text)
    assert re.search(r'<input id="f-title" name="f.title" required maxlength="200"', text)
    assert 'type="number"' in field_block(text, "views") and 'step="1"' in field_block(
        text, "views"
    )
    assert 'step="any"' in field_block(text, "score") and 'min="0"' in field_block(text, "score")
    assert 'type="checkbox"' in field_block(text, "published")
    assert 'type="date"' in field_block(text, "due")
    assert 'type="datetime-local"' in field_block(text, "posted_at")
    assert "in UTC" in field_block(text, "posted_at")
    assert "data-json" in field_block(text, "meta") and 'type="url"' in field_block(text, "link")
    assert '<option value="draft" selected>' in field_block(text, "status")  # the default
    assert "multiple" in field_block(text, "tags")
    author = field_block(text, "author")
    assert "data-lookup=" in author and "a record in authors" in author
    assert "data-multiple" in field_block(text, "reviewers")
    for name in ("title", "views", "meta", "author"):  # a label for every control
        assert f'<label for="f-{name}">{name}</label>' in text


def test_create_shows_errors_next_to_fields(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    new = url(shop, suffix="/records/new")
    bad = post_form(
        admin_client,
        new,
        **{
            "f.title": "",
            "f.views": "1.5",
            "f.score": "-3",
            "f.meta": '{"a": 1,}',
            "f.link": "not a url",
            "f.author": "nobody",
        },
    )
    assert bad.status_code == 422
    expectations = {
        "title": "Missing data",
        "views": "must be a whole number",
        "score": "greater than or equal to 0",
        "meta": "is not valid JSON",
        "link": "must be a URL",
        "author": "must be a record id",
    }
    for name, message in expectations.items():
        block = field_block(bad.text, name)
        assert 'class="error"' in block and message in block, (name, block)
        assert 'aria-invalid="true"' in block
    # What was typed stays in the form.
    assert "{&#34;a&#34;: 1,}" in field_block(bad.text, "meta")
    assert 'value="1.5"' in field_block(bad.text, "views")


def test_create_reads_every_type(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    ann = create(runtime, shop, "authors", {"name": "Ann"})
    bob = create(runtime, shop, "authors", {"name": "Bob"})
    created = post_form(
        admin_client,
        url(shop, suffix="/records/new"),
        **{
            "f.title": "Typed",
            "f.body": "line 1\r\nline 2",
            "f.status": "published",
            "f.score": "2.5",
            "f.views": "7",
            "f.published": "on",
            "f.due": "2024-05-02",
            "f.posted_at": "2024-05-02T13:45",
            "f.meta": '{"nested": [1, "two", null]}',
            "f.link": "https://example.test/x",
            "f.tags": ["a", "c"],
            "f.author": str(ann["id"]),
            "f.reviewers": f"{ann['id']}, {bob['id']}",
        },
    )
    assert created.status_code == 302, created.text
    listing = admin_client.get(created.headers["Location"]).text
    assert "created" in listing
    record = fetch(runtime, shop, "posts", row_ids(listing)[0])
    assert record["title"] == "Typed" and record["body"] == "line 1\nline 2"
    assert record["score"] == 2.5 and record["views"] == 7 and record["published"] is True
    assert record["due"].isoformat() == "2024-05-02"
    assert record["posted_at"] == datetime(2024, 5, 2, 13, 45, tzinfo=UTC)
    assert record["meta"] == {"nested": [1, "two", None]}
    assert record["tags"] == ["a", "c"] and record["author"] == ann["id"]
    assert record["reviewers"] == [ann["id"], bob["id"]]
    # Left empty: the defaults apply.
    plain = post_form(admin_client, url(shop, suffix="/records/new"), **{"f.title": "Plain"})
    assert plain.status_code == 302
    listing = admin_client.get(url(shop)).text
    defaults = fetch(runtime, shop, "posts", row_ids(listing)[0])
    assert defaults["status"] == "draft" and defaults["views"] == 0 and defaults["meta"] is None


def test_unique_violation_is_shown_on_the_field(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    create(runtime, shop, "authors", {"name": "Ann", "email": "ann@example.test"})
    taken = post_form(
        admin_client,
        url(shop, "authors", "/records/new"),
        **{"f.name": "Other", "f.email": "ann@example.test"},
    )
    assert taken.status_code == 409
    assert "must be unique" in field_block(taken.text, "email")


def test_edit_sends_only_what_changed(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    post = create(
        runtime,
        shop,
        "posts",
        {"title": "Old", "posted_at": "2024-01-01T10:00:00.123456Z", "meta": {"b": 1, "a": 2}},
    )
    edit = url(shop, suffix=f"/records/{post['id']}")
    form = admin_client.get(edit).text
    assert 'name="_version" value="1"' in form
    assert 'value="2024-01-01T10:00:00.123"' in field_block(form, "posted_at")
    fields = {
        "f.title": "New",
        "f.body": "",
        "f.status": "draft",
        "f.score": "",
        "f.views": "0",
        "f.due": "",
        "f.posted_at": "2024-01-01T10:00:00.123",  # as the browser sends it back
        "f.meta": '{"b": 1,\r\n "a": 2}',  # reformatted, the same value
        "f.link": "",
        "f.author": "",
        "f.reviewers": "",
    }
    saved = admin_client.post(edit, data={"csrf_token": csrf_of(form), "_version": "1", **fields})
    assert saved.status_code == 302
    after = fetch(runtime, shop, "posts", post["id"])
    assert after["title"] == "New" and after["version"] == 2
    assert after["posted_at"] == post["posted_at"]  # microseconds kept: not sent
    assert "Record saved" in admin_client.get(saved.headers["Location"]).text
    # Nothing changed: no write, no new version.
    same = admin_client.post(edit, data={"csrf_token": csrf_of(form), "_version": "2", **fields})
    assert same.status_code == 302
    assert fetch(runtime, shop, "posts", post["id"])["version"] == 2
    # Clearing a field stores null; a required one refuses, next to the field.
    cleared = admin_client.post(
        edit,
        data={"csrf_token": csrf_of(form), "_version": "2", **fields, "f.title": ""},
    )
    assert cleared.status_code == 422
    assert "may not be null" in field_block(cleared.text, "title")


def test_values_a_control_cannot_show_exactly_survive_a_save(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    post = create(runtime, shop, "posts", {"title": "two\nlines", "body": "\nindented"})
    edit = url(shop, suffix=f"/records/{post['id']}")
    form = admin_client.get(edit).text
    # The textarea keeps the leading newline (HTML drops only the one after the tag).
    assert re.search(r'name="f.body"[^>]*>\n\nindented</textarea>', form)
    as_browser_sends = {  # a one-line input drops line breaks; textareas send CRLF
        "f.title": "twolines", "f.body": "\r\nindented", "f.status": "draft",
        "f.views": "0", "f.score": "9",
    }  # fmt: skip
    saved = admin_client.post(
        edit, data={"csrf_token": csrf_of(form), "_version": "1", **as_browser_sends}
    )
    assert saved.status_code == 302
    after = fetch(runtime, shop, "posts", post["id"])
    assert after["score"] == 9 and after["title"] == "two\nlines" and after["body"] == "\nindented"


def base_of(page: str) -> str:
    match = re.search(r'name="_base" value="([^"]*)"', page)
    assert match, page
    return html.unescape(match.group(1))


def test_editing_a_record_someone_changed_is_a_conflict(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    post = create(runtime, shop, "posts", {"title": "Mine", "views": 1})
    edit = url(shop, suffix=f"/records/{post['id']}")
    form = admin_client.get(edit).text
    change(runtime, shop, "posts", post["id"], views=42)  # someone else saves: version 2
    mine = {"csrf_token": csrf_of(form), "_version": "1", "_base": base_of(form),
            "f.title": "Mine, edited", "f.views": "1", "f.status": "draft"}  # fmt: skip
    conflict = admin_client.post(edit, data=mine)
    assert conflict.status_code == 409
    assert "Someone else saved this record" in conflict.text
    assert "None of your changes collides" in conflict.text
    # Yours where you changed something, theirs where you did not; nothing written yet.
    assert 'value="Mine, edited"' in field_block(conflict.text, "title")
    assert 'value="42"' in field_block(conflict.text, "views")
    assert "Changed meanwhile" not in conflict.text
    assert 'name="_version" value="2"' in conflict.text
    unchanged = fetch(runtime, shop, "posts", post["id"])
    assert unchanged["title"] == "Mine" and unchanged["views"] == 42  # no silent overwrite
    merged = admin_client.post(
        edit,
        data={**mine, "_version": "2", "_base": base_of(conflict.text), "f.views": "42"},
    )
    assert merged.status_code == 302
    final = fetch(runtime, shop, "posts", post["id"])
    assert final["title"] == "Mine, edited" and final["views"] == 42 and final["version"] == 3


def test_a_field_both_changed_is_overwritten_only_deliberately(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    post = create(runtime, shop, "posts", {"title": "Start", "views": 1})
    edit = url(shop, suffix=f"/records/{post['id']}")
    form = admin_client.get(edit).text
    change(runtime, shop, "posts", post["id"], title="Theirs")
    mine = {"csrf_token": csrf_of(form), "_version": "1", "_base": base_of(form),
            "f.title": "Mine", "f.views": "1", "f.status": "draft"}  # fmt: skip
    conflict = admin_client.post(edit, data=mine)
    assert conflict.status_code == 409
    title = field_block(conflict.text, "title")
    assert 'value="Mine"' in title and "Changed meanwhile" in title and ">Theirs<" in title
    assert "Overwrite with my values" in conflict.text and "discard your changes" in conflict.text
    assert fetch(runtime, shop, "posts", post["id"])["title"] == "Theirs"
    # A form without fingerprints (or a tampered one) counts every field as changed.
    blind = admin_client.post(edit, data={**mine, "_base": "not json"})
    assert blind.status_code == 409 and "Changed meanwhile" in field_block(blind.text, "title")
    overwrite = admin_client.post(
        edit, data={**mine, "_version": "2", "_base": base_of(conflict.text)}
    )
    assert overwrite.status_code == 302
    assert fetch(runtime, shop, "posts", post["id"])["title"] == "Mine"


def test_forms_need_the_csrf_token(admin_client: FlaskClient, shop: Project) -> None:
    refused = admin_client.post(url(shop, suffix="/records/new"), data={"f.title": "x"})
    assert refused.status_code == 400


def test_unknown_collection_or_record_is_404(admin_client: FlaskClient, shop: Project) -> None:
    assert admin_client.get(url(shop, "nope")).status_code == 404
    assert admin_client.get(url(shop, suffix="/records/not-an-id")).status_code == 404
    missing = url(shop, suffix="/records/00000000-0000-7000-8000-000000000000")
    assert admin_client.get(missing).status_code == 404


# --- delete -----------------------------------------------------------------------------------


def test_delete_asks_first_and_checks_the_version(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    post = create(runtime, shop, "posts", {"title": "Doomed"})
    path = url(shop, suffix=f"/records/{post['id']}/delete")
    confirm = admin_client.get(path)
    assert confirm.status_code == 200
    assert "Delete “Doomed”?" in confirm.text and "cannot be undone" in confirm.text
    token = csrf_of(confirm.text)
    change(runtime, shop, "posts", post["id"], title="Doomed, changed")
    stale = admin_client.post(path, data={"csrf_token": token, "_version": "1"})
    assert stale.status_code == 409 and "Someone else changed this record" in stale.text
    assert "Doomed, changed" in stale.text
    done = admin_client.post(path, data={"csrf_token": token, "_version": "2"})
    assert done.status_code == 302
    assert "deleted" in admin_client.get(done.headers["Location"]).text
    assert admin_client.get(url(shop, suffix=f"/records/{post['id']}")).status_code == 404


def test_delete_refused_while_related(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    ann = create(runtime, shop, "authors", {"name": "Ann"})
    create(runtime, shop, "posts", {"title": "By Ann", "author": str(ann["id"])})
    path = url(shop, "authors", f"/records/{ann['id']}/delete")
    confirm = admin_client.get(path).text
    assert "posts.author" in confirm and "refused while any record links here" in confirm
    refused = admin_client.post(path, data={"csrf_token": csrf_of(confirm), "_version": "1"})
    assert refused.status_code == 409 and "still related from posts.author" in refused.text


# --- the relation pickers' lookup ---------------------------------------------------------------


def test_lookup_finds_records_by_text_or_id(
    admin_client: FlaskClient, runtime: Runtime, shop: Project
) -> None:
    ann = create(runtime, shop, "authors", {"name": "Ann Arbor", "email": "ann@example.test"})
    create(runtime, shop, "authors", {"name": "Bob", "email": "bob@example.test"})
    lookup = url(shop, "authors", "/lookup")
    by_text = admin_client.get(lookup, query_string={"q": "arb"}).get_json()
    assert by_text == {"items": [{"id": str(ann["id"]), "label": "Ann Arbor"}]}
    by_mail = admin_client.get(lookup, query_string={"q": "bob@"}).get_json()
    assert [i["label"] for i in by_mail["items"]] == ["Bob"]
    by_id = admin_client.get(lookup, query_string={"q": str(ann["id"])}).get_json()
    assert [i["label"] for i in by_id["items"]] == ["Ann Arbor"]
    everyone = admin_client.get(lookup).get_json()
    assert [i["label"] for i in everyone["items"]] == ["Bob", "Ann Arbor"]
    quotes = admin_client.get(lookup, query_string={"q": 'a" || name != "'}).get_json()
    assert quotes == {"items": []}  # typed text is a value, never filter syntax
    no_text = admin_client.get(url(shop, "counters", "/lookup"), query_string={"q": "x"})
    assert no_text.status_code == 400 and "no text fields" in no_text.get_json()["error"]


# --- page weight --------------------------------------------------------------------------------


@pytest.fixture
def full_page(runtime: Runtime, shop: Project) -> Iterator[Project]:
    ann = create(runtime, shop, "authors", {"name": "Ann"})
    for i in range(25):
        create(
            runtime,
            shop,
            "posts",
            {
                "title": f"Post number {i} with a realistic title",
                "body": "Some body text " * 8,
                "score": i * 1.5,
                "views": i,
                "due": "2024-06-01",
                "posted_at": "2024-06-01T12:00:00Z",
                "meta": {"i": i},
                "tags": ["a"],
                "author": str(ann["id"]),
            },
        )
    yield shop


def test_page_weight_of_the_record_browser(admin_client: FlaskClient, full_page: Project) -> None:
    """The record browser with a full page (25 rows, 13 fields): HTML + CSS + JS in bytes."""
    page = admin_client.get(url(full_page))
    assert page.status_code == 200 and len(row_ids(page.text)) == 25
    assets = re.findall(r'(?:src|href)="(/admin/static/[^"]+)"', page.text)
    assert sorted(a.rsplit("/", 1)[1] for a in assets) == [
        "admin.css", "admin.js", "records.css", "records.js",
    ]  # fmt: skip
    sizes = {"html": len(page.data)}
    compressed = len(gzip.compress(page.data))
    for asset in assets:
        body = admin_client.get(asset)
        assert body.status_code == 200
        sizes[asset.rsplit("/", 1)[1]] = len(body.data)
        compressed += len(gzip.compress(body.data))
        body.close()
    total = sum(sizes.values())
    print(f"\nrecord browser page weight: {total} bytes ({compressed} gzipped) {sizes}")
    assert total < 80_000
