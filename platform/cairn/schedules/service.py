"""Declaring schedules and deciding when they fire.

A schedule is a cron expression in a timezone and an action:
- `purge`: delete records of a collection older than a duration (and matching a filter);
- `export`: write a collection to a JSON-lines file under the data dir;
- `webhook`: POST a signed notice of the tick to a URL (same SSRF guard as webhooks).
Ticks are computed with croniter in the schedule's timezone. Each due tick is claimed by one
INSERT of its run row, so it fires once however many schedulers are running; ticks missed
while nothing ran are not replayed (one catch-up run, then the next tick after now).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterBadCronError, CroniterBadDateError
from sqlalchemy import Connection, DateTime, Uuid, column, func, select, update, values
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping

from cairn.audit import service as audit
from cairn.db.engine import PendingJob, after_commit
from cairn.db.named import NAME_RULE, NAMED, delete_named, get_named, save_named
from cairn.durations import parse_duration
from cairn.errors import Invalid
from cairn.records.filter import FilterError, parse
from cairn.schedules.models import schedule_runs, schedules
from cairn.schema.definitions import check_name
from cairn.webhooks.service import SecretBox, check_url, is_http_url, new_secret

RUN = "cairn.schedules.tasks.run_schedule"
TICK_EVERY_SECONDS = 20
ACTIONS = ("purge", "export", "webhook")


@dataclass(frozen=True)
class ScheduleDef:
    name: str
    cron: str
    timezone: str
    action: dict[str, Any]
    enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        """As the project file holds it: never the webhook action's secret."""
        action = {k: v for k, v in self.action.items() if k not in ("secret", "secret_sealed")}
        out: dict[str, Any] = {"name": self.name, "cron": self.cron}
        if self.timezone != "UTC":
            out["timezone"] = self.timezone
        out["action"] = action
        if not self.enabled:
            out["enabled"] = False
        return out


@dataclass(frozen=True)
class Schedule:
    id: UUID
    definition: ScheduleDef
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_status: str | None
    last_error: str | None

    def to_dict(self) -> dict[str, Any]:
        """As the API and the CLI show it: the definition (never a secret) and its runs."""
        return {
            "id": self.id,
            **self.definition.to_dict(),
            "timezone": self.definition.timezone,
            "enabled": self.definition.enabled,
            "next_run_at": self.next_run_at,
            "last_run_at": self.last_run_at,
            "last_status": self.last_status,
            "last_error": self.last_error,
        }

    @classmethod
    def from_row(cls, row: RowMapping) -> Schedule:
        definition = ScheduleDef(
            row["name"], row["cron"], row["timezone"], dict(row["action"]), row["enabled"]
        )
        return cls(
            row["id"],
            definition,
            row["next_run_at"],
            row["last_run_at"],
            row["last_status"],
            row["last_error"],
        )


def load_schedule(data: Any, *, partial_of: ScheduleDef | None = None) -> ScheduleDef:
    if not isinstance(data, dict):
        raise Invalid("a schedule must be an object")
    errors: dict[str, list[str]] = {}
    for key in sorted(set(data) - {"name", "cron", "timezone", "action", "enabled"}):
        errors[key] = ["unknown field"]
    base = partial_of.__dict__ if partial_of else {}
    merged = {**base, **data}
    name, cron, tz = merged.get("name"), merged.get("cron"), merged.get("timezone", "UTC")
    action, enabled = merged.get("action"), merged.get("enabled", True)
    if not isinstance(name, str) or not NAMED.fullmatch(name):
        errors["name"] = [NAME_RULE]
    if not _valid_cron(cron):
        errors["cron"] = [
            f"{str(cron)[:40]!r} is not a cron expression that ever fires "
            "(at most 120 characters, e.g. '0 3 * * *' or '@daily')"
        ]
    if not _valid_zone(tz):
        errors["timezone"] = [f"{str(tz)[:40]!r} is not an IANA time zone (e.g. Europe/Berlin)"]
    if not isinstance(enabled, bool):
        errors["enabled"] = ["must be true or false"]
    if "action" in data or partial_of is None:
        # Only what the caller sent is checked: `secret_sealed` is never theirs to send.
        errors.update(_action_errors(action))
    if errors:
        raise Invalid("the schedule is not valid", errors=errors)
    assert isinstance(action, dict)
    loaded = ScheduleDef(str(name), str(cron), str(tz), dict(action), bool(enabled))
    if partial_of is not None and "action" in data:
        return keeping_secret(partial_of, loaded)  # a patched webhook action keeps its secret
    return loaded


def _valid_cron(cron: Any) -> bool:
    """What croniter accepts (5 fields, a seconds field, @daily …) and will ever fire."""
    if not isinstance(cron, str) or len(cron) > 120 or not croniter.is_valid(cron):
        return False
    try:
        croniter(cron, datetime.now(UTC)).get_next(datetime)  # '0 0 31 2 *' never fires
    except (CroniterBadCronError, CroniterBadDateError, ValueError, KeyError):
        return False
    return True


