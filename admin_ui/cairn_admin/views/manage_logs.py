"""What a project left behind: its mails (the local mailbox when no SMTP is configured) and
its audit log, filtered by action, actor, target and time."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from flask import render_template, request

from cairn.audit import service as audit
from cairn.errors import BadRequest
from cairn.mail import service as mail
from cairn_admin import bp
from cairn_admin.security import in_project, signed_in
from cairn_admin.views.manage_common import PAGE_SIZE, Errors, cursor_uuid, next_cursor

_FILTERS = ("action", "actor", "target", "since", "until")
# What <input type="datetime-local"> sends: a wall-clock time without an offset.
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


@bp.get("/p/<slug>/mailbox", endpoint="mailbox")
@signed_in
def mailbox_list(slug: str) -> Any:
    before = cursor_uuid("mails")
    with in_project(slug) as (rt, project, conn, _principal):
        found, more = mail.list_mails(conn, project.id, limit=PAGE_SIZE, before=before)
    return render_template(
        "manage/mailbox.html", project=project, mails=found,
        next_cursor=next_cursor("mails", str(found[-1].id) if more else None),
        paged=before is not None, smtp=rt.settings.smtp_url is not None,
    )  # fmt: skip


@bp.get("/p/<slug>/mailbox/<uuid:mail_id>")
@signed_in
def mail_message(slug: str, mail_id: UUID) -> Any:
    with in_project(slug) as (_, project, conn, _principal):
        found = mail.get_mail(conn, project.id, mail_id)
    return render_template("manage/mail.html", project=project, mail=found, section="admin.mailbox")


def _time(name: str, raw: str, errors: Errors) -> datetime | None:
    """A filter time: RFC 3339, or what a datetime-local input sends (taken as UTC)."""
    if not raw:
        return None
    if _LOCAL_TIME.match(raw):
        raw += "Z" if raw.count(":") == 2 else ":00Z"
    try:
        return audit.parse_time(raw, name)
    except BadRequest as exc:
        errors[name] = [exc.detail]
        return None


@bp.get("/p/<slug>/audit", endpoint="audit")
@signed_in
def audit_log(slug: str) -> Any:
    filters = {name: request.args.get(name, "").strip() for name in _FILTERS}
    errors: Errors = {}
    since = _time("since", filters["since"], errors)
    until = _time("until", filters["until"], errors)
    before = cursor_uuid("audit")
    found: list[audit.AuditEntry] = []
    more = False
    with in_project(slug) as (_, project, conn, _principal):
        if not errors:
            try:
                found, more = audit.list_entries(
                    conn, project.id, action=filters["action"] or None,
                    actor=filters["actor"] or None, target=filters["target"] or None,
                    since=since, until=until, limit=PAGE_SIZE, before=before,
                )  # fmt: skip
            except BadRequest as exc:  # its message starts with the filter it is about
                name = exc.detail.split(" ", 1)[0]
                if "earlier than until" in exc.detail:
                    name = "until"
                errors[name if name in _FILTERS else ""] = [exc.detail]
    page = render_template(
        "manage/audit.html", project=project, entries=found, filters=filters,
        filtered=any(filters.values()), keep={k: v for k, v in filters.items() if v},
        next_cursor=next_cursor("audit", str(found[-1].id) if more else None),
        paged=before is not None, errors=errors,
    )  # fmt: skip
    return page, 400 if errors else 200
