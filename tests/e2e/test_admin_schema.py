"""The schema editor in a real browser against a real `cairn serve`: define a collection with
three fields through the form, see the plan, apply; then drop a field (the destructive step
is highlighted and needs the confirmation), look at the raw YAML, drop the collection.
Screenshots land in test-output/screenshots/schema-*.png."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.admin import sign_in
from tests.e2e.browser import screenshot
from tests.e2e.serve import ServeProcess, run_cli


def test_define_apply_then_drop_a_field(page: Page, admin_server: ServeProcess) -> None:
    created = run_cli(admin_server.data_dir, "projects", "create", "blog", "--name", "Blog")
    assert created.returncode == 0, created.stderr
    sign_in(page)
    page.goto("/admin/p/blog/collections")
    expect(page.get_by_role("heading", name="No collections yet")).to_be_visible()
    screenshot(page, "schema-empty")

    page.get_by_role("link", name="New collection").click()
    expect(page.get_by_role("heading", name="New collection", level=1)).to_be_visible()
    page.locator("#f-name").fill("posts")

    # Field 1: a required text with a maximum length (a text option, shown for text).
    page.locator("#f-fields-0-name").fill("title")
    page.locator("#f-fields-0-required").check()
    expect(page.locator("#f-fields-0-values")).to_be_hidden()
    page.locator("#f-fields-0-max_length").fill("200")

    # Field 2: "Add field" adds a row in place and focuses its name.
    page.get_by_role("button", name="Add field").click()
    expect(page.locator("#f-fields-1-name")).to_be_focused()
    page.keyboard.type("status")
    page.locator("#f-fields-1-type").select_option("select")
    expect(page.locator("#f-fields-1-max_length")).to_be_hidden()
    page.locator("#f-fields-1-values").fill("draft, published")
    page.locator("#f-fields-1-default").fill("draft")

    # Field 3: a number with a minimum.
    page.get_by_role("button", name="Add field").click()
    page.locator("#f-fields-2-name").fill("score")
    page.locator("#f-fields-2-type").select_option("number")
    page.locator("#f-fields-2-min").fill("0")
    expect(page.locator("#f-fields-2-values")).to_be_hidden()

    # Rules: anyone may list and view; a broken expression is flagged on leaving the input.
    page.locator('input[name="rule-list-mode"][value="public"]').check()
    page.locator('input[name="rule-view-mode"][value="public"]').check()
    create_rule = page.get_by_label("Expression for create")
    create_rule.fill("title = = 'x'")
    expect(page.locator('input[name="rule-create-mode"][value="expr"]')).to_be_checked()
    create_rule.press("Tab")
    expect(page.locator("#e-rule-create")).not_to_be_empty()
    expect(create_rule).to_have_attribute("aria-invalid", "true")
    screenshot(page, "schema-rule-error")
    create_rule.fill("@request.auth.id != ''")
    create_rule.press("Tab")
    expect(page.locator("#e-rule-create")).to_be_empty()
    screenshot(page, "schema-editor")

    page.get_by_role("button", name="Review plan").last.click()
    expect(page.get_by_role("heading", name=re.compile("Review the plan for"))).to_be_visible()
    steps = page.locator(".plan-steps li")
    expect(steps.first).to_contain_text("create collection posts")
    expect(page.locator(".step.destructive")).to_have_count(0)
    screenshot(page, "schema-plan-create")
    page.get_by_role("button", name=re.compile(r"^Apply \d+ steps?$")).click()
    expect(page.get_by_role("status")).to_contain_text("Applied")
    expect(page.get_by_role("heading", name="Collection posts", level=1)).to_be_visible()

    page.get_by_role("link", name="Collections", exact=True).first.click()
    row = page.get_by_role("row", name=re.compile("posts"))
    expect(row.locator("td.num").first).to_have_text("3")
    screenshot(page, "schema-list")

    # Edit: drop `score`. The plan highlights the destructive step and waits for the box.
    row.get_by_role("link", name="posts", exact=True).click()
    page.locator("#f-fields-2-remove").check()
    expect(page.locator("fieldset.field-row.removed")).to_have_count(1)
    screenshot(page, "schema-edit-remove")
    page.get_by_role("button", name="Review plan").last.click()
    destructive = page.locator(".step.destructive")
    expect(destructive).to_have_count(1)
    expect(destructive).to_contain_text("drop field posts.score")
    expect(destructive.get_by_text("Destructive")).to_be_visible()
    apply = page.get_by_role("button", name="Apply 1 step")
    expect(apply).to_be_disabled()
    screenshot(page, "schema-plan-destructive")
    page.get_by_label(re.compile("destructive step will lose data")).check()
    expect(apply).to_be_enabled()
    apply.click()
    expect(page.get_by_role("status")).to_contain_text("Applied 1 step")
    expect(page.locator("#f-fields-2-name")).to_have_count(0)

    # The raw view holds the same definition as YAML; a typo is reported in place.
    page.get_by_role("button", name="YAML / JSON").click()
    raw = page.get_by_label("Definition (YAML or JSON)")
    expect(raw).to_have_value(re.compile(r"name: posts\nfields:\n  title:"))
    raw.fill(raw.input_value().replace("type: select", "type: selection"))
    page.get_by_role("button", name="Review plan").click()
    expect(page.locator("#e-raw")).to_contain_text("fields.status.type: must be one of")
    screenshot(page, "schema-raw-error")

    # Drop the collection: its plan, then the typed name.
    page.get_by_role("link", name="Drop posts…").click()
    expect(page.locator(".step.destructive")).to_contain_text("drop collection posts")
    drop = page.get_by_role("button", name="Drop collection")
    expect(drop).to_be_disabled()
    page.get_by_label("Type the collection name to confirm").fill("posts")
    screenshot(page, "schema-drop")
    drop.click()
    expect(page.get_by_role("status")).to_contain_text("posts and its records were dropped")
    expect(page.get_by_role("heading", name="No collections yet")).to_be_visible()


def test_the_editor_fits_a_laptop_and_works_by_keyboard(
    page: Page, admin_server: ServeProcess
) -> None:
    run_cli(admin_server.data_dir, "projects", "create", "narrow")
    page.set_viewport_size({"width": 1024, "height": 700})
    sign_in(page)
    page.goto("/admin/p/narrow/collections/-/new")
    page.locator("#f-name").focus()
    page.keyboard.type("notes")
    page.keyboard.press("Tab")
    page.keyboard.type("body")  # the first field's name
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(page, "schema-editor-laptop")
    page.keyboard.press("Enter")  # Enter reviews the plan (never adds or removes a row)
    expect(page.get_by_role("heading", name=re.compile("Review the plan for"))).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1024
    screenshot(page, "schema-plan-laptop")


def test_the_editor_works_without_javascript(browser: Browser, admin_server: ServeProcess) -> None:
    run_cli(admin_server.data_dir, "projects", "create", "plain")
    context = browser.new_context(
        base_url=admin_server.base, viewport={"width": 1280, "height": 800},
        java_script_enabled=False,
    )  # fmt: skip
    page = context.new_page()
    try:
        sign_in(page)
        page.goto("/admin/p/plain/collections/-/new")
        page.locator("#f-name").fill("tags")
        page.locator("#f-fields-0-name").fill("label")
        page.locator("#f-fields-0-type").select_option("select")
        # Without the script, the type's options come with a round trip.
        expect(page.locator("#f-fields-0-values")).to_be_hidden()
        page.get_by_role("button", name="Show the options of the chosen types").click()
        page.locator("#f-fields-0-values").fill("red, green")
        page.get_by_role("button", name="Add field").click()
        expect(page.locator("#f-fields-1-name")).to_be_visible()
        expect(page.locator("#f-fields-0-values")).to_have_value("red, green")
        page.locator("#f-fields-1-name").fill("weight")
        screenshot(page, "schema-no-script")
        page.get_by_role("button", name="Review plan").last.click()
        expect(page.locator(".plan-steps")).to_contain_text("create collection tags")
        page.get_by_role("button", name="Apply 1 step").click()
        expect(page.get_by_role("status")).to_contain_text("Applied 1 step to tags")
        expect(page.locator("#f-fields-0-values")).to_have_value("red, green")
        expect(page.locator("#f-fields-1-type")).to_have_value("text")
    finally:
        context.close()