def _valid_zone(name: Any) -> bool:
    if not isinstance(name, str) or not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, a long name
        return False
    return True


def _action_errors(action: Any) -> dict[str, list[str]]:
    if not isinstance(action, dict) or action.get("type") not in ACTIONS:
        return {"action.type": [f"one of {', '.join(ACTIONS)}"]}
    kind = action["type"]
    allowed = {
        "purge": {"type", "collection", "older_than", "filter"},
        "export": {"type", "collection"},
        "webhook": {"type", "url", "secret"},
    }[kind]
    errors = {f"action.{k}": ["unknown field"] for k in sorted(set(action) - allowed)}
    if kind in ("purge", "export") and (
        not isinstance(action.get("collection"), str)
        or check_name("collection", action["collection"]) is not None
    ):
        errors["action.collection"] = ["the name of the collection to act on"]
    if kind == "purge":
        try:
            parse_duration(str(action.get("older_than", "")))
        except ValueError as exc:
            errors["action.older_than"] = [str(exc)]
        if action.get("filter") is not None:
            try:
                parse(str(action["filter"]))
            except FilterError as exc:
                errors["action.filter"] = [exc.detail]
    if kind == "webhook":
        if not is_http_url(action.get("url")):
            errors["action.url"] = ["an http:// or https:// URL with a host"]
        secret = action.get("secret")
        if secret is not None and (not isinstance(secret, str) or len(secret) < 24):
            errors["action.secret"] = ["at least 24 characters"]
    return errors


def next_tick(definition: ScheduleDef, after: datetime) -> datetime:
    """The first tick strictly after `after`, in the schedule's own time zone."""
    zone = ZoneInfo(definition.timezone)
    following: datetime = croniter(definition.cron, after.astimezone(zone)).get_next(datetime)
    return following.astimezone(UTC)


_COLUMNS = [
    schedules.c[n]
    for n in (
        "id",
        "name",
        "cron",
        "timezone",
        "action",
        "enabled",
        "next_run_at",
        "last_run_at",
        "last_status",
        "last_error",
    )
]


def list_schedules(conn: Connection, project_id: UUID) -> list[Schedule]:
    rows = conn.execute(
        select(*_COLUMNS).where(schedules.c.project_id == project_id).order_by(schedules.c.name)
    ).mappings()
    return [Schedule.from_row(r) for r in rows]


def get_schedule(conn: Connection, project_id: UUID, schedule_id: UUID) -> Schedule:
    return Schedule.from_row(
        get_named(conn, schedules, _COLUMNS, project_id, schedule_id, kind="schedule")
    )


def save_schedule(
    conn: Connection,
    box: SecretBox,
    project_id: UUID,
    definition: ScheduleDef,
    *,
    actor: str,
    allow_private: bool,
    schedule_id: UUID | None = None,
    stored: ScheduleDef | None = None,
    url_checked: bool = False,
) -> Schedule:
    """Create (or, with `schedule_id`, replace) a schedule. A webhook URL equal to the one
    in `stored` (the schedule as it is now) is not resolved again, so a schedule whose host
    has gone can still be paused; the run checks it anyway. `url_checked`: the caller has
    just checked it (`cairn apply`, while planning)."""
    action = dict(definition.action)
    if action["type"] == "webhook":
        if not url_checked and action["url"] != webhook_url(stored):
            check_url(action["url"], allow_private=allow_private, field="action.url")
        secret = action.pop("secret", None)
        if secret is not None or "secret_sealed" not in action:
            action["secret_sealed"] = box.seal(secret or new_secret()).decode()
    stored = replace(definition, action=action)
    values = {
        "name": stored.name,
        "cron": stored.cron,
        "timezone": stored.timezone,
        "action": stored.action,
        "enabled": stored.enabled,
        "updated_at": func.now(),
        "next_run_at": next_tick(stored, datetime.now(UTC)) if stored.enabled else None,
    }
    row = save_named(
        conn, schedules, _COLUMNS, project_id, values, item_id=schedule_id, kind="schedule"
    )
    audit.record(conn, project_id, actor, "schedule.saved", str(row["id"]), stored.to_dict())
    return Schedule.from_row(row)


def update_schedule(
    conn: Connection,
    box: SecretBox,
    project_id: UUID,
    schedule_id: UUID,
    changes: Any,
    *,
    actor: str,
    allow_private: bool,
) -> Schedule:
    """Change the keys `changes` names; the others (and a webhook action's secret) stay."""
    current = get_schedule(conn, project_id, schedule_id)
    return save_schedule(
        conn,
        box,
        project_id,
        load_schedule(changes, partial_of=current.definition),
        actor=actor,
        allow_private=allow_private,
        schedule_id=schedule_id,
        stored=current.definition,
    )


def webhook_url(definition: ScheduleDef | None) -> str | None:
    """The URL a schedule posts to, if it is a webhook schedule."""
    if definition is None or definition.action.get("type") != "webhook":
        return None
    return str(definition.action["url"])


