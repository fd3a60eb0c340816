"""Sending mail: one row per mail in `cairn.mails`, written in the caller's transaction.

With SMTP configured the row is `queued` and, once the transaction commits, a job on the
`email` queue delivers it (tasks.deliver_mail, with retries); a rolled-back transaction sends
nothing. Without SMTP (the embedded default) the row is `stored`: the project's local mailbox,
listed by `cairn mail list` and the admin UI. Whether SMTP is configured is the caller's to say
(`runtime.settings.smtp_url is not None`): services do not read settings.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.engine import RowMapping

from cairn.db.engine import PendingJob, after_commit
from cairn.db.ids import new_id
from cairn.errors import Invalid, NotFound
from cairn.mail.models import mails
from cairn.mail.templates import Rendered, render

__all__ = [
    "DELIVER",
    "Mail",
    "Rendered",
    "claim_for_sending",
    "deliver_job",
    "get_mail",
    "keep_locally",
    "list_mails",
    "queued_before",
    "record_attempt",
    "render",
    "send_mail",
    "send_template",
]

log = logging.getLogger(__name__)

DELIVER = "cairn.mail.tasks.deliver_mail"
MAX_ADDRESS_LENGTH = 254


def deliver_job(project_id: UUID, mail_id: UUID) -> PendingJob:
    """The delivery job of one mail. Its id is stable: the same mail is one job, whose RQ
    retries (tasks.py) keep that id."""
    return PendingJob(
        "email",
        DELIVER,
        (str(project_id), str(mail_id)),
        f"mail-{mail_id}",
        project_id=project_id,
    )


@dataclass(frozen=True)
class Mail:
    id: UUID
    to_address: str
    subject: str
    text_body: str
    html_body: str | None
    template: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_row(cls, row: RowMapping) -> Mail:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_COLUMNS = [mails.c[name] for name in Mail.__dataclass_fields__]


def _check_address(to: str) -> str:
    """One plain address (no display name, no list): what the envelope and To header carry."""
    address = to.strip()
    local, _, domain = address.rpartition("@")
    valid = (
        bool(local)
        and bool(domain)
        and domain.strip(".") == domain
        and "@" not in local
        and len(address) <= MAX_ADDRESS_LENGTH
        and not any(c.isspace() or c in '<>,;:"()[]\\' for c in address)
        and parseaddr(address)[1] == address
    )
    if not valid:
        raise Invalid(errors={"to": ["must be one email address, such as ada@example.com"]})
    return address


def send_mail(
    conn: Connection,
    project_id: UUID,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    template: str | None = None,
    smtp_configured: bool,
) -> UUID:
    """Write one mail in the caller's transaction; returns its id. With `smtp_configured` the
    mail is queued and handed to the `email` queue after commit, otherwise it is stored in the
    local mailbox."""
    address = _check_address(to)
    one_line_subject = " ".join(subject.split())  # a header may not carry line breaks
    if not one_line_subject:
        raise Invalid(errors={"subject": ["must not be empty"]})
    mail_id = new_id()
    status = "queued" if smtp_configured else "stored"
    conn.execute(
        insert(mails).values(
            project_id=project_id,
            id=mail_id,
            to_address=address,
            subject=one_line_subject,
            text_body=text,
            html_body=html,
            template=template,
            status=status,
        )
    )
    if smtp_configured:
        after_commit(conn, deliver_job(project_id, mail_id))
    else:
        log.info(
            "mail kept in the local mailbox (no SMTP configured)",
            extra={"project_id": str(project_id), "mail_id": str(mail_id)},
        )
    return mail_id


def send_template(
    conn: Connection,
    project_id: UUID,
    *,
    to: str,
    template: str,
    smtp_configured: bool,
    **context: Any,
) -> UUID:
    """Render one of templates.TEMPLATES with `context` and send it (see send_mail)."""
    subject, text, html = render(template, **context)
    return send_mail(
        conn,
        project_id,
        to=to,
        subject=subject,
        text=text,
        html=html,
        template=template,
        smtp_configured=smtp_configured,
    )


def list_mails(
    conn: Connection, project_id: UUID, limit: int = 50, before: UUID | None = None
) -> tuple[list[Mail], bool]:
    """A page of the project's mails, newest first (ids are time-ordered); True if older ones
    follow (pass the last id as `before` for the next page)."""
    query = select(*_COLUMNS).where(mails.c.project_id == project_id)
    if before is not None:
        query = query.where(mails.c.id < before)
    rows = conn.execute(query.order_by(mails.c.id.desc()).limit(limit + 1)).mappings().all()
    found = [Mail.from_row(row) for row in rows]
    return found[:limit], len(found) > limit


def get_mail(conn: Connection, project_id: UUID, mail_id: UUID) -> Mail:
    row = (
        conn.execute(
            select(*_COLUMNS).where(mails.c.project_id == project_id, mails.c.id == mail_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no mail {mail_id}")
    return Mail.from_row(row)


def keep_locally(conn: Connection, project_id: UUID, mail_id: UUID) -> bool:
    """Move a queued mail to the local mailbox (SMTP was switched off after it was queued)."""
    result = conn.execute(
        update(mails)
        .where(mails.c.project_id == project_id, mails.c.id == mail_id, mails.c.status == "queued")
        .values(status="stored")
    )
    return bool(result.rowcount)


def claim_for_sending(conn: Connection, project_id: UUID, mail_id: UUID) -> RowMapping | None:
    """Count an attempt at a queued (or failed, being retried) mail and return it whole;
    None when there is nothing to send."""
    return (
        conn.execute(
            update(mails)
            .where(
                mails.c.project_id == project_id,
                mails.c.id == mail_id,
                mails.c.status.in_(("queued", "failed")),
            )
            .values(attempts=mails.c.attempts + 1)
            .returning(*mails.c)
        )
        .mappings()
        .first()
    )


def record_attempt(
    conn: Connection, project_id: UUID, mail_id: UUID, status: str, error: str | None
) -> None:
    values: dict[str, Any] = {"status": status, "last_error": error}
    if status == "sent":
        values["sent_at"] = func.now()
    conn.execute(
        update(mails)
        .where(mails.c.project_id == project_id, mails.c.id == mail_id)
        .values(**values)
    )


def queued_before(
    conn: Connection, project_id: UUID, older_than: timedelta, limit: int
) -> list[UUID]:
    """Mails still queued `older_than` after they were written, oldest first."""
    return list(
        conn.execute(
            select(mails.c.id)
            .where(
                mails.c.project_id == project_id,
                mails.c.status == "queued",
                mails.c.created_at < func.now() - older_than,
            )
            .order_by(mails.c.created_at)
            .limit(limit)
        ).scalars()
    )
