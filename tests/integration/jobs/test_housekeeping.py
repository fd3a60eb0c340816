"""Housekeeping drops what outlived CAIRN_RETENTION, keeps what is recent or still needed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text

from cairn.auth.principal import operator
from cairn.jobs import context, tasks
from cairn.mail import service as mail
from cairn.records import collection as collections
from cairn.records import service as records
from cairn.runtime import Runtime
from cairn.tenancy.service import Project
from cairn.webhooks import delivery
from cairn.webhooks import service as webhooks
from tests.factories import apply_yaml


def counts(runtime: Runtime, project: Project) -> dict[str, int]:
    with runtime.db.tenant(project.id) as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM cairn.{t}")).scalar_one()
            for t in ("events", "deliveries", "mails")
        }


def test_old_rows_go_recent_and_needed_ones_stay(
    runtime: Runtime, project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_yaml(runtime, project, "collections: [{name: notes, fields: {t: {type: text}}}]")
    with runtime.db.tenant(project.id) as conn:
        webhooks.save_webhook(
            conn,
            runtime.webhook_box,
            project.id,
            webhooks.load_webhook(
                {"name": "h", "url": "http://127.0.0.1:9/x", "events": ["record.created"]}
            ),
            actor="operator",
            allow_private=True,
        )
        notes = collections.load(conn, project, "notes")
        for i in range(3):
            records.create_record(conn, notes, operator(project.id), {"t": str(i)})
        mail.send_mail(
            conn, project.id, to="a@example.test", subject="s", text="t", smtp_configured=False
        )
    with runtime.db.tenant(project.id) as conn:
        ids = conn.execute(text("SELECT id FROM cairn.events ORDER BY id")).scalars().all()
        for event_id in ids:
            delivery.fan_out(conn, project.id, event_id, "record.created", "notes")
        # Everything is dispatched and 40 days old; the first event's delivery is still pending.
        conn.execute(text("UPDATE cairn.events SET dispatched_at = now() - interval '40 days'"))
        conn.execute(
            text(
                "UPDATE cairn.deliveries SET status = 'succeeded', "
                "updated_at = now() - interval '40 days' WHERE event_id <> :e"
            ),
            {"e": ids[0]},
        )
        conn.execute(text("UPDATE cairn.mails SET created_at = now() - interval '40 days'"))
    context.use(runtime)
    # A retention longer than their age keeps them all.
    before = counts(runtime, project)
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, retention="60d"))
    tasks.housekeeping()
    assert counts(runtime, project) == before == {"events": 3, "deliveries": 3, "mails": 1}
    monkeypatch.setattr(runtime, "settings", replace(runtime.settings, retention="30d"))
    purged = tasks.housekeeping()
    assert purged["events"] >= 2 and purged["deliveries"] >= 2 and purged["mails"] >= 1
    left = counts(runtime, project)
    assert left == {"events": 1, "deliveries": 1, "mails": 0}  # the pending one's event stays


def test_a_bad_retention_stops_the_start() -> None:
    from cairn.config import load_settings
    from cairn.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^CAIRN_RETENTION: 'forever' is not a duration"):
        load_settings({"CAIRN_RETENTION": "forever"})
