"""A real `cairn serve` with one platform admin, a browser page on it, and signing in: the
admin UI journeys' fixtures (registered in conftest.py) and helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.serve import ServeProcess, run_cli

EMAIL = "ops@example.test"
PASSWORD = "a long admin passphrase"


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    data: Path = tmp_path_factory.mktemp("admin-ui") / "data"
    serving = ServeProcess(data)
    serving.start()
    try:
        created = run_cli(
            data, "admins", "create", EMAIL, "--password-stdin", input=PASSWORD + "\n"
        )
        assert created.returncode == 0, created.stderr
        yield serving
    finally:
        serving.stop()


@pytest.fixture
def page(browser: Browser, admin_server: ServeProcess) -> Iterator[Page]:
    context = browser.new_context(
        base_url=admin_server.base, viewport={"width": 1280, "height": 800}
    )
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def sign_in(page: Page) -> None:
    page.goto("/admin/sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()
