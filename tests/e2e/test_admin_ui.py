"""The admin UI in a real browser against a real `cairn serve`: sign in, create a project,
rename it, delete it with the typed confirmation. Screenshots land in test-output/."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.admin import EMAIL, sign_in
from tests.e2e.browser import screenshot
from tests.e2e.serve import ServeProcess


def test_wrong_password_then_sign_in(page: Page) -> None:
    page.goto("/admin/sign-in")
    screenshot(page, "sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("email or password is not correct")
    sign_in(page)


def test_create_rename_delete_a_project(page: Page) -> None:
    sign_in(page)
    screenshot(page, "projects")
    page.get_by_label("Slug").fill("shop")
    page.get_by_label("Name", exact=True).fill("The shop")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("status")).to_contain_text("Project shop created")
    expect(page.get_by_role("heading", name="The shop", level=1)).to_be_visible()
    screenshot(page, "project-overview-empty")
    page.get_by_role("link", name="Settings").click()
    screenshot(page, "project-settings")

    page.get_by_label("Display name").fill("Shop HQ")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", name="Shop HQ", level=1)).to_be_visible()

    delete = page.get_by_role("button", name="Delete project")
    expect(delete).to_be_disabled()  # progressive enhancement: until the slug is typed
    page.get_by_label("Type the slug to confirm").fill("shop")
    expect(delete).to_be_enabled()
    delete.click()
    expect(page.get_by_role("status")).to_contain_text("shop and all its data were deleted")
    expect(page.get_by_role("cell", name="shop", exact=True)).to_have_count(0)


def test_keyboard_focus_is_visible(page: Page) -> None:
    sign_in(page)
    page.keyboard.press("Tab")  # the skip link comes first
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_the_overview_draws_the_traffic(page: Page, admin_server: ServeProcess) -> None:
    key = admin_server.bootstrap_key()
    assert key
    keys_url = f"{admin_server.base}/api/v1/projects/default/api-keys"
    for headers in [{"Authorization": f"Bearer {key}"}] * 5 + [{}] * 2:
        httpx.get(keys_url, headers=headers)  # 5 answered, 2 refused (401)
    sign_in(page)
    page.get_by_role("link", name="Default project").click()
    summary = page.locator("p.sub", has_text="7 requests, 2 errors")
    # Each server process adds its counts to Redis every 5 s (two web workers: both must).
    for _ in range(60):
        if summary.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(summary).to_be_visible()
    expect(page.locator("svg.chart")).to_be_visible()
    screenshot(page, "project-overview")