def delete_schedule(conn: Connection, project_id: UUID, schedule_id: UUID, *, actor: str) -> str:
    """Delete the schedule; answers its name."""
    name = delete_named(conn, schedules, project_id, schedule_id, kind="schedule")
    audit.record(conn, project_id, actor, "schedule.deleted", str(schedule_id))
    return name


def set_next_runs(
    conn: Connection, project_id: UUID, following: list[tuple[UUID, datetime | None]]
) -> None:
    """Move schedules to the given next runs (None: not scheduled), in one statement."""
    if not following:
        return
    runs = values(
        column("id", Uuid()), column("next_run_at", DateTime(timezone=True)), name="following"
    ).data(following)
    conn.execute(
        update(schedules)
        .where(schedules.c.project_id == project_id, schedules.c.id == runs.c.id)
        .values(next_run_at=runs.c.next_run_at)
    )


def claim_due(conn: Connection, project_id: UUID, now: datetime) -> list[PendingJob]:
    """Claim every due tick of the project's enabled schedules (one run row each; a tick
    another scheduler claimed first is skipped) and move each schedule to its next tick.
    Three statements however many are due; rows are claimed in id order, so two schedulers
    claiming at once wait on each other instead of deadlocking."""
    due = [
        Schedule.from_row(row)
        for row in conn.execute(
            select(*_COLUMNS)
            .where(
                schedules.c.project_id == project_id,
                schedules.c.enabled,
                schedules.c.next_run_at <= now,
            )
            .order_by(schedules.c.id)
        ).mappings()
    ]
    if not due:
        return []
    claimed = conn.execute(
        insert(schedule_runs)
        .values(
            [{"project_id": project_id, "schedule_id": s.id, "tick": s.next_run_at} for s in due]
        )
        .on_conflict_do_nothing()
        .returning(schedule_runs.c.schedule_id, schedule_runs.c.tick)
    ).all()
    set_next_runs(
        conn,
        project_id,
        [(s.id, next_tick(s.definition, max(now, s.next_run_at or now))) for s in due],
    )
    jobs = [
        PendingJob(
            "default",
            RUN,
            (str(project_id), str(schedule_id), tick.isoformat()),
            f"schedule-{schedule_id}-{int(tick.timestamp())}",
            project_id=project_id,
        )
        for schedule_id, tick in claimed
    ]
    for job in jobs:
        after_commit(conn, job)
    return jobs


def start_run(conn: Connection, project_id: UUID, schedule_id: UUID, tick: datetime) -> bool:
    """Mark a claimed run as running; False if it already started (a duplicate job)."""
    started = conn.execute(
        update(schedule_runs)
        .where(*_run_key(project_id, schedule_id, tick), schedule_runs.c.status == "queued")
        .values(status="running", started_at=func.now())
        .returning(schedule_runs.c.tick)
    ).first()
    return started is not None


def finish_run(
    conn: Connection,
    project_id: UUID,
    schedule_id: UUID,
    tick: datetime,
    status: str,
    result: dict[str, Any] | None,
    error: str | None,
) -> None:
    """Record how the run went, on the run and as the schedule's last run."""
    conn.execute(
        update(schedule_runs)
        .where(*_run_key(project_id, schedule_id, tick))
        .values(status=status, finished_at=func.now(), result=result, error=error)
    )
    conn.execute(
        update(schedules)
        .where(schedules.c.project_id == project_id, schedules.c.id == schedule_id)
        .values(last_run_at=tick, last_status=status, last_error=error)
    )


def _run_key(project_id: UUID, schedule_id: UUID, tick: datetime) -> tuple[Any, ...]:
    return (
        schedule_runs.c.project_id == project_id,
        schedule_runs.c.schedule_id == schedule_id,
        schedule_runs.c.tick == tick,
    )


def list_runs(
    conn: Connection, project_id: UUID, schedule_id: UUID, limit: int = 20
) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(*schedule_runs.c)
        .where(schedule_runs.c.project_id == project_id, schedule_runs.c.schedule_id == schedule_id)
        .order_by(schedule_runs.c.tick.desc())
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def differs(box: SecretBox, stored: ScheduleDef, wanted: ScheduleDef) -> bool:
    """Whether applying `wanted` would change `stored` (secrets compared decrypted)."""
    sealed = stored.action.get("secret_sealed")
    given = wanted.action.get("secret")
    same_secret = given is None or (sealed is not None and box.open(sealed.encode()) == given)
    return stored.to_dict() != wanted.to_dict() or not same_secret


def keeping_secret(stored: ScheduleDef, wanted: ScheduleDef) -> ScheduleDef:
    """A webhook action given without a secret keeps the stored (sealed) one."""
    sealed = stored.action.get("secret_sealed")
    if sealed and wanted.action.get("type") == "webhook" and wanted.action.get("secret") is None:
        return replace(wanted, action={**wanted.action, "secret_sealed": sealed})
    return wanted
