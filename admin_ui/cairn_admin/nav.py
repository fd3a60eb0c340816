"""The sidebar of a project: every section in one list. A section whose view is not
registered (yet) is simply not shown."""

from __future__ import annotations

from flask import current_app

PROJECT_SECTIONS = (
    ("admin.project_overview", "Overview"),
    ("admin.collections", "Collections"),
    ("admin.users", "Users"),
    ("admin.keys", "API keys"),
    ("admin.providers", "OAuth providers"),
    ("admin.webhooks", "Webhooks"),
    ("admin.schedules", "Schedules"),
    ("admin.jobs", "Jobs"),
    ("admin.mailbox", "Mailbox"),
    ("admin.audit", "Audit log"),
    ("admin.project_settings", "Settings"),
)


def project_sections() -> list[tuple[str, str]]:
    return [(e, label) for e, label in PROJECT_SECTIONS if e in current_app.view_functions]
