"""Delivering queued mail over SMTP, from the `email` queue.

`deliver_mail` takes ids only and opens its own tenant transactions: one to claim the mail
(count the attempt), none while talking to the server, one to record the outcome.

- Accepted by the server: `sent`.
- Refused for good (an SMTP 5xx reply, or a configuration the server cannot serve): `failed`,
  with the reason in `last_error`; the job finishes and nothing is retried.
- A transient failure (connection refused or lost, timeout, TLS or DNS trouble, an SMTP 4xx
  reply): the error is recorded, the mail stays `queued` and the task raises, so RQ retries
  the same job (same id `mail-<id>`) after RETRY_INTERVALS: 10 s, 30 s, 2 min, 10 min, 30 min
  (±20% jitter), 6 attempts over about 45 minutes in all. The policy is put on the running job
  at its first failure (`retries_left`/`retry_intervals`, which RQ reads when the task
  raises), because committed jobs are enqueued generically (jobs/queues.py). After the last
  attempt the mail is `failed` and the job lands in RQ's failed registry, from which it can be
  retried: a retried job sends a `failed` mail again.

Delivery is at least once: a worker killed between the server's reply and the recording of it
sends the mail again when the job is retried. Every attempt carries the same Message-ID.

The SMTP URL's password is never logged or stored: errors name the failure, not the URL.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import random
import smtplib
import socket
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from uuid import UUID

from rq import get_current_job
from rq.job import Job
from sqlalchemy.engine import RowMapping

from cairn.jobs import context
from cairn.jobs.queues import enqueue_jobs
from cairn.mail import SmtpUrl, parse_smtp_url, service

log = logging.getLogger(__name__)

RETRY_INTERVALS: tuple[int, ...] = (10, 30, 120, 600, 1800)
TIMEOUT_SECONDS = 15.0
ERROR_EXCERPT = 500
# A queued mail this old whose job is not in Redis lost its job (Redis was down at the
# hand-off): the sweeper enqueues it again.
LOST_AFTER = timedelta(minutes=2)
SWEEP_BATCH = 500


# --- sending ----------------------------------------------------------------------------------


class MailDeliveryError(Exception):
    """A failed attempt; the message is safe to store and log (no URL, no password)."""


class TransientMailError(MailDeliveryError):
    """Worth trying again later."""


class PermanentMailError(MailDeliveryError):
    """Trying again will not help."""


@functools.cache
def _local_hostname() -> str:
    # What EHLO announces; looked up once (getfqdn can be slow where DNS is poor).
    return socket.getfqdn()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_message(row: RowMapping, sender: str) -> EmailMessage:
    """The mail as sent: text, plus an HTML alternative when there is one. The Message-ID
    comes from the mail's id, so every attempt carries the same one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    message["Date"] = format_datetime(row["created_at"])
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{row['id']}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(row["text_body"])
    if row["html_body"]:
        message.add_alternative(row["html_body"], subtype="html")
    return message


def send(config: SmtpUrl, message: EmailMessage, *, timeout: float = TIMEOUT_SECONDS) -> None:
    """One SMTP session that sends `message`. Raises TransientMailError or PermanentMailError
    (never an smtplib or socket error, whose context is dropped)."""
    try:
        _session(config, message, timeout)
    except MailDeliveryError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise _by_code(code, reply, config) from None
    except smtplib.SMTPResponseException as exc:
        # Sender refused, data refused, authentication, HELO, connect replies.
        raise _by_code(exc.smtp_code, exc.smtp_error, config) from None
    except smtplib.SMTPServerDisconnected as exc:
        raise TransientMailError(_excerpt(f"disconnected: {exc}", config)) from None
    except smtplib.SMTPException as exc:
        # The server lacks what the configuration needs (AUTH, a usable mechanism).
        raise PermanentMailError(_excerpt(f"{type(exc).__name__}: {exc}", config)) from None
    except OSError as exc:
        # Refused or reset connections, timeouts, DNS, TLS handshakes.
        raise TransientMailError(_excerpt(f"{type(exc).__name__}: {exc}", config)) from None


