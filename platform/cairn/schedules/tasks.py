"""The scheduler's tick and the runs it starts (run by `cairn worker`)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select

from cairn.durations import parse_duration
from cairn.errors import CairnError
from cairn.jobs import context
from cairn.records import collection as collections
from cairn.records.filter import compile_expression
from cairn.runtime import Runtime
from cairn.schedules import service
from cairn.tenancy.service import Project, get_project_by_id
from cairn.webhooks.delivery import send_signed

log = logging.getLogger(__name__)


class ReceiverFailed(CairnError):
    title = "Receiver Failed"
    slug = "receiver-failed"


EXPORT_BATCH = 1000


def tick_schedules(now: datetime | None = None) -> int:
    """Claim every due tick in every project; each claimed run is enqueued after commit."""
    moment = now or datetime.now(UTC)
    claimed = 0
    for project, conn in context.each_project():
        claimed += len(service.claim_due(conn, project.id, moment))
    return claimed


def run_schedule(project_id: str, schedule_id: str, tick: str) -> str:
    """Run one claimed tick. A run that already started is not run again."""
    rt = context.runtime()
    project_uuid, schedule_uuid, at = (
        UUID(project_id),
        UUID(schedule_id),
        datetime.fromisoformat(tick),
    )
    with rt.db.tenant(project_uuid) as conn:
        if not service.start_run(conn, project_uuid, schedule_uuid, at):
            return "already run"
        schedule = service.get_schedule(conn, project_uuid, schedule_uuid)
    with rt.db.unscoped() as conn:
        project = get_project_by_id(conn, project_uuid)
    status, result, error = "succeeded", None, None
    try:
        result = ACTIONS[schedule.definition.action["type"]](rt, project, schedule, at)
    except Exception as exc:
        status = "failed"
        error = (exc.detail if isinstance(exc, CairnError) else f"{type(exc).__name__}: {exc}")[
            :500
        ]
        log.warning(
            "schedule run failed", extra={"schedule": schedule.definition.name, "error": error}
        )
    with rt.db.tenant(project_uuid) as conn:
        service.finish_run(conn, project_uuid, schedule_uuid, at, status, result, error)
    return status


def _purge(
    rt: Runtime, project: Project, schedule: service.Schedule, tick: datetime
) -> dict[str, Any]:
    """Delete a collection's records created before `tick - older_than` (and matching the
    filter). A bulk maintenance delete: it writes no per-record events."""
    action = schedule.definition.action
    cutoff = tick - parse_duration(action["older_than"])
    with rt.db.tenant(project.id) as conn:
        coll = collections.load(conn, project, action["collection"])
        conditions = [coll.table.c.created_at < cutoff]
        if action.get("filter"):
            conditions.append(compile_expression(action["filter"], coll.fields))
        deleted = conn.execute(delete(coll.table).where(*conditions)).rowcount
    return {"deleted": deleted, "cutoff": cutoff.isoformat()}


def _export(
    rt: Runtime, project: Project, schedule: service.Schedule, tick: datetime
) -> dict[str, Any]:
    """Stream a collection to data/exports/<project>/<collection>-<tick>.jsonl."""
    name = schedule.definition.action["collection"]
    written = 0
    with rt.db.tenant(project.id) as conn:
        coll = collections.load(conn, project, name)  # a name it is not never becomes a path
        folder = Path(rt.settings.data_dir) / "exports" / project.slug
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{coll.name}-{tick.strftime('%Y%m%dT%H%M%SZ')}.jsonl"
        rows = conn.execution_options(yield_per=EXPORT_BATCH).execute(
            select(coll.table).order_by(coll.table.c.id)
        )
        with path.open("w") as out:
            for row in rows:
                out.write(json.dumps(dict(row._mapping), default=str) + "\n")
                written += 1
    return {"path": str(path), "records": written}


def _webhook(
    rt: Runtime, project: Project, schedule: service.Schedule, tick: datetime
) -> dict[str, Any]:
    action = schedule.definition.action
    body = json.dumps(
        {
            "type": "schedule.tick",
            "project": project.slug,
            "schedule": schedule.definition.name,
            "tick": tick.isoformat(),
        }
    )
    response = send_signed(
        action["url"],
        f"{schedule.id}-{int(tick.timestamp())}",
        body,
        rt.webhook_box.open(action["secret_sealed"].encode()),
        allow_private=rt.settings.webhook_allow_private,
    )
    if not 200 <= response.status_code < 300:
        raise ReceiverFailed(f"the receiver answered {response.status_code}")
    return {"status_code": response.status_code}


ACTIONS = {"purge": _purge, "export": _export, "webhook": _webhook}
