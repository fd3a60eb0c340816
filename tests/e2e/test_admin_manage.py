"""Managing a project in a real browser against a real `cairn serve`: an API key created,
proven over HTTP, revoked; a failed job retried; a user disabled; and a tour of every
management page. Screenshots (manage-*) land in test-output/screenshots."""

from __future__ import annotations

import re
import time
from uuid import UUID

import httpx
import psutil
import psycopg
import pytest
from playwright.sync_api import Dialog, Page, expect
from redis import Redis

from cairn.db.engine import PendingJob
from cairn.db.ids import new_id
from cairn.jobs.queues import enqueue_jobs
from tests.e2e.admin import sign_in
from tests.e2e.browser import screenshot
from tests.e2e.serve import ServeProcess

PROJECT = "default"  # made by the first start of `cairn serve`
API = f"/api/v1/projects/{PROJECT}"
PASSWORD = "a long passphrase for the user"


def accept(dialog: Dialog) -> None:
    dialog.accept()


def project_id(server: ServeProcess) -> UUID:
    """Read as the superuser of the embedded Postgres (tests only)."""
    dsn = f"host={server.data_dir / 'postgres'} dbname=cairn user=postgres"
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT id FROM cairn.projects WHERE slug = %s", (PROJECT,)).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def serve_redis(server: ServeProcess) -> Redis[bytes]:
    """The embedded Redis `cairn serve` started: its children are told where it is."""
    assert server.proc is not None
    for child in psutil.Process(server.proc.pid).children(recursive=True):
        url = child.environ().get("CAIRN_REDIS_URL")
        if url:
            return Redis.from_url(url)
    raise AssertionError("no child of cairn serve knows CAIRN_REDIS_URL")


def seed_delivery_log(server: ServeProcess) -> None:
    """A webhook with a few deliveries, written as the superuser (tests only): the e2e server
    refuses webhooks to this machine (its SSRF guard), and no receiver is reachable here."""
    project = project_id(server)
    webhook = new_id()
    dsn = f"host={server.data_dir / 'postgres'} dbname=cairn user=postgres"
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO cairn.webhooks (project_id, id, name, url, events, collections, "
            "secret_encrypted) VALUES (%s, %s, 'orders', 'https://hooks.example.com/cairn', "
            "ARRAY['record.created', 'record.updated'], ARRAY['orders'], '\\x00')",
            (project, webhook),
        )
        for status, attempts, code, error in (
            ("failed", 3, 503, "the receiver answered 503"),
            ("succeeded", 1, 200, None),
            ("pending", 1, None, "timed out after 10 s"),
        ):
            delivery = new_id()
            conn.execute(
                "INSERT INTO cairn.deliveries (project_id, id, webhook_id, event_id, status, "
                "attempts, attempt_limit, next_attempt_at, last_status_code, last_error) "
                "VALUES (%s, %s, %s, %s, %s, %s, 8, now() + interval '20 seconds', %s, %s)",
                (project, delivery, webhook, new_id(), status, attempts, code, error),
            )
            for attempt in range(1, attempts + 1):
                conn.execute(
                    "INSERT INTO cairn.delivery_attempts (project_id, delivery_id, attempt, "
                    "started_at, duration_ms, status_code, error, response_excerpt) "
                    "VALUES (%s, %s, %s, now(), %s, %s, %s, %s)",
                    (project, delivery, attempt, 40 * attempt, code, error,
                     "ok" if code == 200 else "Service Unavailable"),
                )  # fmt: skip


def key_works(server: ServeProcess, secret: str) -> int:
    headers = {"Authorization": f"Bearer {secret}"}
    return httpx.get(f"{server.base}{API}/api-keys", headers=headers, timeout=10).status_code


