"""Delivering events to webhooks: fan out, claim an attempt, POST it signed, record it,
retry it later, or give up.

Each (event, webhook) pair is one delivery whose id is the `webhook-id` header, the same on
every attempt, so receivers can dedupe. An attempt first claims the delivery under a lease
(one guarded UPDATE): two copies of the job can never post the same delivery at once, and a
worker killed mid-request leaves the lease to expire, after which the sweeper hands the
delivery to another worker. Retries wait exponentially longer with jitter, never less than a
receiver's Retry-After, up to the attempt limit; then the delivery fails and can be
redelivered.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import Connection, and_, any_, func, insert, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from standardwebhooks.webhooks import Webhook as Signer

from cairn.db.engine import PendingJob, after_commit
from cairn.errors import Invalid, NotFound
from cairn.jobs.models import events
from cairn.webhooks.models import deliveries, delivery_attempts, webhooks
from cairn.webhooks.service import SecretBox, check_url

DELIVER = "cairn.jobs.tasks.deliver_webhook"
MAX_ATTEMPTS = 8
BASE_DELAY_SECONDS = 10.0
MAX_DELAY_SECONDS = 3600.0
TIMEOUT_SECONDS = 10.0
# How long an attempt owns its delivery: longer than the request can take.
LEASE = timedelta(seconds=TIMEOUT_SECONDS * 3)
EXCERPT = 500


def deliver_job(
    project_id: UUID, delivery_id: UUID, attempt: int, delay: float = 0.0
) -> PendingJob:
    return PendingJob(
        "webhooks",
        DELIVER,
        (str(project_id), str(delivery_id)),
        f"delivery-{delivery_id}-{attempt}",
        delay,
        project_id=project_id,
    )


def fan_out(conn: Connection, project_id: UUID, event_id: UUID, kind: str, collection: str) -> int:
    """One delivery per enabled webhook that wants this event, in one statement; each is
    handed to the `webhooks` queue after commit."""
    wanted = select(
        literal(project_id, deliveries.c.project_id.type),
        func.gen_random_uuid(),
        webhooks.c.id,
        literal(event_id, deliveries.c.event_id.type),
        literal(MAX_ATTEMPTS),
        func.now(),
    ).where(
        webhooks.c.project_id == project_id,
        webhooks.c.enabled,
        literal(kind) == any_(webhooks.c.events),
        or_(
            func.cardinality(webhooks.c.collections) == 0,
            literal(collection) == any_(webhooks.c.collections),
        ),
    )
    created = (
        conn.execute(
            pg_insert(deliveries)
            .from_select(
                ["project_id", "id", "webhook_id", "event_id", "attempt_limit", "next_attempt_at"],
                wanted,
            )
            .on_conflict_do_nothing()
            .returning(deliveries.c.id)
        )
        .scalars()
        .all()
    )
    for delivery_id in created:
        after_commit(conn, deliver_job(project_id, delivery_id, 1))
    return len(created)


@dataclass(frozen=True)
class Claim:
    attempt: int
    attempt_limit: int
    url: str
    sealed_secret: bytes
    body: str
    kind: str


def claim(conn: Connection, project_id: UUID, delivery_id: UUID) -> Claim | None:
    """Take the next attempt of a pending, due delivery; None when there is nothing to do
    (already delivered, failed, not yet due, or another worker holds it)."""
    due = or_(
        deliveries.c.next_attempt_at.is_(None),
        deliveries.c.next_attempt_at <= func.now() + text("interval '1 second'"),
    )
    claimed = conn.execute(
        update(deliveries)
        .where(
            deliveries.c.project_id == project_id,
            deliveries.c.id == delivery_id,
            deliveries.c.status == "pending",
            due,
        )
        .values(
            attempts=deliveries.c.attempts + 1,
            next_attempt_at=func.now() + LEASE,
            updated_at=func.now(),
        )
        .returning(
            deliveries.c.attempts,
            deliveries.c.attempt_limit,
            deliveries.c.webhook_id,
            deliveries.c.event_id,
        )
    ).first()
    if claimed is None:
        return None
    row = conn.execute(
        select(
            webhooks.c.url,
            webhooks.c.secret_encrypted,
            events.c.type,
            events.c.collection,
            events.c.record_id,
            events.c.payload,
            events.c.occurred_at,
            events.c.id,
        )
        .select_from(
            webhooks.join(
                events,
                and_(events.c.project_id == webhooks.c.project_id, events.c.id == claimed.event_id),
            )
        )
        .where(webhooks.c.project_id == project_id, webhooks.c.id == claimed.webhook_id)
    ).one()
    body = json.dumps(
        {
            "type": row.type,
            "timestamp": row.occurred_at.isoformat(),
            "data": {
                "event_id": str(row.id),
                "collection": row.collection,
                "record_id": str(row.record_id),
                "record": row.payload,
            },
        },
        separators=(",", ":"),
    )
    return Claim(
        claimed.attempts,
        claimed.attempt_limit,
        row.url,
        bytes(row.secret_encrypted),
        body,
        row.type,
    )


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    excerpt: str | None
    duration_ms: int
    retry_after: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        if self.status_code is None:
            return self.error is not None and not self.error.startswith("refused:")
        return self.status_code in (408, 429) or self.status_code >= 500


def send_signed(
    url: str, msg_id: str, body: str, secret: str, *, allow_private: bool
) -> httpx.Response:
    """POST `body` to `url` as Standard Webhooks message `msg_id`, signed with `secret`.
    Raises Invalid for a URL the SSRF guard refuses and httpx.HTTPError when the request
    fails."""
    check_url(url, allow_private=allow_private)
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": "Cairn-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(secret).sign(msg_id, now, body),
    }
    return httpx.post(
        url, content=body, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False
    )


def post(claim_: Claim, delivery_id: UUID, box: SecretBox, *, allow_private: bool) -> Outcome:
    """One signed POST of the claimed attempt. Never raises."""
    started = time.perf_counter()
    try:
        response = send_signed(
            claim_.url,
            str(delivery_id),
            claim_.body,
            box.open(claim_.sealed_secret),
            allow_private=allow_private,
        )
    except Invalid as exc:
        return Outcome(None, f"refused: {'; '.join(exc.errors.get('url', []))}", None, 0)
    except httpx.HTTPError as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:EXCERPT], None, elapsed)
    elapsed = int((time.perf_counter() - started) * 1000)
    return Outcome(
        response.status_code,
        None,
        response.text[:EXCERPT],
        elapsed,
        retry_after=_retry_after(response.headers.get("retry-after")),
    )


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    if value.strip().isdigit():
        return min(float(value), MAX_DELAY_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), MAX_DELAY_SECONDS)


def backoff(attempt: int) -> float:
    """Exponential, capped, with ±20% jitter so retries of many deliveries spread out."""
    delay: float = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempt - 1))
    return delay * random.uniform(0.8, 1.2)


def record(
    conn: Connection, project_id: UUID, delivery_id: UUID, claim_: Claim, outcome: Outcome
) -> str:
    """Log the attempt and decide: succeeded, pending (retry later), or failed."""
    conn.execute(
        insert(delivery_attempts).values(
            project_id=project_id,
            delivery_id=delivery_id,
            attempt=claim_.attempt,
            started_at=func.now(),
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
        )
    )
    values: dict[str, Any] = {
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
        "updated_at": func.now(),
    }
    if outcome.succeeded:
        status, values["next_attempt_at"] = "succeeded", None
    elif outcome.retryable and claim_.attempt < claim_.attempt_limit:
        delay = max(backoff(claim_.attempt), outcome.retry_after or 0.0)
        status = "pending"
        values["next_attempt_at"] = func.now() + timedelta(seconds=delay)
        after_commit(conn, deliver_job(project_id, delivery_id, claim_.attempt + 1, delay))
    else:
        status, values["next_attempt_at"] = "failed", None
    conn.execute(
        update(deliveries)
        .where(deliveries.c.project_id == project_id, deliveries.c.id == delivery_id)
        .values(status=status, **values)
    )
    return status


def redeliver(conn: Connection, project_id: UUID, webhook_id: UUID, delivery_id: UUID) -> None:
    """Send a finished delivery again, with a fresh series of attempts."""
    row = conn.execute(
        update(deliveries)
        .where(
            deliveries.c.project_id == project_id,
            deliveries.c.id == delivery_id,
            deliveries.c.webhook_id == webhook_id,
            deliveries.c.status != "pending",
        )
        .values(
            status="pending",
            next_attempt_at=func.now(),
            updated_at=func.now(),
            attempt_limit=deliveries.c.attempts + MAX_ATTEMPTS,
        )
        .returning(deliveries.c.attempts)
    ).first()
    if row is None:
        exists = conn.execute(
            select(deliveries.c.status).where(
                deliveries.c.project_id == project_id,
                deliveries.c.id == delivery_id,
                deliveries.c.webhook_id == webhook_id,
            )
        ).first()
        if exists is None:
            raise NotFound(f"no delivery {delivery_id} for this webhook")
        raise Invalid(errors={"status": ["the delivery is still pending; it will be retried"]})
    after_commit(conn, deliver_job(project_id, delivery_id, row.attempts + 1))


def due_deliveries(
    conn: Connection, project_id: UUID, grace: timedelta, limit: int
) -> list[PendingJob]:
    """Pending deliveries whose lease or retry time passed long ago: their job was lost (a
    worker killed mid-request, Redis down when it was scheduled)."""
    rows = conn.execute(
        select(deliveries.c.id, deliveries.c.attempts)
        .where(
            deliveries.c.project_id == project_id,
            deliveries.c.status == "pending",
            deliveries.c.next_attempt_at < func.now() - grace,
        )
        .order_by(deliveries.c.next_attempt_at)
        .limit(limit)
    ).all()
    return [deliver_job(project_id, r.id, r.attempts + 1) for r in rows]


def list_deliveries(
    conn: Connection, project_id: UUID, webhook_id: UUID, *, limit: int, before: UUID | None
) -> tuple[list[dict[str, Any]], bool]:
    """A page of deliveries, newest first, each with its attempts (two queries a page)."""
    query = select(*deliveries.c).where(
        deliveries.c.project_id == project_id, deliveries.c.webhook_id == webhook_id
    )
    if before is not None:
        query = query.where(deliveries.c.id < before)
    rows = [
        dict(r)
        for r in conn.execute(query.order_by(deliveries.c.id.desc()).limit(limit + 1)).mappings()
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    attempts: dict[UUID, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    if rows:
        for attempt in conn.execute(
            select(*delivery_attempts.c)
            .where(
                delivery_attempts.c.project_id == project_id,
                delivery_attempts.c.delivery_id.in_(list(attempts)),
            )
            .order_by(delivery_attempts.c.delivery_id, delivery_attempts.c.attempt)
        ).mappings():
            attempts[attempt["delivery_id"]].append(dict(attempt))
    for row in rows:
        row["attempts_log"] = attempts[row["id"]]
    return rows, more
