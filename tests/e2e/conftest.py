"""Fixtures of the admin UI journeys: Debian's Chromium, a real `cairn serve` with one
platform admin (per test module), and a fresh browser page on it."""

from tests.e2e.admin import admin_server, page
from tests.e2e.browser import browser

__all__ = ["admin_server", "browser", "page"]