def test_create_an_api_key_use_it_and_revoke_it(page: Page, admin_server: ServeProcess) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page)
    page.goto(f"/admin/p/{PROJECT}/keys")
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    page.get_by_label("Name").fill("e2e script")
    page.get_by_label("Scope").select_option("admin")
    page.get_by_label("Expires in").fill("30d")
    page.get_by_role("button", name="Create key").click()

    expect(page.get_by_role("heading", name="Key “e2e script” created")).to_be_visible()
    secret = (page.locator("#secret-value").text_content() or "").strip()
    assert re.fullmatch(r"ck_[A-Za-z0-9_-]{55}", secret), secret
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot(page, "manage-key-created")
    assert key_works(admin_server, secret) == 200

    page.get_by_role("link", name="Done, back to the keys").click()
    row = page.get_by_role("row").filter(has_text="e2e script")
    expect(row).to_contain_text("Active")
    assert secret not in page.content()  # shown once, never again
    screenshot(page, "manage-keys")
    page.once("dialog", accept)
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("“e2e script”")
    expect(page.get_by_role("status")).to_contain_text("is revoked")
    assert key_works(admin_server, secret) == 401


def test_retry_a_failed_job(page: Page, admin_server: ServeProcess) -> None:
    job_id = f"e2e-failing-{int(time.time())}"
    redis = serve_redis(admin_server)
    # A real job of the project that fails when the worker inside `cairn serve` runs it
    # (a malformed schedule id), as tests/factories.enqueue_failing_job makes one.
    failing = PendingJob(
        "default",
        "cairn.schedules.tasks.run_schedule",
        (str(project_id(admin_server)), "not-a-uuid", "2030-01-01T00:00:00+00:00"),
        job_id,
        project_id=project_id(admin_server),
    )
    assert enqueue_jobs(redis, [failing])
    sign_in(page)
    page.goto(f"/admin/p/{PROJECT}/jobs")
    row = page.get_by_role("row").filter(has_text=job_id)
    deadline = time.monotonic() + 30
    while row.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    expect(row).to_contain_text("Failed")
    expect(row).to_contain_text("ValueError")
    screenshot(page, "manage-jobs-failed")
    row.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status")).to_contain_text(f"Job {job_id} is queued again")
    # The worker runs it again (and it fails again): it is back in the failed list.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page.goto(f"/admin/p/{PROJECT}/jobs")
        if page.get_by_role("row").filter(has_text=job_id).count():
            break
        time.sleep(0.5)
    expect(page.get_by_role("row").filter(has_text=job_id)).to_contain_text("Failed")
    page.get_by_label("Status").select_option("")  # any status
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"status=$"))
    screenshot(page, "manage-jobs-any")


