"""Every control-plane table, imported in one place so Alembic and the tests see them all."""

from cairn.admins.models import admin_sessions, admins
from cairn.audit.models import audit_log
from cairn.auth.models import api_keys
from cairn.db.metadata import metadata
from cairn.idempotency.models import idempotency_keys
from cairn.jobs.models import events
from cairn.mail.models import mails
from cairn.schedules.models import schedule_runs, schedules
from cairn.schema.models import collections
from cairn.tenancy.models import projects
from cairn.users.models import (
    auth_providers,
    auth_tokens,
    oauth_identities,
    oauth_states,
    sessions,
    users,
)
from cairn.webhooks.models import deliveries, delivery_attempts, webhooks

# Tables that hold a project's data: project_id leads the primary key and RLS binds each row
# to the project named by the transaction.
TENANT_TABLES = (
    api_keys,
    audit_log,
    auth_providers,
    auth_tokens,
    collections,
    deliveries,
    delivery_attempts,
    events,
    idempotency_keys,
    mails,
    oauth_identities,
    oauth_states,
    schedule_runs,
    schedules,
    sessions,
    users,
    webhooks,
)

__all__ = [
    "TENANT_TABLES",
    "admin_sessions",
    "admins",
    "api_keys",
    "audit_log",
    "auth_providers",
    "auth_tokens",
    "collections",
    "deliveries",
    "delivery_attempts",
    "events",
    "idempotency_keys",
    "mails",
    "metadata",
    "oauth_identities",
    "oauth_states",
    "projects",
    "schedule_runs",
    "schedules",
    "sessions",
    "users",
    "webhooks",
]
