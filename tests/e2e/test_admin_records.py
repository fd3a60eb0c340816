"""The record browser in a real browser against a real `cairn serve`: add records through the
generated form (errors next to fields, JSON checked as you type, a relation picked by searching
the related collection), filter, sort by header, page forwards and back, edit a record someone
else changes meanwhile (a conflict, then a deliberate overwrite), delete with confirmation.
Screenshots land in test-output/screenshots/records-*.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.admin import sign_in
from tests.e2e.browser import screenshot
from tests.e2e.serve import ServeProcess, run_cli

PROJECT_FILE = """
collections:
  - name: authors
    fields:
      name: {type: text, required: true, max_length: 80}
      email: {type: email}
  - name: posts
    fields:
      title: {type: text, required: true, max_length: 120}
      status: {type: select, values: [draft, published], default: draft}
      score: {type: integer, min: 0}
      due: {type: date}
      posted_at: {type: datetime}
      featured: {type: boolean}
      meta: {type: json}
      author: {type: relation, collection: authors}
"""
RECORDS = "/admin/p/shop/collections/posts/records"


@pytest.fixture(scope="module")
def shop(admin_server: ServeProcess, tmp_path_factory: pytest.TempPathFactory) -> httpx.Client:
    """Project `shop` with authors and 30 posts, and an HTTP client with an admin key."""
    data = admin_server.data_dir
    created = run_cli(data, "projects", "create", "shop", "--name", "Shop")
    assert created.returncode == 0, created.stderr
    project_file: Path = tmp_path_factory.mktemp("records") / "cairn.yaml"
    project_file.write_text(PROJECT_FILE)
    applied = run_cli(data, "apply", str(project_file), "--project", "shop")
    assert applied.returncode == 0, applied.stderr
    issued = run_cli(data, "keys", "create", "--project", "shop", "--scope", "admin", "--json")
    assert issued.returncode == 0, issued.stderr
    secret = json.loads(issued.stdout)["secret"]
    http = httpx.Client(
        base_url=f"{admin_server.base}/api/v1/projects/shop/collections",
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    for name in ("Ada Lovelace", "Grace Hopper"):
        assert http.post("/authors/records", json={"name": name}).status_code == 201
    for i in range(30):
        body = {"title": f"Post {i:02d}", "score": (i * 7) % 31, "status": "published"}
        assert http.post("/posts/records", json=body).status_code == 201
    return http


def titles(page: Page) -> list[str]:
    return page.locator("table.records tbody tr td:nth-child(2)").all_inner_texts()


def record(http: httpx.Client, record_id: str) -> dict[str, Any]:
    found = http.get(f"/posts/records/{record_id}")
    assert found.status_code == 200
    return found.json()  # type: ignore[no-any-return]


def test_add_filter_sort_page(page: Page, shop: httpx.Client) -> None:
    sign_in(page)
    page.goto(RECORDS)
    expect(page.get_by_role("heading", name="posts", level=1)).to_be_visible()
    expect(page.locator("table.records tbody tr")).to_have_count(25)
    screenshot(page, "records-browser")

    # A new record: the server's errors sit next to their fields.
    page.get_by_role("link", name="New record").click()
    expect(page.get_by_role("heading", name="New record in posts")).to_be_visible()
    page.get_by_label("score").fill("-4")
    page.get_by_role("button", name="Create record").click()
    expect(page.locator("#e-title")).to_contain_text("Missing data")
    expect(page.locator("#e-score")).to_contain_text("greater than or equal to 0")
    expect(page.get_by_label("title")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "records-new-errors")

    page.get_by_label("title").fill("Hello from the browser")
    page.get_by_label("score").fill("12")
    page.get_by_label("status").select_option("published")
    page.get_by_label("due").fill("2024-05-01")
    page.get_by_label("posted_at").fill("2024-05-01T09:30")
    page.get_by_label("featured").check()
    # JSON is checked while typing; a broken value is not sent.
    meta = page.get_by_label("meta")
    meta.fill('{"tags": ["a",]}')
    expect(page.locator("#f-meta-json")).to_contain_text("Not valid JSON")
    meta.fill('{"tags": ["a", "b"]}')
    expect(page.locator("#f-meta-json")).to_be_hidden()
    # The relation picker searches authors by text and fills in the id.
    search = page.get_by_role("combobox", name="Search authors")
    search.fill("love")
    found = page.get_by_role("listbox").get_by_role("option")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("Ada Lovelace")
    screenshot(page, "records-new-picker")
    search.press("Enter")
    ada = shop.get("/authors/records", params={"filter": 'name = "Ada Lovelace"'}).json()
    expect(page.get_by_label("author", exact=True)).to_have_value(ada["items"][0]["id"])
    expect(page.get_by_text("Selected Ada Lovelace.")).to_be_visible()
    page.get_by_role("button", name="Create record").click()
    expect(page.get_by_role("status").first).to_contain_text("created")

    # Filter, and a broken filter explained in place.
    page.get_by_label("Filter").fill('title ~ "browser" && featured = true')
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    row = page.locator("table.records tbody tr").first
    expect(row).to_contain_text("2024-05-01 09:30 UTC")
    expect(row.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    page.get_by_label("Filter").fill("title ~")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#filter-error")).to_be_visible()
    expect(page.get_by_label("Filter")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "records-filter-error")
    page.get_by_role("link", name="Clear filter").click()

    # Sort by clicking a header, twice for descending.
    page.get_by_role("link", name="title").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("title")
    assert titles(page)[:2] == ["Hello from the browser", "Post 00"]
    page.get_by_role("link", name="title").click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("title")
    first_page = titles(page)
    assert first_page[0] == "Post 29"

    # Page forwards and back: nothing skipped, nothing repeated.
    page.get_by_label("Count total").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("31 records")
    page.get_by_role("link", name="Next →").click()
    second_page = titles(page)
    assert len(second_page) == 6 and not set(second_page) & set(first_page)
    assert sorted(first_page + second_page, reverse=True) == first_page + second_page
    screenshot(page, "records-page-2")
    page.get_by_role("link", name="← Previous").click()
    assert titles(page) == first_page


def test_edit_conflict_then_overwrite_then_delete(page: Page, shop: httpx.Client) -> None:
    target = shop.get("/posts/records", params={"filter": 'title = "Post 05"'}).json()["items"][0]
    sign_in(page)
    page.goto(f"{RECORDS}/{target['id']}")
    expect(page.get_by_role("heading", name="Edit record")).to_be_visible()
    page.get_by_label("title").fill("Post 05, edited in the UI")

    # Meanwhile someone changes the title and the score over the API.
    changed = shop.patch(
        f"/posts/records/{target['id']}", json={"title": "Post 05 (API)", "score": 99}
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2

    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else saved this record")
    # The title both changed: yours stays, theirs is shown beside it. The score you left
    # alone now shows theirs.
    expect(page.get_by_label("title")).to_have_value("Post 05, edited in the UI")
    expect(page.locator("#t-title")).to_contain_text("Post 05 (API)")
    expect(page.get_by_label("score")).to_have_value("99")
    expect(page.locator("#t-score")).to_have_count(0)
    screenshot(page, "records-conflict")
    now = record(shop, target["id"])
    assert now["title"] == "Post 05 (API)"  # nothing overwritten silently

    page.get_by_role("button", name="Overwrite with my values").click()
    expect(page.get_by_role("status").first).to_contain_text("Record saved")
    saved = record(shop, target["id"])
    assert saved["title"] == "Post 05, edited in the UI" and saved["score"] == 99
    assert saved["version"] == 3
    screenshot(page, "records-edit")

    page.get_by_role("link", name="Delete record…").click()
    expect(page.get_by_role("heading", name="Delete “Post 05, edited in the UI”?")).to_be_visible()
    screenshot(page, "records-delete")
    page.get_by_role("button", name="Delete record").click()
    expect(page.get_by_role("status").first).to_contain_text("deleted")
    assert shop.get(f"/posts/records/{target['id']}").status_code == 404


def test_keyboard_and_narrow_screen(page: Page, shop: httpx.Client) -> None:
    sign_in(page)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(RECORDS)
    # The filter box is reachable by keyboard and shows where focus is.
    page.get_by_label("Filter").focus()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    # The table scrolls inside its box; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "records-laptop")
    page.goto(f"{RECORDS}/new")
    screenshot(page, "records-new-laptop")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