def test_disable_a_user(page: Page, admin_server: ServeProcess) -> None:
    email = f"ada-{int(time.time())}@example.test"
    signup = httpx.post(
        f"{admin_server.base}{API}/auth/signup",
        json={"email": email, "password": PASSWORD},
        timeout=30,
    )
    assert signup.status_code == 201, signup.text
    token = signup.json()["token"]
    sign_in(page)
    page.goto(f"/admin/p/{PROJECT}/users")
    page.get_by_label("Search by email").fill(email[:6])
    page.get_by_role("button", name="Search").click()
    screenshot(page, "manage-users")
    page.get_by_role("link", name=email).click()
    expect(page.get_by_role("heading", name=email, level=1)).to_be_visible()
    page.once("dialog", accept)
    page.get_by_role("button", name="Disable user").click()
    expect(page.get_by_role("status")).to_contain_text("disabled and signed out everywhere")
    expect(page.get_by_role("button", name="Enable user")).to_be_visible()
    screenshot(page, "manage-user-disabled")
    me = httpx.get(
        f"{admin_server.base}{API}/auth/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 401  # the session ended
    login = httpx.post(
        f"{admin_server.base}{API}/auth/login",
        json={"email": email, "password": PASSWORD},
        timeout=30,
    )
    assert login.status_code == 401 and "disabled" in login.text


@pytest.mark.parametrize("width", [1280, 1024])
def test_a_tour_of_the_management_pages(page: Page, admin_server: ServeProcess, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    suffix = "" if width == 1280 else "-laptop"
    key = admin_server.bootstrap_key()
    assert key
    headers = {"Authorization": f"Bearer {key}"}
    base = f"{admin_server.base}{API}"
    if width == 1280:  # some data to look at
        schedule = {
            "name": "nightly-cleanup",
            "cron": "0 3 * * *",
            "timezone": "Europe/Berlin",
            "action": {"type": "purge", "collection": "posts", "older_than": "90d"},
        }
        assert httpx.post(f"{base}/schedules", json=schedule, headers=headers).status_code == 201
        reset = httpx.post(f"{base}/auth/password-reset", json={"email": "nobody@example.test"})
        assert reset.status_code == 202
        email = f"mail-{int(time.time())}@example.test"
        httpx.post(f"{base}/auth/signup", json={"email": email, "password": PASSWORD}, timeout=30)
        httpx.post(f"{base}/auth/password-reset", json={"email": email}, timeout=30)
        seed_delivery_log(admin_server)
    sign_in(page)

    page.goto(f"/admin/p/{PROJECT}/providers")
    if width == 1280:
        page.get_by_label("Name", exact=True).fill("github")
        page.get_by_label("Kind").select_option("github")
        expect(page.get_by_label("Discovery URL")).to_be_hidden()  # not for a preset
        page.get_by_label("Client ID").fill("Iv1.0123456789abcdef")
        page.get_by_label("Client secret").fill("not shown again")
        page.get_by_role("button", name="Add provider").click()
        expect(page.get_by_role("status")).to_contain_text("Provider github added")
        assert "not shown again" not in page.content()
        screenshot(page, "manage-provider")
        page.get_by_role("link", name="← OAuth providers").click()
    screenshot(page, f"manage-providers{suffix}")

    page.goto(f"/admin/p/{PROJECT}/webhooks")
    if width == 1280:
        page.get_by_label("Name", exact=True).fill("notify")
        page.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/hook")
        page.get_by_role("button", name="Add webhook").click()
        expect(page.locator("#e-url")).to_contain_text("non-public address")
        expect(page.get_by_label("Endpoint URL")).to_have_attribute("aria-invalid", "true")
        screenshot(page, "manage-webhook-error")
    page.goto(f"/admin/p/{PROJECT}/webhooks")
    screenshot(page, f"manage-webhooks{suffix}")
    page.get_by_role("link", name="orders").click()
    expect(page.get_by_role("heading", name="Delivery log")).to_be_visible()
    page.locator("details summary").first.click()  # the first delivery's attempts
    screenshot(page, f"manage-webhook{suffix}")

    page.goto(f"/admin/p/{PROJECT}/schedules")
    expect(page.get_by_role("link", name="nightly-cleanup")).to_be_visible()
    screenshot(page, f"manage-schedules{suffix}")
    page.get_by_role("link", name="nightly-cleanup").click()
    screenshot(page, f"manage-schedule{suffix}")

    page.goto(f"/admin/p/{PROJECT}/mailbox")
    screenshot(page, f"manage-mailbox{suffix}")
    page.get_by_role("link", name=re.compile("reset", re.IGNORECASE)).first.click()
    expect(page.locator("pre.body").first).to_contain_text("http")
    screenshot(page, f"manage-mail{suffix}")

    page.goto(f"/admin/p/{PROJECT}/audit")
    screenshot(page, f"manage-audit{suffix}")
    page.get_by_label("Action").fill("api_key.")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("cell", name="api_key.created").first).to_be_visible()
    page.get_by_label("From (UTC)").fill("2030-01-02T00:00")
    page.get_by_label("Before (UTC)").fill("2030-01-01T00:00")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#e-until")).to_contain_text("since must be earlier than until")
    screenshot(page, f"manage-audit-error{suffix}")

    page.goto(f"/admin/p/{PROJECT}/keys")
    screenshot(page, f"manage-keys{suffix}")
    page.goto(f"/admin/p/{PROJECT}/users")
    screenshot(page, f"manage-users-list{suffix}")
