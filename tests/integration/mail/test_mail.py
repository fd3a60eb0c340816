"""The mailer against a real SMTP server (aiosmtpd on loopback, started here): templates, the
local mailbox, delivery through the `email` queue with retries, refusals, the sweeper, the
tenant wall and `cairn mail`."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any, cast
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import Result
from jinja2 import UndefinedError
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.scheduler import RQScheduler
from sqlalchemy import text

from cairn.config import Settings
from cairn.errors import Invalid, NotFound
from cairn.jobs import context
from cairn.mail import SmtpUrl, parse_smtp_url, service, tasks
from cairn.mail.templates import render
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from tests.conftest import CairnCli
from tests.factories import make_project

SENDER = "Acme <noreply@acme.test>"
LINK = "https://acme.test/verify?token=abc&x=1"


# --- a real SMTP server -------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """Records every accepted message. `data_replies` answers the next DATA commands (e.g.
    "451 …" to refuse for now); `rcpt_reply` answers every RCPT (e.g. "550 …")."""

    received: list[Received] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    rcpt_reply: str | None = None
    attempts: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)

    def reset(self) -> None:
        self.received.clear()
        self.data_replies.clear()
        self.logins.clear()
        self.rcpt_reply, self.attempts = None, 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.attempts += 1
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        message = message_from_bytes(envelope.content, policy=default_policy)
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), cast(EmailMessage, message))
        )
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    handler: Handler
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    handler = Handler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=handler.authenticate,
        auth_require_tls=False,  # loopback only; the mailer refuses this anywhere else
    )
    controller.start()
    yield SmtpServer(handler, port)
    controller.stop()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> SmtpServer:
    smtp_server.handler.reset()
    return smtp_server


def with_smtp(settings: Settings, url: str, sender: str = SENDER) -> Settings:
    """The session's settings with CAIRN_SMTP_URL / CAIRN_MAIL_FROM set."""
    return replace(settings, smtp_url=url, mail_from=sender)


@pytest.fixture(scope="module")
def smtp_runtime(
    settings: Settings, runtime: Runtime, smtp_server: SmtpServer
) -> Iterator[Runtime]:
    """A Runtime (web side and worker alike) configured to send through the test server."""
    rt = Runtime(with_smtp(settings, smtp_server.url))
    yield rt
    rt.close()