def _session(config: SmtpUrl, message: EmailMessage, timeout: float) -> None:
    tls = ssl.create_default_context()
    client: smtplib.SMTP
    if config.implicit_tls:
        client = smtplib.SMTP_SSL(
            config.host,
            config.port,
            local_hostname=_local_hostname(),
            timeout=timeout,
            context=tls,
        )
    else:
        client = smtplib.SMTP(
            config.host, config.port, local_hostname=_local_hostname(), timeout=timeout
        )
    with client:
        client.ehlo()
        encrypted = config.implicit_tls
        if not encrypted and client.has_extn("starttls"):
            client.starttls(context=tls)
            client.ehlo()
            encrypted = True
        if config.username is not None:
            if not encrypted and not _is_loopback(config.host):
                raise PermanentMailError(
                    "refusing to send SMTP credentials unencrypted: the server offers no "
                    "STARTTLS (use smtps:// or a server that offers STARTTLS)"
                )
            client.login(config.username, config.password or "")
        client.send_message(message)


def _by_code(code: int, reply: bytes | str, config: SmtpUrl) -> MailDeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    detail = _excerpt(f"{code} {' '.join(text.split())}", config)
    if 500 <= code < 600:
        return PermanentMailError(detail)
    return TransientMailError(detail)


def _excerpt(text: str, config: SmtpUrl) -> str:
    if config.password:
        text = text.replace(config.password, "***")
    return text[:ERROR_EXCERPT]


# --- the task ---------------------------------------------------------------------------------


def deliver_mail(project_id: str, mail_id: str) -> str:
    """One attempt to send one queued mail; returns the mail's status after it (or "nothing
    to do" for a mail already sent or stored). Raises TransientMailError to be retried."""
    rt = context.runtime()
    project, mail = UUID(project_id), UUID(mail_id)
    if rt.settings.smtp_url is None:
        # SMTP was switched off after the mail was queued: keep it in the local mailbox.
        with rt.db.tenant(project) as conn:
            stored = service.keep_locally(conn, project, mail)
        return "stored" if stored else "nothing to do"
    config = parse_smtp_url(rt.settings.smtp_url)
    with rt.db.tenant(project) as conn:
        row = service.claim_for_sending(conn, project, mail)
    if row is None:
        return "nothing to do"
    facts: dict[str, Any] = {"project_id": project_id, "mail_id": mail_id}
    try:
        send(config, build_message(row, config.sender or rt.settings.mail_from))
    except PermanentMailError as exc:
        _record(project, mail, "failed", str(exc))
        log.warning("mail refused; not retrying", extra={**facts, "error": str(exc)})
        return "failed"
    except TransientMailError as exc:
        status = "queued" if _retry_later() else "failed"
        _record(project, mail, status, str(exc))
        log.warning("mail attempt failed", extra={**facts, "error": str(exc), "status": status})
        raise
    _record(project, mail, "sent", None)
    log.info("mail sent", extra={**facts, "attempts": row["attempts"]})
    return "sent"


def _retry_later() -> bool:
    """Will RQ run this job again? Gives the job its retry policy at its first failure. Run
    outside a worker, the mail stays queued for the sweeper."""
    job = get_current_job()
    if job is None:
        return True
    if job.retries_left is None:
        job.retries_left = len(RETRY_INTERVALS)
        job.retry_intervals = [max(1, round(s * random.uniform(0.8, 1.2))) for s in RETRY_INTERVALS]
    return bool(job.retries_left and job.retries_left > 0)


def _record(project: UUID, mail: UUID, status: str, error: str | None) -> None:
    with context.runtime().db.tenant(project) as conn:
        service.record_attempt(conn, project, mail, status, error)


def sweep_mail() -> int:
    """Enqueue again queued mails whose job is gone from Redis (Redis was down when their
    transaction committed). A job waiting for a retry, running, or failed still exists and is
    left alone. Runs from the scheduler; returns how many mails were handed over."""
    rt = context.runtime()
    if rt.settings.smtp_url is None:
        return 0
    jobs = []
    for project, conn in context.each_project():
        ids = service.queued_before(conn, project.id, LOST_AFTER, SWEEP_BATCH)
        jobs += [service.deliver_job(project.id, i) for i in ids]
    if not jobs:
        return 0
    # Redis is asked once every project's transaction has ended.
    with rt.redis.pipeline(transaction=False) as pipe:
        for job in jobs:
            pipe.exists(Job.key_for(job.job_id))
        present = pipe.execute()
    lost = [job for job, exists in zip(jobs, present, strict=True) if not exists]
    handed = len(lost) if lost and enqueue_jobs(rt.redis, lost) else 0
    if handed:
        log.info("mail sweep re-enqueued mails", extra={"mails": handed})
    return handed
