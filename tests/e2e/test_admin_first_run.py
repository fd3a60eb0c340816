"""The first run, as a newcomer who has not read the docs: from signing in to a collection with
records and a working API key, in the browser alone. Only the first page is typed as a URL;
every other step follows a visible link or button. The key is then proven over HTTP.
Screenshots land in test-output/screenshots/first-run-*.png."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.admin import EMAIL, PASSWORD
from tests.e2e.browser import screenshot
from tests.e2e.serve import ServeProcess

NOTES = [
    {"title": "Buy milk", "done": True, "due": "2024-05-01"},
    {"title": "Write the report", "done": False, "due": "2024-05-03"},
    {"title": "Call the plumber", "done": False, "due": ""},
]


def test_from_sign_in_to_records_and_a_working_key(page: Page, admin_server: ServeProcess) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    # Sign in: /admin/ sends a stranger to the sign-in form.
    page.goto("/admin/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    screenshot(page, "first-run-sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Projects", level=1)).to_be_visible()
    screenshot(page, "first-run-projects")

    # A project, from the form on the Projects page.
    page.get_by_label("Slug").fill("notes-app")
    page.get_by_label("Name", exact=True).fill("Notes app")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("status")).to_contain_text("Project notes-app created")
    expect(page.get_by_role("heading", name="Notes app", level=1)).to_be_visible()
    screenshot(page, "first-run-project-overview")

    # Its collections, from the sidebar: none yet, and the way to make one.
    sidebar = page.get_by_role("navigation", name="Main")
    sidebar.get_by_role("link", name="Collections", exact=True).click()
    expect(page.get_by_role("heading", name="No collections yet")).to_be_visible()
    screenshot(page, "first-run-collections-empty")
    page.get_by_role("link", name="New collection").click()
    expect(page.get_by_role("heading", name="New collection", level=1)).to_be_visible()

    # `notes`: a required title, a done flag, a due date; each field is a row of its own.
    page.get_by_role("region", name="Collection").get_by_label("Name").fill("notes")
    fields = page.get_by_role("region", name="Fields").get_by_role("group")
    fields.nth(0).get_by_label("Name").fill("title")
    fields.nth(0).get_by_label("Required").check()
    page.get_by_role("button", name="Add field").click()
    expect(fields.nth(1).get_by_label("Name")).to_be_focused()
    page.keyboard.type("done")
    fields.nth(1).get_by_label("Type").select_option("boolean")
    page.get_by_role("button", name="Add field").click()
    fields.nth(2).get_by_label("Name").fill("due")
    fields.nth(2).get_by_label("Type").select_option("date")
    # The access rules start locked (admins and service keys only). The app's `read` key
    # must list and view the notes, so those two become "Anyone"; the rest stay locked.
    rules = page.get_by_role("region", name="Access rules")
    for action in ("list", "view", "create", "update", "delete"):
        rule = rules.get_by_role("group", name=re.compile(f"^{action} "))
        expect(rule.get_by_label("Admins and service keys only")).to_be_checked()
    rules.get_by_role("group", name=re.compile("^list ")).get_by_label("Anyone").check()
    rules.get_by_role("group", name=re.compile("^view ")).get_by_label("Anyone").check()
    screenshot(page, "first-run-editor")

    # The plan, then apply.
    page.get_by_role("button", name="Review plan").last.click()
    expect(page.get_by_role("heading", name=re.compile("Review the plan for"))).to_be_visible()
    expect(page.locator(".plan-steps li").first).to_contain_text("create collection notes")
    expect(page.get_by_text("Safe: no data is lost")).to_be_visible()
    screenshot(page, "first-run-plan")
    page.get_by_role("button", name=re.compile(r"^Apply \d+ steps?$")).click()
    expect(page.get_by_role("status")).to_contain_text("Applied")
    expect(page.get_by_role("heading", name="Collection notes", level=1)).to_be_visible()
    screenshot(page, "first-run-applied")

    # Its records: none yet, then three through the form.
    page.get_by_role("link", name="Browse records").click()
    expect(page.get_by_role("heading", name="No records in notes yet")).to_be_visible()
    screenshot(page, "first-run-records-empty")
    for note in NOTES:
        page.get_by_role("link", name="New record").first.click()
        expect(page.get_by_role("heading", name="New record in notes")).to_be_visible()
        page.get_by_label("title", exact=True).fill(str(note["title"]))
        if note["done"]:
            page.get_by_label("done", exact=True).check()
        if note["due"]:
            page.get_by_label("due", exact=True).fill(str(note["due"]))
        if note is NOTES[0]:
            screenshot(page, "first-run-record-new")
        page.get_by_role("button", name="Create record").click()
        expect(page.get_by_role("status").first).to_contain_text("created")
    expect(page.get_by_role("heading", name="notes", level=1)).to_be_visible()
    rows = page.locator("table.records tbody tr")
    expect(rows).to_have_count(3)
    for note in NOTES:
        expect(rows.filter(has_text=str(note["title"]))).to_have_count(1)
    screenshot(page, "first-run-records")

    # A `read` key, from the sidebar, for the app; copy the secret shown once.
    sidebar.get_by_role("link", name="API keys").click()
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    screenshot(page, "first-run-keys-empty")
    page.get_by_label("Name").fill("notes web app")
    expect(page.get_by_label("Scope")).to_have_value("read")  # the default
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("heading", name="Key “notes web app” created")).to_be_visible()
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    secret = page.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(r"ck_[A-Za-z0-9_-]{55}", secret), secret
    screenshot(page, "first-run-key-created")

    # The key works: the page's own "Try it" call answers with it (and not without it)...
    snippet = page.locator("pre.snippet").inner_text()
    found = re.search(r"http://\S+/openapi\.json", snippet)
    assert found, snippet
    bearer = {"Authorization": f"Bearer {secret}"}
    document = httpx.get(found.group(0), headers=bearer, timeout=10)
    assert document.status_code == 200, document.text
    assert "/collections/notes/records" in str(document.json()["paths"])
    assert httpx.get(found.group(0), timeout=10).status_code == 401

    # ... and the app lists the three notes over the API with it.
    url = f"{admin_server.base}/api/v1/projects/notes-app/collections/notes/records"
    listed = httpx.get(url, headers=bearer, timeout=10)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    got = sorted((i["title"], i["done"], i["due"]) for i in items)
    want = sorted((n["title"], n["done"], n["due"] or None) for n in NOTES)
    assert got == want, items
    wrong = httpx.get(url, headers={"Authorization": f"Bearer {secret[:-4]}xxxx"}, timeout=10)
    assert wrong.status_code == 401  # the key is checked, not ignored