@pytest.fixture
def email_queue(runtime: Runtime) -> Iterator[Queue]:
    """The `email` queue, empty before and after the test (no job outlives its test)."""
    q = Queue("email", connection=runtime.redis)

    def clean() -> None:
        q.empty()
        for registry in (q.scheduled_job_registry, q.failed_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)

    clean()
    yield q
    clean()


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two retries, one second apart (jitter cannot bring them under one second)."""
    monkeypatch.setattr(tasks, "RETRY_INTERVALS", (1, 1))


def drain(runtime: Runtime, *, within: float = 15.0) -> None:
    """Run the `email` queue until nothing is queued or scheduled (retries become due)."""
    context.use(runtime)
    queues = [Queue("email", connection=runtime.redis)]
    scheduler = RQScheduler(queues, connection=runtime.redis)
    # A worker killed by an earlier test may still hold the queues' scheduler locks.
    for q in queues:
        runtime.redis.delete(RQScheduler.get_locking_key(q.name))
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            scheduler.acquire_locks()
            scheduler.enqueue_scheduled_jobs()
            SimpleWorker(queues, connection=runtime.redis).work(burst=True)
            if not any(len(q.scheduled_job_registry) or len(q) for q in queues):
                return
            time.sleep(0.2)
    finally:
        scheduler.release_locks()
    raise AssertionError("the email queue never drained")


def mail_row(runtime: Runtime, project: Project, mail_id: UUID) -> service.Mail:
    with runtime.db.tenant(project.id) as conn:
        return service.get_mail(conn, project.id, mail_id)


def queue_mail(
    runtime: Runtime, project: Project, to: str = "ada@example.test", **kwargs: Any
) -> UUID:
    values: dict[str, Any] = {"subject": "Hello", "text": "Hello, Ada.\n", **kwargs}
    configured = getattr(runtime.settings, "smtp_url", None) is not None
    with runtime.db.tenant(project.id) as conn:
        return service.send_mail(conn, project.id, to=to, smtp_configured=configured, **values)


# --- templates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "subject", "phrase"),
    [
        ("verify_email", "Verify your email address for Acme Shop", "confirm your email"),
        ("password_reset", "Reset your password for Acme Shop", "reset the password"),
    ],
)
def test_each_template_has_a_subject_a_text_and_an_html_part(
    template: str, subject: str, phrase: str
) -> None:
    rendered = render(template, project_name="Acme Shop", link=LINK, expires_in=timedelta(hours=24))
    assert rendered.subject == subject
    assert phrase in rendered.text and LINK in rendered.text
    assert "24 hours" in rendered.text and "24 hours" in rendered.html
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert phrase in rendered.html and "<strong>Acme Shop</strong>" in rendered.html
    assert 'href="https://acme.test/verify?token=abc&amp;x=1"' in rendered.html  # escaped &
    assert render(template, project_name="A", link=LINK, expires_in="2 days").text.count("2 days")


def test_a_hostile_project_name_is_escaped_in_html_and_kept_on_one_line_in_the_subject() -> None:
    name = "<script>alert('x')</script>\r\nBcc: eve@evil.test"
    rendered = render("verify_email", project_name=name, link=LINK, expires_in="1 hour")
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in rendered.html
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert rendered.subject.endswith("<script>alert('x')</script> Bcc: eve@evil.test")
    assert "<script>alert('x')</script>" in rendered.text  # plain text is not HTML


def test_a_missing_variable_an_unknown_template_or_a_non_http_link_is_an_error() -> None:
    with pytest.raises(UndefinedError, match="expires_in"):
        render("password_reset", project_name="Acme", link=LINK)
    with pytest.raises(ValueError, match="unknown mail template"):
        render("welcome", project_name="Acme", link=LINK, expires_in="1 hour")
    with pytest.raises(ValueError, match="link"):
        render("verify_email", project_name="A", link="javascript:alert(1)", expires_in="1 hour")


# --- the SMTP URL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.test", SmtpUrl("mail.test", 25, implicit_tls=False)),
        ("smtp://mail.test:587", SmtpUrl("mail.test", 587, implicit_tls=False)),
        ("smtps://mail.test", SmtpUrl("mail.test", 465, implicit_tls=True)),
        (
            "smtps://ada%40acme.test:p%40ss%3Aw%2Frd@Mail.Test:2465",
            SmtpUrl("mail.test", 2465, True, "ada@acme.test", "p@ss:w/rd"),
        ),
        (
            "smtp://u:@127.0.0.1:2525/?from=Acme%20%3Cno-reply%40acme.test%3E",
            SmtpUrl("127.0.0.1", 2525, False, "u", "", "Acme <no-reply@acme.test>"),
        ),
        ("smtp://[::1]:25", SmtpUrl("::1", 25, implicit_tls=False)),
    ],
)
def test_smtp_urls_are_parsed(url: str, expected: SmtpUrl) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://user:hunter2@mail.test", "smtp:// or smtps://"),
        ("smtp://user:hunter2@mail.test:99999", "port"),
        ("smtp://user:hunter2@:25", "host"),
        ("smtp://user:hunter2@mail.test/inbox", "path"),
        ("smtp://user:hunter2@mail.test?tls=off", "unknown parameter 'tls'"),
        ("smtp://user:hunter2@mail.test?from=nobody", "sender"),
    ],
)
def test_bad_smtp_urls_are_refused_without_repeating_the_password(url: str, error: str) -> None:
    with pytest.raises(ValueError, match=error) as refused:
        parse_smtp_url(url)
    assert "hunter2" not in str(refused.value)


def test_the_password_is_not_in_the_repr() -> None:
    config = parse_smtp_url("smtps://ada:hunter2@mail.test")
    assert "hunter2" not in repr(config) and config.password == "hunter2"


# --- the local mailbox and the outbox -----------------------------------------------------------


def test_without_smtp_a_mail_is_stored_in_the_local_mailbox_and_no_job_is_queued(
    runtime: Runtime, project: Project, email_queue: Queue
) -> None:
    with runtime.db.tenant(project.id) as conn:
        mail_id = service.send_template(
            conn,
            project.id,
            to="ada@example.test",
            template="verify_email",
            smtp_configured=False,
            project_name="Acme",
            link=LINK,
            expires_in="1 hour",
        )
    mail = mail_row(runtime, project, mail_id)
    assert (mail.status, mail.attempts, mail.template, mail.sent_at) == (
        "stored",
        0,
        "verify_email",
        None,
    )
    assert mail.subject == "Verify your email address for Acme" and LINK in mail.text_body
    assert mail.html_body is not None and "<!DOCTYPE html>" in mail.html_body
    assert len(email_queue) == 0 and not Job.exists(f"mail-{mail_id}", runtime.redis)


def test_with_smtp_a_mail_is_queued_and_its_job_handed_to_the_email_queue_after_commit(
    smtp_runtime: Runtime, project: Project, email_queue: Queue, smtp: SmtpServer
) -> None:
    with smtp_runtime.db.tenant(project.id) as conn:
        mail_id = service.send_mail(
            conn, project.id, to="ada@example.test", subject="Hi", text="t", smtp_configured=True
        )
        assert not Job.exists(f"mail-{mail_id}", smtp_runtime.redis)  # not before COMMIT
    job = Job.fetch(f"mail-{mail_id}", connection=smtp_runtime.redis)
    assert job.origin == "email" and job.func_name == "cairn.mail.tasks.deliver_mail"
    assert job.args == (str(project.id), str(mail_id))  # ids only
    assert email_queue.job_ids == [job.id]
    assert mail_row(smtp_runtime, project, mail_id).status == "queued"
    drain(smtp_runtime)
    assert mail_row(smtp_runtime, project, mail_id).status == "sent"


def test_a_rolled_back_mail_is_neither_kept_nor_queued(
    smtp_runtime: Runtime, project: Project, email_queue: Queue
) -> None:
    written: list[UUID] = []
    with pytest.raises(RuntimeError, match="changed my mind"):
        with smtp_runtime.db.tenant(project.id) as conn:
            written.append(
                service.send_mail(
                    conn, project.id, to="a@b.test", subject="s", text="t", smtp_configured=True
                )
            )
            raise RuntimeError("changed my mind")
    assert len(email_queue) == 0 and not Job.exists(f"mail-{written[0]}", smtp_runtime.redis)
    with pytest.raises(NotFound):
        mail_row(smtp_runtime, project, written[0])


@pytest.mark.parametrize(
    "to", ["", "ada", "ada@", "@example.test", "Ada <ada@example.test>", "a@b.test\r\nBcc: e@x.y"]
)
def test_a_bad_recipient_is_refused(runtime: Runtime, project: Project, to: str) -> None:
    with runtime.db.tenant(project.id) as conn:
        with pytest.raises(Invalid) as refused:
            service.send_mail(conn, project.id, to=to, subject="s", text="t", smtp_configured=False)
    assert "to" in refused.value.errors


# --- delivery -----------------------------------------------------------------------------------


def test_the_worker_delivers_text_and_html_to_the_smtp_server(
    smtp_runtime: Runtime, project: Project, email_queue: Queue, smtp: SmtpServer
) -> None:
    with smtp_runtime.db.tenant(project.id) as conn:
        templated = service.send_template(
            conn,
            project.id,
            to="ada@example.test",
            template="password_reset",
            smtp_configured=True,
            project_name="Acme",
            link=LINK,
            expires_in=timedelta(minutes=30),
        )
        plain = service.send_mail(
            conn, project.id, to="bob@example.test", subject="Plain", text="Just text.\n",
            smtp_configured=True,
        )  # fmt: skip
    drain(smtp_runtime)
    by_to = {r.message["To"]: r for r in smtp.handler.received}
    assert sorted(by_to) == ["ada@example.test", "bob@example.test"]

    first = by_to["ada@example.test"]
    assert (first.mail_from, first.rcpt_tos) == ("noreply@acme.test", ["ada@example.test"])
    message = first.message
    assert message["From"] == SENDER
    assert message["Subject"] == "Reset your password for Acme"
    assert message["Message-ID"] == f"<{templated}@acme.test>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.iter_parts()
    assert text_part.get_content_type() == "text/plain"
    assert LINK in text_part.get_content() and "30 minutes" in text_part.get_content()
    assert html_part.get_content_type() == "text/html"
    assert "https://acme.test/verify?token=abc&amp;x=1" in html_part.get_content()

    second = by_to["bob@example.test"].message
    assert second.get_content_type() == "text/plain" and not second.is_multipart()
    assert second.get_content().splitlines() == ["Just text."]  # CRLF on the wire

    for mail_id in (templated, plain):
        mail = mail_row(smtp_runtime, project, mail_id)
        assert (mail.status, mail.attempts, mail.last_error) == ("sent", 1, None)
        assert mail.sent_at is not None and mail.sent_at >= mail.created_at
    assert drain_is_idempotent(smtp_runtime, project, templated, smtp)


def drain_is_idempotent(
    runtime: Runtime, project: Project, mail_id: UUID, smtp: SmtpServer
) -> bool:
    """Running the job of a sent mail again sends nothing."""
    context.use(runtime)
    before = len(smtp.handler.received)
    assert tasks.deliver_mail(str(project.id), str(mail_id)) == "nothing to do"
    return len(smtp.handler.received) == before


def test_a_451_is_retried_by_rq_and_the_mail_is_then_sent(
    smtp_runtime: Runtime,
    project: Project,
    email_queue: Queue,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tasks, "RETRY_INTERVALS", (2,))  # RQ schedules in whole seconds
    smtp.handler.data_replies = ["451 4.3.0 Mailbox busy, try again later"]
    mail_id = queue_mail(smtp_runtime, project)
    started = time.monotonic()
    drain(smtp_runtime)
    assert time.monotonic() - started >= 1.0  # the retry waited in RQ's scheduled registry
    assert smtp.handler.attempts == 2 and len(smtp.handler.received) == 1
    mail = mail_row(smtp_runtime, project, mail_id)
    assert (mail.status, mail.attempts, mail.last_error) == ("sent", 2, None)
    job = Job.fetch(f"mail-{mail_id}", connection=smtp_runtime.redis)  # one job, retried
    assert job.get_status() == "finished"
    assert (job.retries_left, job.retry_intervals) == (0, [2])


def test_the_retry_intervals_grow() -> None:
    intervals = list(tasks.RETRY_INTERVALS)
    assert len(intervals) == 5 and intervals == sorted(set(intervals))


def test_transient_failures_to_the_last_attempt_end_failed_and_in_the_failed_registry(
    smtp_runtime: Runtime,
    project: Project,
    email_queue: Queue,
    smtp: SmtpServer,
    fast_retries: None,
) -> None:
    smtp.handler.data_replies = ["421 4.7.0 Too busy"] * 10
    mail_id = queue_mail(smtp_runtime, project)
    drain(smtp_runtime)
    assert smtp.handler.attempts == 3 and not smtp.handler.received
    mail = mail_row(smtp_runtime, project, mail_id)
    assert (mail.status, mail.attempts) == ("failed", 3)
    assert mail.last_error == "421 4.7.0 Too busy"
    assert f"mail-{mail_id}" in email_queue.failed_job_registry.get_job_ids()
    # Retrying the failed job (as the jobs API does) sends the mail.
    smtp.handler.data_replies = []
    email_queue.failed_job_registry.requeue(f"mail-{mail_id}")
    drain(smtp_runtime)
    assert mail_row(smtp_runtime, project, mail_id).status == "sent"
    assert len(smtp.handler.received) == 1


def test_a_550_fails_the_mail_at_once_without_a_retry(
    smtp_runtime: Runtime, project: Project, email_queue: Queue, smtp: SmtpServer
) -> None:
    smtp.handler.rcpt_reply = "550 5.1.1 No such user here"
    mail_id = queue_mail(smtp_runtime, project)
    drain(smtp_runtime)
    assert smtp.handler.attempts == 1 and not smtp.handler.received
    mail = mail_row(smtp_runtime, project, mail_id)
    assert (mail.status, mail.attempts, mail.sent_at) == ("failed", 1, None)
    assert mail.last_error == "550 5.1.1 No such user here"
    job = Job.fetch(f"mail-{mail_id}", connection=smtp_runtime.redis)
    assert job.get_status() == "finished" and job.return_value() == "failed"
    assert not email_queue.failed_job_registry.get_job_ids()
    assert not email_queue.scheduled_job_registry.get_job_ids()


def test_credentials_are_used_and_never_stored_or_logged(
    settings: Settings,
    project: Project,
    email_queue: Queue,
    smtp: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    url = f"smtp://ada:s3cr%40t-pw@127.0.0.1:{smtp.port}?from=Ops%20%3Cops%40acme.test%3E"
    rt = Runtime(with_smtp(settings, url))
    try:
        sent = queue_mail(rt, project)
        drain(rt)
        assert smtp.handler.logins == [("ada", "s3cr@t-pw")]
        assert smtp.handler.received[0].message["From"] == "Ops <ops@acme.test>"  # ?from= wins
        assert mail_row(rt, project, sent).status == "sent"

        smtp.handler.rcpt_reply = "550 5.7.1 Relaying denied for s3cr@t-pw"  # a chatty server
        refused = queue_mail(rt, project)
        drain(rt)
        error = mail_row(rt, project, refused).last_error
    finally:
        rt.close()
    assert error == "550 5.7.1 Relaying denied for ***"
    for secret in ("s3cr@t-pw", "s3cr%40t-pw", url):
        assert secret not in caplog.text


def test_an_unreachable_server_is_a_transient_failure(
    settings: Settings, project: Project, email_queue: Queue
) -> None:
    """Run outside a worker (no RQ job to retry), the mail stays queued for the sweeper."""
    url = f"smtp://ada:hunter2@127.0.0.1:{free_port()}"  # nothing listens there
    rt = Runtime(with_smtp(settings, url))
    try:
        mail_id = queue_mail(rt, project)
        email_queue.empty()
        context.use(rt)
        with pytest.raises(tasks.TransientMailError, match="ConnectionRefusedError"):
            tasks.deliver_mail(str(project.id), str(mail_id))
        mail = mail_row(rt, project, mail_id)
        with rt.db.tenant(project.id) as conn:  # leave no queued mail for later sweeps
            conn.execute(text("DELETE FROM cairn.mails WHERE id = :id"), {"id": mail_id})
    finally:
        rt.close()
    assert (mail.status, mail.attempts) == ("queued", 1)
    assert mail.last_error is not None and mail.last_error.startswith("ConnectionRefusedError")
    assert "hunter2" not in mail.last_error and "127.0.0.1" not in mail.last_error


def test_the_sweeper_enqueues_a_mail_whose_job_was_lost(
    smtp_runtime: Runtime, project: Project, email_queue: Queue, smtp: SmtpServer
) -> None:
    on_commit, smtp_runtime.db.on_commit = smtp_runtime.db.on_commit, None  # Redis "down"
    try:
        lost = queue_mail(smtp_runtime, project, to="lost@example.test")
    finally:
        smtp_runtime.db.on_commit = on_commit
    waiting = queue_mail(smtp_runtime, project, to="waiting@example.test")  # its job exists
    with smtp_runtime.db.tenant(project.id) as conn:
        conn.execute(text("UPDATE cairn.mails SET created_at = now() - interval '1 hour'"))
    assert not Job.exists(f"mail-{lost}", smtp_runtime.redis)
    context.use(smtp_runtime)
    assert tasks.sweep_mail() >= 1
    assert Job.exists(f"mail-{lost}", smtp_runtime.redis)
    assert email_queue.job_ids.count(f"mail-{waiting}") == 1  # not enqueued twice
    drain(smtp_runtime)
    assert mail_row(smtp_runtime, project, lost).status == "sent"
    assert mail_row(smtp_runtime, project, waiting).status == "sent"
    delivered = [r.message["To"] for r in smtp.handler.received]
    assert delivered.count("lost@example.test") == delivered.count("waiting@example.test") == 1


def test_a_mail_queued_before_smtp_was_switched_off_goes_to_the_local_mailbox(
    smtp_runtime: Runtime, runtime: Runtime, project: Project, email_queue: Queue
) -> None:
    mail_id = queue_mail(smtp_runtime, project)
    context.use(runtime)  # a worker without CAIRN_SMTP_URL
    assert tasks.deliver_mail(str(project.id), str(mail_id)) == "stored"
    assert mail_row(runtime, project, mail_id).status == "stored"


# --- the tenant wall and the CLI ----------------------------------------------------------------


def stored_mails(runtime: Runtime, project: Project, count: int) -> list[UUID]:
    return [
        queue_mail(runtime, project, to=f"user{i}@{project.slug}.test", subject=f"Mail {i}")
        for i in range(count)
    ]


def test_a_project_never_sees_another_projects_mails(runtime: Runtime) -> None:
    a, b = make_project(runtime), make_project(runtime)
    [mail_a] = stored_mails(runtime, a, 1)
    [mail_b] = stored_mails(runtime, b, 1)
    with runtime.db.tenant(a.id) as conn:
        assert [m.id for m in service.list_mails(conn, a.id)[0]] == [mail_a]
        assert service.list_mails(conn, b.id) == ([], False)  # asking for B's: nothing
        assert conn.execute(text("SELECT count(*) FROM cairn.mails")).scalar() == 1
        with pytest.raises(NotFound):
            service.get_mail(conn, b.id, mail_b)
    with runtime.db.tenant(b.id) as conn:
        assert [m.id for m in service.list_mails(conn, b.id)[0]] == [mail_b]


def mail_cli(cairn: CairnCli, *args: str) -> Result:
    """`cairn mail …` as scripters run it."""
    return cairn("mail", *args)


def test_cairn_mail_list_and_show(cairn: CairnCli, runtime: Runtime, project: Project) -> None:
    ids = stored_mails(runtime, project, 3)
    listed = json.loads(mail_cli(cairn, "list", "--project", project.slug, "--json").stdout)
    assert [m["id"] for m in listed["items"]] == [str(i) for i in reversed(ids)]  # newest first
    assert listed["more"] is False
    newest = listed["items"][0]
    assert (newest["status"], newest["to_address"], newest["subject"]) == (
        "stored",
        f"user2@{project.slug}.test",
        "Mail 2",
    )
    assert newest["text_body"] == "Hello, Ada.\n"

    page = json.loads(mail_cli(cairn, "list", "-p", project.slug, "--limit", "2", "--json").stdout)
    assert len(page["items"]) == 2 and page["more"] is True
    rest = mail_cli(
        cairn, "list", "-p", project.slug, "--before", page["items"][-1]["id"], "--json"
    )
    assert [m["id"] for m in json.loads(rest.stdout)["items"]] == [str(ids[0])]

    human = mail_cli(cairn, "list", "-p", project.slug).stdout.splitlines()
    assert human[0].split()[:3] == ["ID", "STATUS", "TO_ADDRESS"] and len(human) == 4
    shown = mail_cli(cairn, "show", "-p", project.slug, str(ids[0])).stdout
    assert "Subject: Mail 0" in shown and "Hello, Ada." in shown

    missing = mail_cli(cairn, "list", "-p", "no-such-project", "--json")
    assert missing.exit_code == 1 and "not-found" in missing.stderr
