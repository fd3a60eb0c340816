"""The per-project OpenAPI 3.1 document, built with apispec from the marshmallow schemas the
server validates with.

Pure: a project and its collections in, a dict out; no Flask, no database.

- Request bodies of the records API are the collections' own `create_schema` and
  `update_schema` (the very objects `records.service.validate` loads with), converted by
  apispec's MarshmallowPlugin; the per-type fields of `cairn.schema.values` are mapped to
  OpenAPI types on the plugin's converter, and validators (Range, Length, Regexp, OneOf, Email,
  URL, unique items) become keywords.
- Records, list items, pages and expansions are marshmallow schemas built here from the same
  per-type fields, minus the validators that only writes enforce (min/max, lengths, pattern:
  changing them "applies to writes from now on", so stored records need not satisfy them).
- The admin APIs reuse `cairn.auth.schemas`; collection definitions, webhooks, schedules,
  jobs, sessions and OAuth providers (validated by hand in their services, not by
  marshmallow) are plain JSON Schema.
- End users carry the project's profile fields (`users:` in the project file): the `User`
  schema and the bodies that take profile fields (`SignupInput`, `UserInput`, `UserPatch`,
  `ProfilePatch`) are built per project from `cairn.users.service.user_fields`: `User` holds
  them as a record holds a collection's fields, the bodies take the very fields
  `ProfileFields.validate` loads with (`USER_SCHEMAS` names these components).

Names are stable and collision-free: a collection `blog_posts` gives the components
`BlogPostsRecord`, `BlogPostsListItem`, `BlogPostsExpand`, `BlogPostsPage`, `BlogPostsCreate`,
`BlogPostsUpdate` and the operations `listBlogPosts`, `createBlogPosts`, `getBlogPosts`,
`updateBlogPosts`, `deleteBlogPosts`. The fixed operations are named resource first
(`apiKeysList`, `collectionsGet`, `webhooksDeliveries`, `jobsRetry`, `authSignup`,
`usersList`, `providersCreate`, `batch`, `openapiDocument`): none starts with a record verb
followed by a capital, so no collection name can produce one of them, and no fixed component
name ends in a per-collection suffix.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, cast

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import make_schema_key, resolve_schema_cls
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, fields, validate
from rq.job import JobStatus

from cairn import __version__
from cairn.auth.models import API_KEY_SCOPES
from cairn.auth.passwords import MAX_LENGTH as MAX_PASSWORD_LENGTH
from cairn.auth.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from cairn.auth.schemas import CreateKeyIn, Duration, IssuedKeyOut, KeyOut
from cairn.email_address import MAX_EMAIL_LENGTH
from cairn.idempotency.service import MAX_KEY_LENGTH
from cairn.jobs.service import STATUSES as JOB_STATUS_FILTERS
from cairn.records.batch import MAX_OPERATIONS
from cairn.records.collection import Collection
from cairn.schema.definitions import FIELD_TYPES, NAME, ON_DELETE, RULE_ACTIONS, FieldDef
from cairn.schema.values import (
    AnyJson,
    IsoDate,
    IsoDateTime,
    StrictBoolean,
    StrictInteger,
    StrictNumber,
    UuidString,
    marshmallow_field,
)
from cairn.tenancy.service import Project
from cairn.users.providers import MAX_CLIENT_ID, MAX_SECRET, PRESETS
from cairn.users.service import user_fields
from cairn.users.sessions import TOKEN_PREFIX as SESSION_TOKEN_PREFIX
from cairn.users.tokens import TOKEN_PREFIX as MAILED_TOKEN_PREFIX
from cairn.webhooks.service import EVENT_TYPES as WEBHOOK_EVENTS

OPENAPI_VERSION = "3.1.0"
PROBLEM_MIME = "application/problem+json"
JSON_MIME = "application/json"
# cairn.http.pagination's (http/ imports Flask; this module must not). A test compares them.
MAX_LIMIT = 500
DEFAULT_LIMIT = 50

# Suffixes of the per-collection components; no fixed component name may end in one.
COLLECTION_SUFFIXES = ("Record", "ListItem", "Expand", "Page", "Create", "Update")
RECORD_VERBS = ("list", "create", "get", "update", "delete")
# Tags of the fixed operations; collections tag theirs with their (lower-case) name.
TAG_BATCH, TAG_SCHEMA, TAG_KEYS, TAG_OPENAPI = "Batch", "Collections", "API keys", "OpenAPI"
TAG_WEBHOOKS, TAG_SCHEDULES, TAG_JOBS = "Webhooks", "Schedules", "Jobs"
TAG_AUDIT = "Audit log"
TAG_AUTH, TAG_USERS, TAG_PROVIDERS = "Auth", "Users", "OAuth providers"
# cairn.http.tenant's (it imports Flask; this module must not). A test compares them.
SESSION_COOKIE, CSRF_COOKIE, CSRF_HEADER = "cairn_session", "cairn_csrf", "X-CSRF-Token"
# The longest mailed token cairn.users.tokens.redeem looks up.
MAX_MAILED_TOKEN_LENGTH = 100
# The per-project components built from the project's profile fields (see the docstring).
USER_SCHEMAS = ("User", "SignupInput", "UserInput", "UserPatch", "ProfilePatch")


def pascal(name: str) -> str:
    """`blog_posts` → `BlogPosts`. Injective over collection names: a part that does not start
    with a letter keeps its underscore (`v_2` → `V_2`, `a__b` → `A_B`), and names are lower
    case, so every capital marks exactly one dropped underscore."""
    head, *rest = name.split("_")
    out = head[:1].upper() + head[1:]
    for part in rest:
        out += part[:1].upper() + part[1:] if part[:1].isalpha() else "_" + part
    return out


def record_operation_ids(collection: str) -> dict[str, str]:
    """verb → operationId for a collection's five record operations."""
    return {verb: f"{verb}{pascal(collection)}" for verb in RECORD_VERBS}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


# -- field conversion ---------------------------------------------------------------------

# The per-type fields of cairn.schema.values (and the key API's Duration) → (type, format).
FIELD_TYPE_MAP: dict[type, tuple[str | None, str | None]] = {
    StrictInteger: ("integer", "int64"),
    StrictNumber: ("number", "double"),
    StrictBoolean: ("boolean", None),
    IsoDate: ("string", "date"),
    IsoDateTime: ("string", "date-time"),
    UuidString: ("string", "uuid"),
    AnyJson: (None, None),
    Duration: ("string", None),
}

_GLOBAL_FLAGS = re.compile(r"^\(\?[aiLmsux]+\)")
_JSON_TYPES = ["object", "array", "string", "number", "boolean"]


def _anchored(pattern: str) -> str:
    """marshmallow's Regexp matches at the start of the value (`re.match`); a JSON Schema
    `pattern` matches anywhere. Anchoring the pattern says what the server really checks.
    A leading global flag group such as `(?i)` must stay first for Python's `re`."""
    flags = _GLOBAL_FLAGS.match(pattern)
    prefix = flags.group(0) if flags else ""
    body = pattern[len(prefix) :]
    if body.startswith("^") and "|" not in body:
        return pattern
    return f"{prefix}^(?:{body})"


def _validator_keywords(
    self: OpenAPIConverter,
    field: fields.Field,  # type: ignore[type-arg]
    ret: dict[str, Any],
    **kwargs: Any,
) -> dict[str, Any]:
    """What apispec leaves out: formats of the Email/URL validators, `uniqueItems` for lists
    that refuse repeats, and the start anchor of Regexp validators."""
    out: dict[str, Any] = {}
    for validator in field.validators:
        if isinstance(validator, validate.Email):
            out["format"] = "email"
        elif isinstance(validator, validate.URL):
            out["format"] = "uri"
        elif getattr(validator, "__name__", "") == "_unique_items":
            out["uniqueItems"] = True
    if "pattern" in ret:
        out["pattern"] = _anchored(ret["pattern"])
    return out


def _json_value(
    self: OpenAPIConverter,
    field: fields.Field,  # type: ignore[type-arg]
    ret: dict[str, Any],
    **kwargs: Any,
) -> dict[str, Any]:
    """A json field takes any JSON value; `null` only when the field allows none (a required
    json field refuses it). Defaults are written as JSON (dates as ISO strings)."""
    out: dict[str, Any] = {}
    if isinstance(field, AnyJson) and not field.allow_none:
        out["type"] = list(_JSON_TYPES)
    if "default" in ret:
        out["default"] = _jsonable(ret["default"])
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _configure(converter: OpenAPIConverter) -> None:
    # map_to_openapi_type writes into a class-level dict shared by every apispec user of the
    # process; give this converter its own copy first.
    converter.field_mapping = dict(converter.field_mapping)
    for field_class, (kind, fmt) in FIELD_TYPE_MAP.items():
        converter.map_to_openapi_type(field_class, kind, fmt)  # type: ignore[no-untyped-call]
    converter.add_attribute_function(_validator_keywords)  # type: ignore[no-untyped-call]
    converter.add_attribute_function(_json_value)  # type: ignore[no-untyped-call]


# -- fixed marshmallow schemas --------------------------------------------------------------


class PlanStepSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    action = fields.String(required=True)
    collection = fields.String(required=True)
    subject = fields.String(required=True, allow_none=True)
    summary = fields.String(required=True)
    destructive = fields.Boolean(required=True)
    blocked = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "why the current data blocks this step, if it does"},
    )
    concurrent = fields.Boolean(
        required=True,
        metadata={"description": "an index built concurrently after the rest commits"},
    )


class PlanSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    steps = fields.List(fields.Nested(PlanStepSchema), required=True)
    destructive = fields.Boolean(required=True)
    blocked = fields.Boolean(required=True)


class ProblemSchema(Schema):
    """RFC 9457 problem details, as cairn.http.problems writes them."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(
        required=True,
        metadata={"format": "uri-reference", "example": "urn:cairn:problem:not-found"},
    )
    title = fields.String(required=True)
    status = fields.Integer(required=True, validate=validate.Range(min=400, max=599))
    detail = fields.String(required=True)
    instance = fields.String(
        required=True, metadata={"description": "the request path the problem occurred on"}
    )
    request_id = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the request id (also in X-Request-ID); quote it in reports"},
    )
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "validation messages by field (or definition path)"},
    )
    current_version = fields.Integer(
        metadata={"description": "412 only: the version (ETag) the record is at"}
    )
    plan = fields.Nested(
        PlanSchema,
        metadata={"description": "409 on a schema change only: the refused plan"},
    )
    operation = fields.Integer(
        validate=validate.Range(min=0),
        metadata={"description": "batch only: the index of the operation that failed"},
    )


_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class BatchOperationSchema(Schema):
    class Meta:
        unknown = RAISE

    method = fields.String(required=True, validate=validate.OneOf(["POST", "PATCH", "DELETE"]))
    path = fields.String(
        required=True,
        validate=validate.Regexp(rf"^/collections/[a-z][a-z0-9_]{{0,62}}/records(/{_UUID})?$"),
        metadata={
            "description": "relative to the project: /collections/{c}/records for POST, "
            "/collections/{c}/records/{id} for PATCH and DELETE"
        },
    )
    body = fields.Dict(
        allow_none=True,
        metadata={"description": "the record body (POST, PATCH); null or absent is {}"},
    )
    if_match = fields.String(
        allow_none=True, metadata={"description": "an If-Match value (PATCH, DELETE)"}
    )


class BatchRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    operations = fields.List(
        fields.Nested(BatchOperationSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_OPERATIONS),
    )


class BatchResultSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.Integer(required=True)
    body = fields.Dict(required=True, allow_none=True)


class BatchResponseSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    results = fields.List(
        fields.Nested(BatchResultSchema),
        required=True,
        metadata={"description": "one result per operation, in order"},
    )


class _KeyListSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    items = fields.List(fields.Nested(KeyOut), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


# name → (schema, properties every response carries)
FIXED_SCHEMAS: dict[str, tuple[type[Schema], tuple[str, ...]]] = {
    "Problem": (ProblemSchema, ()),
    "PlanStep": (PlanStepSchema, ()),
    "Plan": (PlanSchema, ()),
    "ApiKey": (KeyOut, tuple(KeyOut._declared_fields)),
    "ApiKeyIssued": (IssuedKeyOut, tuple(IssuedKeyOut._declared_fields)),
    "ApiKeyInput": (CreateKeyIn, ()),
    "ApiKeyList": (_KeyListSchema, ()),
    "BatchOperation": (BatchOperationSchema, ()),
    "BatchRequest": (BatchRequestSchema, ()),
    "BatchResult": (BatchResultSchema, ()),
    "BatchResponse": (BatchResponseSchema, ()),
}


# -- collection definitions (plain JSON Schema: definitions are not marshmallow) ----------

_NAME_SCHEMA = {"type": "string", "pattern": NAME.pattern}


def _definition_schemas() -> dict[str, dict[str, Any]]:
    field_definition = {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": list(FIELD_TYPES)},
            "required": {"type": "boolean"},
            "default": {"description": "a value of the field's type"},
            "unique": {"type": "boolean"},
            "min": {"type": "number"},
            "max": {"type": "number"},
            "min_length": {"type": "integer", "minimum": 0},
            "max_length": {"type": "integer", "minimum": 0},
            "pattern": {"type": "string", "format": "regex"},
            "values": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "multiple": {"type": "boolean"},
            "collection": {"type": "string"},
            "on_delete": {"type": "string", "enum": list(ON_DELETE)},
            "renamed_from": {
                "type": "string",
                "description": "requests only: the field's old name (a rename hint)",
            },
        },
        "additionalProperties": False,
        "description": "which options apply depends on the type (see the project file docs)",
    }
    index_definition = {
        "type": "object",
        "required": ["fields"],
        "properties": {
            "fields": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "unique": {"type": "boolean"},
        },
        "additionalProperties": False,
    }
    rules = {
        "type": "object",
        "properties": {action: {"type": ["string", "null"]} for action in RULE_ACTIONS},
        "additionalProperties": False,
        "description": 'null (or absent): service/admin keys only; "": anyone; '
        "otherwise a filter expression",
    }
    properties = {
        "name": _NAME_SCHEMA,
        "fields": {"type": "object", "additionalProperties": ref("FieldDefinition")},
        "indexes": {"type": "array", "items": ref("IndexDefinition")},
        "rules": ref("Rules"),
    }
    return {
        "FieldDefinition": field_definition,
        "IndexDefinition": index_definition,
        "Rules": rules,
        "CollectionDefinition": {
            "type": "object",
            "required": ["name", "fields"],
            "properties": properties,
            "additionalProperties": False,
        },
        "CollectionDefinitionInput": {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
            "description": "`name` may be left out (it is taken from the path); "
            "a field may carry `renamed_from`",
        },
        "CollectionList": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref("CollectionDefinition")}},
        },
        "CollectionApplied": {
            "type": "object",
            "required": ["collection", "plan", "applied"],
            "properties": {
                "collection": ref("CollectionDefinition"),
                "plan": ref("Plan"),
                "applied": {"type": "boolean"},
            },
        },
        "CollectionDropPlan": {
            "type": "object",
            "required": ["plan", "applied"],
            "properties": {"plan": ref("Plan"), "applied": {"const": False}},
        },
    }


# -- webhooks, schedules, jobs (plain JSON Schema: their services validate by hand) --------

# The name pattern of webhooks and schedules (their services' `_NAME`; a test compares them).
RESOURCE_NAME = r"^[a-z][a-z0-9_-]{0,62}$"
# cairn.durations' pattern; the value must also be positive and at most 100 years.
DURATION_PATTERN = r"^\s*[0-9]{1,9}\s*[smhdw]\s*$"
# What cairn.webhooks.delivery sets; a schedule run's (cairn.schedules.tasks).
DELIVERY_STATUSES = ("pending", "succeeded", "failed")
RUN_STATUSES = ("queued", "running", "succeeded", "failed")
RUN_OUTCOMES = ("succeeded", "failed")
# Column widths the database holds them in.
MAX_CRON_LENGTH, MAX_TIMEZONE_LENGTH = 120, 64

_UUID_SCHEMA = {"type": "string", "format": "uuid"}
_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_UNPAGED = {
    "type": "null",
    "description": "always null: the whole list is one page (the shape of the paged lists)",
}


def _object(
    properties: dict[str, Any],
    required: Iterable[str] = (),
    *,
    closed: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"}
    if description:
        out["description"] = description
    if required:
        out["required"] = list(required)
    out["properties"] = properties
    if closed:
        out["additionalProperties"] = False
    return out


def _list_of(name: str, description: str, next_cursor: dict[str, Any]) -> dict[str, Any]:
    items = {"type": "array", "items": ref(name), "description": description}
    return _object({"items": items, "next_cursor": next_cursor}, ["items", "next_cursor"])


def _webhook_schemas() -> dict[str, dict[str, Any]]:
    name = {"type": "string", "pattern": RESOURCE_NAME}
    events = {
        "type": "array",
        "items": {"type": "string", "enum": list(WEBHOOK_EVENTS)},
        "minItems": 1,
    }
    collections = {
        "type": "array",
        "items": {"type": "string"},
        "description": "only events of these collections (not checked to exist); "
        "empty: every collection",
    }
    url_in = {
        "type": "string",
        "format": "uri",
        "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]",
        "description": "an http:// or https:// URL with a host. The host must resolve, and "
        "to public addresses only unless the operator allows private targets "
        "(CAIRN_WEBHOOK_ALLOW_PRIVATE=1); checked again before every delivery.",
        "examples": ["https://example.com/hooks/cairn"],
    }
    webhook = {
        "id": _UUID_SCHEMA,
        "name": name,
        "url": {"type": "string"},
        "events": {**events, "uniqueItems": True},
        "collections": {**collections, "description": "empty: every collection"},
        "enabled": {"type": "boolean"},
        "created_at": _TIME,
        "updated_at": _TIME,
    }
    secret = {
        "type": "string",
        "description": "the signing secret (Standard Webhooks): generated by Cairn, "
        "shown this once; store it now",
    }

    def body(*, create: bool) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "name": name,
            "url": url_in,
            "events": {
                **events,
                "description": "the event types to deliver (repeats are dropped)",
            },
            "collections": {**collections, **({"default": []} if create else {})},
            "enabled": {"type": "boolean", **({"default": True} if create else {})},
            "secret": {
                "type": ["string", "null"],
                "minLength": 24,
                "description": "the signing secret (`whsec_…` from Standard Webhooks, or any "
                "string of 24 or more characters); never returned. "
                + (
                    "Null or absent: Cairn generates one and returns it in this response only."
                    if create
                    else "Null or absent: the current one is kept."
                ),
            },
        }
        return _object(
            properties,
            ["name", "url", "events"] if create else (),
            closed=True,
            description=None if create else "the keys to change; the others keep their value",
        )

    attempt = _object(
        {
            "attempt": {"type": "integer", "minimum": 1},
            "started_at": _TIME,
            "duration_ms": {"type": "integer", "minimum": 0},
            "status_code": {
                "type": ["integer", "null"],
                "description": "the receiver's HTTP status; null when no response came",
            },
            "error": {**_TEXT_OR_NULL, "description": "why no response came (or was refused)"},
            "response_excerpt": {
                **_TEXT_OR_NULL,
                "description": "the start of the receiver's response body",
            },
        },
        ["attempt", "started_at", "duration_ms", "status_code", "error", "response_excerpt"],
    )
    delivery = {
        "id": {**_UUID_SCHEMA, "description": "also the `webhook-id` header of every attempt"},
        "event_id": _UUID_SCHEMA,
        "status": {"type": "string", "enum": list(DELIVERY_STATUSES)},
        "attempts": {"type": "integer", "minimum": 0},
        "attempt_limit": {"type": "integer", "minimum": 1},
        "next_attempt_at": {
            **_TIME_OR_NULL,
            "description": "pending only: when the next attempt is due",
        },
        "last_status_code": {"type": ["integer", "null"]},
        "last_error": _TEXT_OR_NULL,
        "created_at": _TIME,
        "updated_at": _TIME,
        "attempts_log": {
            "type": "array",
            "items": ref("WebhookAttempt"),
            "description": "every attempt, oldest first",
        },
    }
    return {
        "Webhook": _object(webhook, webhook),
        "WebhookIssued": _object(
            {**webhook, "secret": secret},
            webhook,
            description="the webhook; with `secret` when Cairn generated it",
        ),
        "WebhookInput": body(create=True),
        "WebhookPatch": body(create=False),
        "WebhookList": _list_of("Webhook", "every webhook, by name", _UNPAGED),
        "WebhookAttempt": attempt,
        "WebhookDelivery": _object(delivery, delivery),
        "WebhookDeliveryList": _list_of(
            "WebhookDelivery",
            "deliveries, newest first",
            {
                "type": ["string", "null"],
                "description": "pass as `cursor` for the next page; null at the end",
            },
        ),
    }


def _schedule_schemas() -> dict[str, dict[str, Any]]:
    collection = {
        "type": "string",
        "description": "the collection to act on (checked when the schedule runs)",
    }
    actions = {
        "purge": _object(
            {
                "type": {"const": "purge"},
                "collection": collection,
                "older_than": {
                    "type": "string",
                    "pattern": DURATION_PATTERN,
                    "description": "records created longer than this before the tick, such "
                    "as `30d` (units s, m, h, d, w; positive, at most 100 years)",
                },
                "filter": {
                    "type": ["string", "null"],
                    "minLength": 1,
                    "description": "only records matching this filter expression",
                },
            },
            ["type", "collection", "older_than"],
            closed=True,
            description="delete old records of a collection (no per-record events)",
        ),
        "export": _object(
            {"type": {"const": "export"}, "collection": collection},
            ["type", "collection"],
            closed=True,
            description="write a collection to a JSON-lines file under the data directory",
        ),
        "webhook": _object(
            {
                "type": {"const": "webhook"},
                "url": {
                    "type": "string",
                    "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
                    "description": "where to POST a signed notice of the tick; the same guard "
                    "as webhook URLs applies",
                },
                "secret": {
                    "type": ["string", "null"],
                    "minLength": 24,
                    "writeOnly": True,
                    "description": "the signing secret (24 or more characters); never "
                    "returned. Null or absent: Cairn generates one on create, and a changed "
                    "webhook action keeps the current one",
                },
            },
            ["type", "url"],
            closed=True,
            description="POST a signed notice of each tick to a URL",
        ),
    }
    names = {kind: f"Schedule{kind.capitalize()}Action" for kind in actions}
    action = {
        "oneOf": [ref(n) for n in names.values()],
        "discriminator": {
            "propertyName": "type",
            "mapping": {kind: ref(n)["$ref"] for kind, n in names.items()},
        },
    }
    cron = {
        "type": "string",
        "maxLength": MAX_CRON_LENGTH,
        "description": "a cron expression: five fields (minute hour day month weekday), "
        "optionally a sixth (seconds) and a seventh (year), or an alias such as `@daily`; "
        "evaluated in `timezone`",
        "examples": ["0 3 * * *"],
    }
    timezone = {
        "type": "string",
        "maxLength": MAX_TIMEZONE_LENGTH,
        "description": "an IANA time zone such as `Europe/Berlin`",
    }
    schedule = {
        "id": _UUID_SCHEMA,
        "name": {"type": "string", "pattern": RESOURCE_NAME},
        "cron": {"type": "string"},
        "timezone": {"type": "string"},
        "action": {**action, "description": "the action (a webhook action's secret left out)"},
        "enabled": {"type": "boolean"},
        "next_run_at": {**_TIME_OR_NULL, "description": "the next tick; null when disabled"},
        "last_run_at": {**_TIME_OR_NULL, "description": "the tick of the last run"},
        "last_status": {"type": ["string", "null"], "enum": [*RUN_OUTCOMES, None]},
        "last_error": _TEXT_OR_NULL,
    }

    def body(*, create: bool) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "name": {"type": "string", "pattern": RESOURCE_NAME},
            "cron": cron,
            "timezone": {**timezone, **({"default": "UTC"} if create else {})},
            "action": action if create else {**action, "description": "replaces the action"},
            "enabled": {"type": "boolean", **({"default": True} if create else {})},
        }
        return _object(
            properties,
            ["name", "cron", "action"] if create else (),
            closed=True,
            description=None if create else "the keys to change; the others keep their value",
        )

    run = {
        "schedule_id": _UUID_SCHEMA,
        "tick": _TIME,
        "status": {"type": "string", "enum": list(RUN_STATUSES)},
        "started_at": _TIME_OR_NULL,
        "finished_at": _TIME_OR_NULL,
        "result": {
            "type": ["object", "null"],
            "description": "what the action did: `deleted` and `cutoff` (purge), `path` and "
            "`records` (export), `status_code` (webhook)",
        },
        "error": _TEXT_OR_NULL,
    }
    return {
        **{names[kind]: schema for kind, schema in actions.items()},
        "ScheduleAction": action,
        "Schedule": _object(schedule, schedule),
        "ScheduleInput": body(create=True),
        "SchedulePatch": body(create=False),
        "ScheduleList": _list_of("Schedule", "every schedule, by name", _UNPAGED),
        "ScheduleRun": _object(run, run),
        "ScheduleRunList": _list_of("ScheduleRun", "the 20 latest runs, newest first", _UNPAGED),
    }


def _job_schemas() -> dict[str, dict[str, Any]]:
    job = {
        "id": {"type": "string"},
        "queue": {"type": "string"},
        "function": {"type": "string", "description": "the task, such as `deliver_webhook`"},
        "status": {"type": "string", "enum": [s.value for s in JobStatus]},
        "enqueued_at": _TIME_OR_NULL,
        "started_at": _TIME_OR_NULL,
        "ended_at": _TIME_OR_NULL,
        "retries_left": {"type": ["integer", "null"]},
        "error": {
            **_TEXT_OR_NULL,
            "maxLength": 300,
            "description": "failed jobs only: the error's last line (no traceback)",
        },
    }
    return {
        "Job": _object(job, job),
        "JobList": _list_of(
            "Job",
            "up to 50 of the project's most recent jobs (with `status`, of those in that "
            "state), newest first",
            _UNPAGED,
        ),
    }


def _audit_schemas() -> dict[str, dict[str, Any]]:
    entry = {
        "id": {**_UUID_SCHEMA, "description": "time-ordered (UUIDv7)"},
        "occurred_at": _TIME,
        "actor": {
            "type": "string",
            "description": "who: `key:<id>` (an API key), `user:<id>` (an end user), "
            "`operator` (the CLI) …",
        },
        "action": {"type": "string", "description": "what, such as `api_key.created`"},
        "target": {**_TEXT_OR_NULL, "description": "what it was done to, such as a key id"},
        "detail": {"type": "object", "description": "more about the action; its keys vary"},
        "source": {
            **_TEXT_OR_NULL,
            "description": "from where: the client's address, `cli`, or null (e.g. a job)",
        },
    }
    return {
        "AuditEntry": _object(entry, entry),
        "AuditEntryList": _list_of(
            "AuditEntry",
            "entries, newest first",
            {
                "type": ["string", "null"],
                "description": "pass as `cursor` for the next page; null at the end",
            },
        ),
    }


_NEXT_CURSOR = {
    "type": ["string", "null"],
    "description": "pass as `cursor` for the next page; null at the end",
}


def _email_in(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "format": "email",
        "maxLength": MAX_EMAIL_LENGTH,
        "description": description,
    }


_PASSWORD_IN = {
    "type": "string",
    "minLength": MIN_PASSWORD_LENGTH,
    "maxLength": MAX_PASSWORD_LENGTH,
    "description": f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters; neither one of "
    "the most common passwords nor the account's email address (or its part before the @)",
}
_MAILED_TOKEN = {
    "type": "string",
    "pattern": f"^{MAILED_TOKEN_PREFIX}",
    "maxLength": MAX_MAILED_TOKEN_LENGTH,
    "description": f"the token of the mailed link (`{MAILED_TOKEN_PREFIX}…`): single use; "
    "it expires, and a newer mail of the same kind replaces it",
}


def _user_schemas() -> dict[str, dict[str, Any]]:
    """End users' sessions and the bodies of the auth endpoints (`User` and the bodies with
    profile fields are built per project: see `_Builder._user_components`)."""
    signed_in = {
        "user": ref("User"),
        "token": {
            "type": "string",
            "pattern": f"^{SESSION_TOKEN_PREFIX}",
            "description": f"the session token (`{SESSION_TOKEN_PREFIX}…`): send it as "
            "`Authorization: Bearer <token>`. It is also set as the HttpOnly "
            f"`{SESSION_COOKIE}` cookie for browsers",
        },
        "expires_at": {
            **_TIME,
            "description": "when the session ends at the latest (it ends sooner when idle)",
        },
        "csrf_token": {
            "type": "string",
            "description": f"cookie-authenticated writes send it in the `{CSRF_HEADER}` "
            f"header (also set as the `{CSRF_COOKIE}` cookie, readable by scripts)",
        },
    }
    pending = {
        "user": ref("User"),
        "token": {"type": "null"},
        "expires_at": {"type": "null"},
        "verification_sent": {
            "const": True,
            "description": "the project requires a verified email to sign in: a "
            "verification link was mailed; sign in once it is followed",
        },
    }
    session = {
        "id": _UUID_SCHEMA,
        "created_at": _TIME,
        "last_seen_at": {**_TIME, "description": "about when the session was last used"},
        "expires_at": {
            **_TIME,
            "description": "when the session ends unless used again (its idle deadline, never "
            "past its absolute expiry)",
        },
        "method": {
            "type": "string",
            "description": "how it began: `password`, `signup` or `oauth:<provider>`",
        },
        "ip": {**_TEXT_OR_NULL, "description": "the client address that began it"},
        "user_agent": {**_TEXT_OR_NULL, "description": "the User-Agent that began it"},
        "current": {"type": "boolean", "description": "the session of this request"},
    }
    return {
        "SignedIn": _object(signed_in, signed_in, description="a new session"),
        "VerificationPending": _object(
            pending,
            pending,
            description="signed up, not signed in: the email must be verified first",
        ),
        "UserResult": _object({"user": ref("User")}, ["user"]),
        "UserList": _list_of("User", "users in sign-up order", _NEXT_CURSOR),
        "Session": _object(session, session),
        "SessionList": _object(
            {
                "items": {
                    "type": "array",
                    "items": ref("Session"),
                    "description": "the user's sessions that can still be used, newest first",
                }
            },
            ["items"],
        ),
        "SessionsEnded": _object(
            {
                "sessions_ended": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "how many sessions were ended",
                }
            },
            ["sessions_ended"],
        ),
        "LoginInput": _object(
            {"email": {"type": "string"}, "password": {"type": "string"}},
            ["email", "password"],
            description="any other key is ignored",
        ),
        "PasswordChangeInput": _object(
            {
                "current_password": {
                    "type": "string",
                    "description": "the password now; not needed while the account has none "
                    "(it signs in through OAuth only)",
                },
                "new_password": _PASSWORD_IN,
            },
            ["new_password"],
        ),
        "EmailChangeInput": _object(
            {"new_email": _email_in("the new address: a confirmation link is mailed to it")},
            ["new_email"],
        ),
        "EmailInput": _object({"email": _email_in("the account's address")}, ["email"]),
        "TokenInput": _object({"token": _MAILED_TOKEN}, ["token"]),
        "PasswordResetConfirmInput": _object(
            {"token": _MAILED_TOKEN, "password": {**_PASSWORD_IN, "description": "the new one"}},
            ["token", "password"],
        ),
    }


def _provider_schemas() -> dict[str, dict[str, Any]]:
    name = {"type": "string", "pattern": RESOURCE_NAME}
    preset = {
        "type": "string",
        "enum": list(PRESETS),
        "description": "a provider Cairn knows: its endpoints (and default scopes) are built in",
    }
    discovery_url = {
        "type": "string",
        "format": "uri",
        "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]",
        "description": "a generic OpenID Connect provider: its discovery document "
        "(`…/.well-known/openid-configuration`). Fetched when a sign-in starts; it (and the "
        "provider's other endpoints) must resolve to public addresses unless the operator "
        "allows private targets",
    }
    scopes = {
        "type": "array",
        "items": {"type": "string", "pattern": r"^\S+$"},
        "description": "the scopes to ask for (repeats are dropped); an OpenID Connect "
        "provider's must include `openid`. Absent or empty: the preset's defaults, or "
        "`openid email profile`",
    }
    provider = {
        "id": _UUID_SCHEMA,
        "name": name,
        "preset": {"type": "string", "enum": list(PRESETS)},
        "discovery_url": {"type": "string"},
        "client_id": {"type": "string"},
        "scopes": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the scopes a sign-in asks for (the defaults when none were given)",
        },
        "version": {
            "type": "integer",
            "minimum": 1,
            "description": "bumped by every change (a new client secret too)",
        },
        "created_at": _TIME,
        "updated_at": _TIME,
        "callback_url": {
            "type": "string",
            "format": "uri",
            "description": "register this as the redirect (callback) URL at the provider",
        },
    }

    def body(*, create: bool) -> dict[str, Any]:
        secret = {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_SECRET,
            "pattern": r"\S",
            "writeOnly": True,
            "description": "the client secret the provider issued; stored sealed, never "
            "returned" + ("" if create else ". Absent: the stored one is kept"),
        }
        out = _object(
            {
                "name": {
                    **name,
                    "description": "how sign-in URLs name it: `/auth/oauth/{name}/authorize`",
                },
                "preset": preset,
                "discovery_url": discovery_url,
                "client_id": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_CLIENT_ID,
                    "pattern": r"\S",
                    "description": "the client id the provider issued",
                },
                "client_secret": secret,
                "scopes": scopes,
            },
            ["name", "client_id", "client_secret"] if create else ["name", "client_id"],
            closed=True,
            description="either `preset` or `discovery_url`"
            + (
                ""
                if create
                else "; the whole definition (what is left out is not kept, but the secret)"
            ),
        )
        out["oneOf"] = [{"required": ["preset"]}, {"required": ["discovery_url"]}]
        return out

    return {
        "AuthProvider": _object(
            provider,
            [k for k in provider if k not in ("preset", "discovery_url")],
            description="an OAuth 2.0 / OpenID Connect provider (never its client secret); "
            "`preset` or `discovery_url`, whichever it was declared with",
        ),
        "AuthProviderInput": body(create=True),
        "AuthProviderReplaceInput": body(create=False),
        "AuthProviderList": _list_of("AuthProvider", "providers, by name", _NEXT_CURSOR),
    }


def fixed_json_schemas() -> dict[str, dict[str, Any]]:
    """The fixed components written as JSON Schema (not converted from marshmallow); fresh
    copies, so that no document shares a dict with another (or with this module)."""
    return copy.deepcopy(
        {
            **_definition_schemas(),
            **_webhook_schemas(),
            **_schedule_schemas(),
            **_job_schemas(),
            **_audit_schemas(),
            **_user_schemas(),
            **_provider_schemas(),
        }
    )


# -- parameters, headers, error responses -------------------------------------------------


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "required": False, "schema": schema, "description": description}


_ETAG_LIST = r'(W/)?"[0-9]{1,18}"'

PARAMETERS: dict[str, tuple[str, dict[str, Any]]] = {
    "Filter": (
        "query",
        _query(
            "filter",
            {"type": "string"},
            'A filter expression, e.g. `title ~ "hello" && (score >= 10 || status = "draft")`. '
            "Operators `= != > >= < <= ~ !~`, `&& || !`, parentheses, `null`, `true`/`false`, "
            "numbers and quoted strings. A syntax error or an unknown field is a 400.",
        ),
    ),
    "Sort": (
        "query",
        _query(
            "sort",
            {"type": "string"},
            "Comma-separated fields, `-` for descending, e.g. `-posted_at,title`. "
            "Default `-created_at` (then `id`).",
        ),
    ),
    "Limit": (
        "query",
        _query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "Page size.",
        ),
    ),
    "Cursor": (
        "query",
        _query(
            "cursor",
            {"type": "string"},
            "Opaque: the `next_cursor` of the previous page (same filter and sort).",
        ),
    ),
    "Fields": (
        "query",
        _query("fields", {"type": "string"}, "Comma-separated keys to return, e.g. `id,title`."),
    ),
    "Expand": (
        "query",
        _query(
            "expand",
            {"type": "string"},
            "Comma-separated relation paths (up to 3 deep, 10 paths) to inline under `expand`, "
            "e.g. `author,reviewers.team`.",
        ),
    ),
    "Count": (
        "query",
        _query(
            "count",
            {"type": "boolean", "default": False},
            "`true` adds `total`, the exact number of matching records (one more query).",
        ),
    ),
    "IncludeRevoked": (
        "query",
        _query("include_revoked", {"type": "boolean", "default": False}, "List revoked keys too."),
    ),
    "DryRun": (
        "query",
        _query(
            "dry_run",
            {"type": "boolean", "default": False},
            "Only compute and return the plan.",
        ),
    ),
    "AllowDestructive": (
        "query",
        _query(
            "allow_destructive",
            {"type": "boolean", "default": False},
            "Allow destructive steps (drops, narrowing); without it they are a 409.",
        ),
    ),
    "IfMatch": (
        "header",
        {
            "name": "If-Match",
            "required": False,
            "schema": {
                "type": "string",
                "pattern": rf"^\s*(\*|{_ETAG_LIST}(\s*,\s*{_ETAG_LIST})*)\s*$",
            },
            "description": "Apply only if the record is at one of these versions (ETags such "
            'as `"3"`), or `*`. A mismatch is a 412; a malformed value a 400.',
        },
    ),
    "IdempotencyKey": (
        "header",
        {
            "name": "Idempotency-Key",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
            "example": "0191f0c4-7d1e-7cc0-9f4e-2f3b9a2f6d10",
            "description": "A client-generated key of printable characters (a UUID will do). "
            "A repeat of the same request (method, path, body) within 24 h gets the first "
            "success again with `Idempotent-Replayed: true`; the key with another request is "
            "a 422.",
        },
    ),
    "RecordId": (
        "path",
        {"name": "id", "schema": {"type": "string", "format": "uuid"}, "description": "record id"},
    ),
    "ApiKeyId": (
        "path",
        {"name": "key_id", "schema": {"type": "string", "format": "uuid"}, "description": "key id"},
    ),
    "CollectionName": (
        "path",
        {"name": "name", "schema": _NAME_SCHEMA, "description": "collection name"},
    ),
    "WebhookId": (
        "path",
        {"name": "webhook_id", "schema": _UUID_SCHEMA, "description": "webhook id"},
    ),
    "DeliveryId": (
        "path",
        {"name": "delivery_id", "schema": _UUID_SCHEMA, "description": "delivery id"},
    ),
    "ScheduleId": (
        "path",
        {"name": "schedule_id", "schema": _UUID_SCHEMA, "description": "schedule id"},
    ),
    "JobId": (
        "path",
        {
            "name": "job_id",
            "schema": {"type": "string", "minLength": 1},
            "description": "job id (the `id` of a listed job)",
        },
    ),
    "JobStatus": (
        "query",
        _query(
            "status",
            {"type": "string", "enum": list(JOB_STATUS_FILTERS)},
            "Only jobs in this state; any other value is a 422.",
        ),
    ),
    "AuditAction": (
        "query",
        _query(
            "action",
            {"type": "string", "minLength": 1, "maxLength": 100},
            "Only this action (`api_key.created`), or, ending in `.`, every action it starts "
            "(`api_key.`).",
        ),
    ),
    "AuditActor": (
        "query",
        _query(
            "actor",
            {"type": "string", "minLength": 1, "maxLength": 200},
            "Only entries of this actor, such as `key:<id>` or `operator`.",
        ),
    ),
    "AuditTarget": (
        "query",
        _query(
            "target",
            {"type": "string", "minLength": 1, "maxLength": 200},
            "Only entries about this target, such as a key id.",
        ),
    ),
    "AuditSince": (
        "query",
        _query(
            "since",
            {"type": "string", "format": "date-time"},
            "Only entries at or after this RFC 3339 time (with its offset).",
        ),
    ),
    "AuditUntil": (
        "query",
        _query(
            "until",
            {"type": "string", "format": "date-time"},
            "Only entries before this RFC 3339 time (with its offset); later than `since`.",
        ),
    ),
    "UserSearch": (
        "query",
        _query(
            "search",
            {"type": "string"},
            "Only users whose email starts with this (ignoring case).",
        ),
    ),
    "UserId": (
        "path",
        {"name": "user_id", "schema": _UUID_SCHEMA, "description": "user id"},
    ),
    "SessionId": (
        "path",
        {"name": "session_id", "schema": _UUID_SCHEMA, "description": "session id"},
    ),
    "ProviderId": (
        "path",
        {"name": "provider_id", "schema": _UUID_SCHEMA, "description": "OAuth provider id"},
    ),
    "ProviderName": (
        "path",
        {
            "name": "provider",
            "schema": {"type": "string", "pattern": RESOURCE_NAME},
            "description": "the OAuth provider's name",
        },
    ),
    "RedirectTo": (
        "query",
        {
            "name": "redirect_to",
            "required": True,
            "schema": {"type": "string", "format": "uri"},
            "description": "Where to send the browser when the sign-in ends: an http(s) URL "
            "matching a pattern of the project's `auth.redirect_allow`, else a 422.",
            "example": "https://app.example.com/signed-in",
        },
    ),
    "OAuthState": (
        "query",
        _query("state", {"type": "string"}, "Set by the provider: the state of the sign-in."),
    ),
    "OAuthCode": (
        "query",
        _query("code", {"type": "string"}, "Set by the provider: the authorization code."),
    ),
    "OAuthError": (
        "query",
        _query(
            "error",
            {"type": "string"},
            "Set by the provider when the sign-in failed (e.g. `access_denied`).",
        ),
    ),
    "OAuthErrorDescription": (
        "query",
        _query("error_description", {"type": "string"}, "Set by the provider with `error`."),
    ),
    "MailedToken": (
        "query",
        {
            "name": "token",
            "required": True,
            "schema": _MAILED_TOKEN,
            "description": "The token of the mailed link.",
        },
    ),
}

HEADERS: dict[str, dict[str, Any]] = {
    "RequestId": {
        "description": "The request id (the client's X-Request-ID if valid, else generated).",
        "required": True,
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": "The record's version, quoted; send it back in If-Match.",
        "required": True,
        "schema": {"type": "string", "pattern": r'^"[0-9]+"$'},
    },
    "Location": {
        "description": "The path of the created resource.",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "Link": {
        "description": 'The next page: `<url>; rel="next"` (absent on the last page).',
        "required": False,
        "schema": {"type": "string"},
    },
    "IdempotentReplayed": {
        "description": "`true` when this is the stored response of an earlier request with the "
        "same Idempotency-Key.",
        "required": False,
        "schema": {"type": "string", "enum": ["true"]},
    },
    "NoStore": {
        "description": "`no-store`: the response holds (or may hold) a secret.",
        "required": True,
        "schema": {"type": "string"},
    },
    "SessionNoStore": {
        "description": "`no-store` when the response holds a session token.",
        "required": False,
        "schema": {"type": "string"},
    },
    "SetCookie": {
        "description": f"Signing in sets the HttpOnly `{SESSION_COOKIE}` cookie (the session "
        f"token) and the `{CSRF_COOKIE}` cookie (the CSRF token); ending the session clears "
        "them; the OAuth authorize step sets `cairn_oauth` (binds the sign-in to the browser).",
        "required": False,
        "schema": {"type": "string"},
    },
    "Redirect": {
        "description": "Where the browser goes next.",
        "required": True,
        "schema": {"type": "string"},
    },
    "WwwAuthenticate": {
        "description": 'Always `Bearer realm="cairn"`.',
        "required": True,
        "schema": {"type": "string"},
    },
    "RetryAfter": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "RateLimitLimit": {
        "description": "Requests the credential may make in the window.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "RateLimitRemaining": {
        "description": "Requests left in the window (0 when refused).",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "RateLimitReset": {
        "description": "Seconds until the budget allows another request.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}

# status → (component name, description, extra headers)
ERRORS: dict[int, tuple[str, str, dict[str, str]]] = {
    400: (
        "BadRequest",
        "Malformed: JSON that does not parse or is not an object, or a bad filter, sort, "
        "cursor, fields, expand, limit, flag or If-Match value.",
        {},
    ),
    401: (
        "Unauthorized",
        "No credential, or one that is malformed, unknown, expired, revoked or of another "
        "project; an end-user endpoint called without a session; or, signing in, a wrong "
        "email or password (or a disabled account).",
        {"WWW-Authenticate": "WwwAuthenticate"},
    ),
    403: (
        "Forbidden",
        "The key's scope is not enough, a create rule refused, an end-user session called an "
        "API-key endpoint, a cookie-authenticated write lacks the CSRF token, sign-up is "
        "disabled, or the email must be verified before signing in (`reason`: "
        "`email_not_verified`).",
        {},
    ),
    404: (
        "NotFound",
        "No such project, collection, record, key, webhook, delivery, schedule, job, user, "
        "session or OAuth provider (a record hidden by a rule is a 404 too).",
        {},
    ),
    409: (
        "Conflict",
        "A unique value (or webhook, schedule or OAuth provider name, or a user's email) is "
        "taken, a related record still points here, or a schema change is destructive or "
        "blocked by the data (`plan` says which).",
        {},
    ),
    412: (
        "PreconditionFailed",
        "If-Match does not hold the record's version (`current_version` has it).",
        {},
    ),
    413: ("ContentTooLarge", "The body is larger than the server accepts.", {}),
    415: ("UnsupportedMediaType", "The body is not sent as application/json.", {}),
    422: (
        "ValidationFailed",
        "The body or a parameter did not pass validation (`errors` by field), an "
        "Idempotency-Key was reused with another body, or the resource is not in a state that "
        "allows the operation (rotating a key that is not active, redelivering a pending "
        "delivery, retrying a job that has not failed); a mailed link's token that is "
        "invalid, used or expired is a 422 too.",
        {},
    ),
    429: (
        "TooManyRequests",
        "Rate limited.",
        {
            "Retry-After": "RetryAfter",
            "RateLimit-Limit": "RateLimitLimit",
            "RateLimit-Remaining": "RateLimitRemaining",
            "RateLimit-Reset": "RateLimitReset",
        },
    ),
    502: (
        "BadGateway",
        "The OAuth provider could not be reached, or answered something Cairn cannot use.",
        {},
    ),
    503: (
        "ServiceUnavailable",
        "A backing service (database, Redis) is unavailable; retry later.",
        {"Retry-After": "RetryAfter"},
    ),
}


def _error_response(description: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"X-Request-ID": "RequestId", **headers},
        "content": {PROBLEM_MIME: {"schema": ref("Problem")}},
    }


def _ok(
    description: str,
    schema: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "headers": {"X-Request-ID": "RequestId", **(headers or {})},
    }
    if schema is not None:
        response["content"] = {JSON_MIME: {"schema": schema}}
    return response


def _responses(success: dict[str, dict[str, Any]], errors: Iterable[int]) -> dict[str, Any]:
    out: dict[str, Any] = dict(success)
    for status in sorted(errors):
        out[str(status)] = ERRORS[status][0]
    return out


def _params(*names: str) -> list[dict[str, Any]]:
    """References to parameter components (apispec takes a component's name for one)."""
    return cast("list[dict[str, Any]]", list(names))


def _body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "required": True,
        "description": description,
        "content": {JSON_MIME: {"schema": schema}},
    }


def _operation(
    operation_id: str,
    tag: str,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    description: str | None = None,
    security: list[dict[str, list[str]]] | None = None,
) -> dict[str, Any]:
    """An operation; `security` replaces the document's (bearerAuth: an API key)."""
    op: dict[str, Any] = {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "responses": responses,
    }
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = list(parameters)
    if body is not None:
        op["requestBody"] = body
    if security is not None:
        op["security"] = copy.deepcopy(security)
    return op


# Who may call an end-user endpoint: anyone (credentials are ignored), or a user's session as
# a bearer token or, from a browser, the session cookie (writes with the CSRF header too).
PUBLIC: list[dict[str, list[str]]] = []
SESSION_READ: list[dict[str, list[str]]] = [{"sessionAuth": []}, {"sessionCookie": []}]
SESSION_WRITE: list[dict[str, list[str]]] = [
    {"sessionAuth": []},
    {"sessionCookie": [], "csrfToken": []},
]


# -- the builder --------------------------------------------------------------------------


def _stored_fields(
    declared: Iterable[FieldDef], *, required: bool, nullable: bool = False
) -> dict[str, fields.Field]:  # type: ignore[type-arg]
    """Declared fields as responses hold them: typed by their marshmallow field, nullable
    unless required (or always, with `nullable`), without the validators only writes enforce
    (min/max, lengths, pattern)."""
    out: dict[str, fields.Field] = {}  # type: ignore[type-arg]
    for f in declared:
        unvalidated = replace(f, min=None, max=None, min_length=None, max_length=None)
        field = marshmallow_field(replace(unvalidated, pattern=None))
        field.required = required
        field.allow_none = nullable or not f.required
        if f.type == "relation":
            field.metadata = {
                **field.metadata,
                "description": f"{'ids' if f.multiple else 'the id'} of records in "
                f"'{f.collection}'",
            }
        out[f.name] = field
    return out


class _Builder:
    def __init__(self, project: Project, collections: list[Collection]) -> None:
        self.project = project
        self.collections = sorted(collections, key=lambda c: c.name)
        self.known = {c.name for c in self.collections}
        self.names: dict[type, str] = {}
        self.profile = user_fields(project)
        self.plugin = MarshmallowPlugin(schema_name_resolver=self._schema_name)
        self.spec = APISpec(
            title=f"Cairn project {project.slug}",
            version=f"{__version__}+{self._digest()}",
            openapi_version=OPENAPI_VERSION,
            plugins=[self.plugin],
            info={"description": self._description()},
            servers=[
                {
                    "url": f"/api/v1/projects/{project.slug}",
                    "description": "this project (paths are relative to it)",
                }
            ],
            security=[{"bearerAuth": []}],
            tags=self._tags(),
        )
        assert self.plugin.converter is not None
        self.converter = self.plugin.converter
        _configure(self.converter)
        self.records: dict[str, Schema] = {}
        self.list_items: dict[str, Schema] = {}
        self.expands: dict[str, Schema] = {}

    # names

    def _schema_name(self, schema: type[Schema] | Schema | str) -> str:
        cls = resolve_schema_cls(schema)
        assert not isinstance(cls, list)
        return self.names.get(cls, cls.__name__)

    def _register(self, name: str, schema: Schema, always: tuple[str, ...] = ()) -> None:
        """Add a marshmallow schema under `name` unless a nested reference added it already."""
        self.names[type(schema)] = name
        if make_schema_key(schema) in self.converter.refs:
            return
        self.spec.components.schema(
            name, {"required": sorted(always)} if always else None, schema=schema
        )

    def _digest(self) -> str:
        """Changes with any definition (versions alone restart when a name is re-declared)
        and with the users' profile fields."""
        state: list[Any] = [(c.name, c.version, c.definition.to_dict()) for c in self.collections]
        if self.profile.fields:
            state.append(("users", self.profile.to_dict()))
        return hashlib.sha256(json.dumps(state).encode()).hexdigest()[:12]

    def _description(self) -> str:
        return (
            f"The HTTP API of the Cairn project `{self.project.slug}`: its collections' records, "
            "its end users' sign-up, sign-in (password or OAuth) and sessions, and, with an "
            "admin key, its schema, API keys, users, OAuth providers, webhooks, schedules, "
            "background jobs and audit log. Errors are RFC 9457 "
            "`application/problem+json`. Generated from the live collection definitions and "
            "the users' profile fields; `info.version` changes whenever one of them does."
        )

    def _tags(self) -> list[dict[str, str]]:
        tags = [{"name": c.name, "description": f"records of '{c.name}'"} for c in self.collections]
        return [
            *tags,
            {"name": TAG_BATCH, "description": "several record writes in one transaction"},
            {"name": TAG_SCHEMA, "description": "collection definitions (admin keys)"},
            {"name": TAG_KEYS, "description": "the project's API keys (admin keys)"},
            {
                "name": TAG_WEBHOOKS,
                "description": "signed record events POSTed to URLs, and their deliveries "
                "(admin keys)",
            },
            {
                "name": TAG_SCHEDULES,
                "description": "cron-timed purges, exports and webhook calls (admin keys)",
            },
            {"name": TAG_JOBS, "description": "the project's background jobs (admin keys)"},
            {
                "name": TAG_AUDIT,
                "description": "who did what to the project, when, from where (admin keys)",
            },
            {
                "name": TAG_AUTH,
                "description": "end users: sign-up, sign-in (password or OAuth), their profile, "
                "password, email address and sessions",
            },
            {"name": TAG_USERS, "description": "the project's end users (admin keys)"},
            {
                "name": TAG_PROVIDERS,
                "description": "the OAuth 2.0 / OpenID Connect providers end users sign in "
                "with (admin keys)",
            },
            {"name": TAG_OPENAPI, "description": "this document"},
        ]

    # components

    def build(self) -> dict[str, Any]:
        self.spec.components.security_scheme(
            "bearerAuth",
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "ck_…",
                "description": "`Authorization: Bearer <token>`. Project API keys start with "
                "`ck_` and carry a scope: `read`, `write` (collection rules apply as an "
                "anonymous caller), `service` (bypasses collection rules) or `admin` (also "
                "schema and keys). A credential of another project is a 401 here.",
            },
        )
        self.spec.components.security_scheme(
            "sessionAuth",
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": f"{SESSION_TOKEN_PREFIX}…",
                "description": "An end user's session: `Authorization: Bearer <token>` with the "
                f"`{SESSION_TOKEN_PREFIX}…` token that signing up or in returns. It ends at its "
                "expiry, after the project's idle timeout, or when revoked.",
            },
        )
        self.spec.components.security_scheme(
            "sessionCookie",
            {
                "type": "apiKey",
                "in": "cookie",
                "name": SESSION_COOKIE,
                "description": "A browser's end-user session: the HttpOnly cookie signing in "
                "sets. The Authorization header wins when both are sent.",
            },
        )
        self.spec.components.security_scheme(
            "csrfToken",
            {
                "type": "apiKey",
                "in": "header",
                "name": CSRF_HEADER,
                "description": "With the session cookie, every request but GET, HEAD and "
                "OPTIONS must echo the session's CSRF token (`csrf_token` of the sign-in, "
                f"also the `{CSRF_COOKIE}` cookie) in this header, else a 403.",
            },
        )
        for name, (location, parameter) in PARAMETERS.items():
            self.spec.components.parameter(name, location, parameter)
        for name, header in HEADERS.items():
            self.spec.components.header(name, header)
        for response_name, description, headers in ERRORS.values():
            self.spec.components.response(response_name, _error_response(description, headers))
        # Names first: registering one schema may register those it nests.
        self.names.update({schema_class: name for name, (schema_class, _) in FIXED_SCHEMAS.items()})
        for name, (schema_class, always) in FIXED_SCHEMAS.items():
            self._register(name, schema_class(), always)
        for name, component in fixed_json_schemas().items():
            self.spec.components.schema(name, component)
        self._user_components()

        for coll in self.collections:
            self._collection_schemas(coll)
        for coll in self.collections:
            self._register_collection(coll)
            self._record_paths(coll)
        self._batch_path()
        self._collection_paths()
        self._api_key_paths()
        self._webhook_paths()
        self._schedule_paths()
        self._job_paths()
        self._audit_paths()
        self._auth_paths()
        self._oauth_paths()
        self._user_paths()
        self._provider_paths()
        self._openapi_path()
        document: dict[str, Any] = self.spec.to_dict()
        document["info"]["x-cairn-collections"] = {c.name: c.version for c in self.collections}
        schemas = document["components"]["schemas"]
        self._api_key_enums(schemas)
        schemas["User"]["description"] = (
            "An end user, flat like a record: the account's own fields, then the project's "
            "profile fields (`users:` in the project file). Profiles are stored as JSON, so a "
            "value stored before the fields changed may be missing or null."
        )
        schemas["User"]["properties"]["email"]["description"] = (
            "the sign-in address; one account per address in the project, ignoring case"
        )
        if self.collections:  # the batch paths this project really has
            names = "|".join(c.name for c in self.collections)
            path = schemas["BatchOperation"]["properties"]["path"]
            path["pattern"] = f"^/collections/({names})/records(/{_UUID})?$"
        return document

    def _collection_schemas(self, coll: Collection) -> None:
        name = coll.name
        record_fields = self._record_fields(coll, required=True)
        item_fields = self._record_fields(coll, required=False)
        if coll.definition.relations:
            expand_fields: dict[str, fields.Field] = {}  # type: ignore[type-arg]
            for f in coll.definition.relations:
                expand_fields[f.name] = self._expanded(f)
            expand = Schema.from_dict(expand_fields, name=f"{name}_expand")(unknown=EXCLUDE)
            self.expands[name] = expand
            for declared in (record_fields, item_fields):
                declared["expand"] = fields.Nested(
                    expand,
                    metadata={
                        "description": "list responses with ?expand= only: the related records"
                    },
                )
        self.records[name] = Schema.from_dict(record_fields, name=f"{name}_out")(unknown=EXCLUDE)
        self.list_items[name] = Schema.from_dict(item_fields, name=f"{name}_item")(unknown=EXCLUDE)
        p = pascal(name)
        self.names[type(self.records[name])] = f"{p}Record"
        self.names[type(self.list_items[name])] = f"{p}ListItem"
        if name in self.expands:
            self.names[type(self.expands[name])] = f"{p}Expand"

    def _expanded(self, f: FieldDef) -> fields.Field:  # type: ignore[type-arg]
        target = str(f.collection)
        nested: fields.Field  # type: ignore[type-arg]
        if target in self.known:

            def record() -> Schema:  # late: the target's record schema may not exist yet
                return self.records[target]

            nested = fields.Nested(record, allow_none=not f.multiple)
        else:  # not among the collections given: an object all the same
            nested = fields.Dict(allow_none=not f.multiple)
        if f.multiple:
            return fields.List(nested)
        return nested

    def _record_fields(self, coll: Collection, *, required: bool) -> dict[str, fields.Field]:  # type: ignore[type-arg]
        """A record as the API returns it: system fields, then every declared field typed by
        its marshmallow field, nullable unless required. Write-only validators are dropped."""

        def system(field: fields.Field, description: str) -> fields.Field:  # type: ignore[type-arg]
            field.required = required
            field.metadata = {**field.metadata, "description": description}
            return field

        out: dict[str, fields.Field] = {  # type: ignore[type-arg]
            "id": system(UuidString(), "the record's id (a UUIDv7)"),
            "created_at": system(IsoDateTime(), "when the record was created"),
            "updated_at": system(IsoDateTime(), "when the record was last written"),
            "version": system(
                StrictInteger(validate=validate.Range(min=1)),
                "starts at 1, bumped by every write; the ETag",
            ),
            "owner": system(
                UuidString(allow_none=True),
                "the user who created the record; null when an API key did",
            ),
        }
        return {**out, **_stored_fields(coll.definition.fields, required=required)}

    def _user_components(self) -> None:
        """`User` and the bodies that carry the project's profile fields: in responses the
        profile fields are converted as a collection's fields are; request bodies take the
        fields of the very schemas `ProfileFields.validate` loads with."""
        own: dict[str, fields.Field] = {  # type: ignore[type-arg]
            "id": UuidString(required=True),
            "email": fields.String(required=True),
            "verified": StrictBoolean(
                required=True,
                metadata={"description": "whether the user proved the email address"},
            ),
            "disabled": StrictBoolean(
                required=True,
                metadata={"description": "a disabled user cannot sign in (an admin decides)"},
            ),
            "created_at": IsoDateTime(required=True),
            "updated_at": IsoDateTime(required=True),
            "last_login_at": IsoDateTime(required=True, allow_none=True),
        }
        # Profiles are stored as JSON, not in typed columns: a value stored before the users'
        # fields changed may be null or missing.
        profile = _stored_fields(self.profile.fields, required=False, nullable=True)
        user = Schema.from_dict({**own, **profile}, name="user_out")(unknown=EXCLUDE)
        create = dict(type(self.profile.create_schema)._declared_fields)
        update = dict(type(self.profile.update_schema)._declared_fields)

        def email(*, required: bool) -> fields.Field:  # type: ignore[type-arg]
            return fields.String(
                required=required,
                validate=[validate.Email(), validate.Length(max=MAX_EMAIL_LENGTH)],
            )

        def password(*, required: bool, **kwargs: Any) -> fields.Field:  # type: ignore[type-arg]
            return fields.String(
                required=required,
                validate=validate.Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH),
                **kwargs,
            )

        flags = {
            "verified": StrictBoolean(
                metadata={"description": "whether the email counts as proven (no mail is sent)"}
            ),
            "disabled": StrictBoolean(
                metadata={"description": "true ends the user's sessions and refuses sign-in"}
            ),
        }
        bodies = {
            "SignupInput": {
                "email": email(required=True),
                "password": password(required=True),
                **create,
            },
            "UserInput": {
                "email": email(required=True),
                "password": password(
                    required=False,
                    allow_none=True,
                    metadata={
                        "description": "absent or null: the user signs in through OAuth "
                        "(or sets a password with a reset)"
                    },
                ),
                "verified": flags["verified"],
                **create,
            },
            "UserPatch": {
                "email": email(required=False),
                "password": password(
                    required=False,
                    metadata={"description": "a new password ends the user's sessions"},
                ),
                **flags,
                **update,
            },
            "ProfilePatch": update,
        }
        self._register("User", user)
        for name, declared in bodies.items():
            schema = Schema.from_dict(declared, name=name)(unknown=RAISE)
            self._register(name, schema)

    def _register_collection(self, coll: Collection) -> None:
        name, p = coll.name, pascal(coll.name)
        self._register(f"{p}Record", self.records[name])
        self._register(f"{p}ListItem", self.list_items[name])
        if name in self.expands:
            self._register(f"{p}Expand", self.expands[name])
        page = Schema.from_dict(
            {
                "items": fields.List(fields.Nested(self.list_items[name]), required=True),
                "next_cursor": fields.String(
                    required=True,
                    allow_none=True,
                    metadata={"description": "pass as `cursor` for the next page; null at the end"},
                ),
                "total": fields.Integer(
                    validate=validate.Range(min=0),
                    metadata={"description": "with count=true only: all matching records"},
                ),
            },
            name=f"{name}_page",
        )(unknown=EXCLUDE)
        self._register(f"{p}Page", page)
        self._register(f"{p}Create", coll.create_schema)
        self._register(f"{p}Update", coll.update_schema)

    # paths

    def _record_paths(self, coll: Collection) -> None:
        name, p = coll.name, pascal(coll.name)
        ids = record_operation_ids(name)
        record = ref(f"{p}Record")
        base = f"/collections/{name}/records"
        self.spec.path(
            base,
            operations={
                "get": _operation(
                    ids["list"],
                    name,
                    f"List records of '{name}'",
                    _responses(
                        {"200": _ok("A page of records.", ref(f"{p}Page"), {"Link": "Link"})},
                        (400, 401, 404, 429, 503),
                    ),
                    parameters=_params(
                        "Filter", "Sort", "Limit", "Cursor", "Fields", "Expand", "Count"
                    ),
                    description="Records the list rule lets the caller see, a page at a time. "
                    "With `fields`, items hold only those keys; with `expand`, an `expand` "
                    "object holds the related records.",
                ),
                "post": _operation(
                    ids["create"],
                    name,
                    f"Create a record in '{name}'",
                    _responses(
                        {
                            "201": _ok(
                                "The created record.",
                                record,
                                {
                                    "ETag": "ETag",
                                    "Location": "Location",
                                    "Idempotent-Replayed": "IdempotentReplayed",
                                },
                            )
                        },
                        (400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
                    ),
                    parameters=_params("IdempotencyKey"),
                    body=_body(ref(f"{p}Create"), "The new record's fields."),
                ),
            },
        )
        self.spec.path(
            f"{base}/{{id}}",
            parameters=_params("RecordId"),
            operations={
                "get": _operation(
                    ids["get"],
                    name,
                    f"Get a record of '{name}'",
                    _responses(
                        {
                            "200": _ok(
                                "The record; with `fields` or `expand`, shaped as a list item.",
                                {"anyOf": [record, ref(f"{p}ListItem")]},
                                {"ETag": "ETag"},
                            )
                        },
                        (400, 401, 404, 429, 503),
                    ),
                    parameters=_params("Fields", "Expand"),
                ),
                "patch": _operation(
                    ids["update"],
                    name,
                    f"Update a record of '{name}'",
                    _responses(
                        {
                            "200": _ok(
                                "The updated record.",
                                record,
                                {"ETag": "ETag", "Idempotent-Replayed": "IdempotentReplayed"},
                            )
                        },
                        (400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503),
                    ),
                    parameters=_params("IfMatch", "IdempotencyKey"),
                    body=_body(ref(f"{p}Update"), "The fields to change; others stay."),
                ),
                "delete": _operation(
                    ids["delete"],
                    name,
                    f"Delete a record of '{name}'",
                    _responses(
                        {
                            "204": _ok(
                                "Deleted.", None, {"Idempotent-Replayed": "IdempotentReplayed"}
                            )
                        },
                        (400, 401, 403, 404, 409, 412, 422, 429, 503),
                    ),
                    parameters=_params("IfMatch", "IdempotencyKey"),
                ),
            },
        )

    def _batch_path(self) -> None:
        self.spec.path(
            "/batch",
            operations={
                "post": _operation(
                    "batch",
                    TAG_BATCH,
                    "Run record writes in one transaction",
                    _responses(
                        {
                            "200": _ok(
                                "Every operation succeeded; their results in order.",
                                ref("BatchResponse"),
                                {"Idempotent-Replayed": "IdempotentReplayed"},
                            )
                        },
                        (400, 401, 403, 404, 409, 412, 413, 415, 422, 429, 503),
                    ),
                    parameters=_params("IdempotencyKey"),
                    body=_body(ref("BatchRequest"), "The operations, run in order."),
                    description="All or nothing: when an operation fails, nothing is applied "
                    "and the response is that operation's problem with its index in "
                    "`operation`.",
                )
            },
        )

    def _collection_paths(self) -> None:
        admin_read = (401, 403, 404, 429, 503)
        self.spec.path(
            "/collections",
            operations={
                "get": _operation(
                    "collectionsList",
                    TAG_SCHEMA,
                    "List collection definitions",
                    _responses(
                        {"200": _ok("Every definition.", ref("CollectionList"))}, admin_read
                    ),
                )
            },
        )
        self.spec.path(
            "/collections/{name}",
            parameters=_params("CollectionName"),
            operations={
                "get": _operation(
                    "collectionsGet",
                    TAG_SCHEMA,
                    "Get a collection definition",
                    _responses(
                        {"200": _ok("The definition.", ref("CollectionDefinition"))}, admin_read
                    ),
                ),
                "put": _operation(
                    "collectionsPut",
                    TAG_SCHEMA,
                    "Create or change a collection (declarative)",
                    _responses(
                        {
                            "200": _ok(
                                "The plan, and whether it was applied.", ref("CollectionApplied")
                            )
                        },
                        (400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
                    ),
                    parameters=_params("DryRun", "AllowDestructive"),
                    body=_body(ref("CollectionDefinitionInput"), "The whole desired definition."),
                ),
                "delete": _operation(
                    "collectionsDelete",
                    TAG_SCHEMA,
                    "Drop a collection and its records",
                    _responses(
                        {
                            "200": _ok("dry_run=true: the plan.", ref("CollectionDropPlan")),
                            "204": _ok("Dropped."),
                        },
                        (400, 401, 403, 404, 409, 429, 503),
                    ),
                    parameters=_params("DryRun", "AllowDestructive"),
                    description="Destructive: needs allow_destructive=true, else a 409.",
                ),
            },
        )

    def _api_key_paths(self) -> None:
        issued_headers = {"Location": "Location", "Cache-Control": "NoStore"}
        self.spec.path(
            "/api-keys",
            operations={
                "get": _operation(
                    "apiKeysList",
                    TAG_KEYS,
                    "List API keys",
                    _responses(
                        {"200": _ok("A page of keys.", ref("ApiKeyList"), {"Link": "Link"})},
                        (400, 401, 403, 404, 429, 503),
                    ),
                    parameters=_params("IncludeRevoked", "Limit", "Cursor"),
                ),
                "post": _operation(
                    "apiKeysCreate",
                    TAG_KEYS,
                    "Create an API key",
                    _responses(
                        {
                            "201": _ok(
                                "The key with its secret (shown this once).",
                                ref("ApiKeyIssued"),
                                issued_headers,
                            )
                        },
                        (400, 401, 403, 404, 413, 415, 422, 429, 503),
                    ),
                    body=_body(ref("ApiKeyInput"), "Scope, and optionally name and lifetime."),
                ),
            },
        )
        self.spec.path(
            "/api-keys/{key_id}",
            parameters=_params("ApiKeyId"),
            operations={
                "get": _operation(
                    "apiKeysGet",
                    TAG_KEYS,
                    "Get an API key",
                    _responses({"200": _ok("The key.", ref("ApiKey"))}, (401, 403, 404, 429, 503)),
                ),
                "delete": _operation(
                    "apiKeysRevoke",
                    TAG_KEYS,
                    "Revoke an API key (at once; repeating is harmless)",
                    _responses({"204": _ok("Revoked.")}, (401, 403, 404, 429, 503)),
                ),
            },
        )
        self.spec.path(
            "/api-keys/{key_id}/rotate",
            parameters=_params("ApiKeyId"),
            operations={
                "post": _operation(
                    "apiKeysRotate",
                    TAG_KEYS,
                    "Rotate an API key: a successor now, the old key revoked",
                    _responses(
                        {
                            "201": _ok(
                                "The successor with its secret.",
                                ref("ApiKeyIssued"),
                                issued_headers,
                            )
                        },
                        (401, 403, 404, 422, 429, 503),
                    ),
                ),
            },
        )

    def _webhook_paths(self) -> None:
        read, write = (401, 403, 404, 429, 503), (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
        saved = {"Cache-Control": "NoStore"}
        self.spec.path(
            "/webhooks",
            operations={
                "get": _operation(
                    "webhooksList",
                    TAG_WEBHOOKS,
                    "List webhooks",
                    _responses({"200": _ok("Every webhook.", ref("WebhookList"))}, read),
                ),
                "post": _operation(
                    "webhooksCreate",
                    TAG_WEBHOOKS,
                    "Create a webhook",
                    _responses(
                        {
                            "201": _ok(
                                "The webhook; with `secret` when Cairn generated it (shown "
                                "this once).",
                                ref("WebhookIssued"),
                                {"Location": "Location", **saved},
                            )
                        },
                        write,
                    ),
                    body=_body(ref("WebhookInput"), "The new webhook."),
                    description="Events of the chosen types (and collections) are POSTed to "
                    "`url`, signed with the secret (Standard Webhooks headers `webhook-id`, "
                    "`webhook-timestamp`, `webhook-signature`), and retried with growing "
                    "delays. A name already taken is a 409.",
                ),
            },
        )
        self.spec.path(
            "/webhooks/{webhook_id}",
            parameters=_params("WebhookId"),
            operations={
                "get": _operation(
                    "webhooksGet",
                    TAG_WEBHOOKS,
                    "Get a webhook",
                    _responses({"200": _ok("The webhook.", ref("Webhook"))}, read),
                ),
                "patch": _operation(
                    "webhooksUpdate",
                    TAG_WEBHOOKS,
                    "Change a webhook",
                    _responses(
                        {
                            "200": _ok(
                                "The changed webhook (never its secret).", ref("Webhook"), saved
                            )
                        },
                        write,
                    ),
                    body=_body(ref("WebhookPatch"), "The keys to change; others stay."),
                ),
                "delete": _operation(
                    "webhooksDelete",
                    TAG_WEBHOOKS,
                    "Delete a webhook and its delivery log",
                    _responses({"204": _ok("Deleted.")}, read),
                ),
            },
        )
        self.spec.path(
            "/webhooks/{webhook_id}/deliveries",
            parameters=_params("WebhookId"),
            operations={
                "get": _operation(
                    "webhooksDeliveries",
                    TAG_WEBHOOKS,
                    "List a webhook's deliveries with their attempts",
                    _responses(
                        {
                            "200": _ok(
                                "A page of deliveries, newest first.",
                                ref("WebhookDeliveryList"),
                                {"Link": "Link"},
                            )
                        },
                        (400, *read),
                    ),
                    parameters=_params("Limit", "Cursor"),
                    description="One delivery per event and webhook; its id is the "
                    "`webhook-id` header of every attempt.",
                )
            },
        )
        self.spec.path(
            "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
            parameters=_params("WebhookId", "DeliveryId"),
            operations={
                "post": _operation(
                    "webhooksRedeliver",
                    TAG_WEBHOOKS,
                    "Send a delivery again",
                    _responses(
                        {"202": _ok("Queued, with a fresh series of attempts.")}, (*read, 422)
                    ),
                    description="A succeeded or failed delivery only: one still pending is a "
                    "422 (it will be retried anyway).",
                )
            },
        )

    def _schedule_paths(self) -> None:
        read, write = (401, 403, 404, 429, 503), (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
        self.spec.path(
            "/schedules",
            operations={
                "get": _operation(
                    "schedulesList",
                    TAG_SCHEDULES,
                    "List schedules",
                    _responses({"200": _ok("Every schedule.", ref("ScheduleList"))}, read),
                ),
                "post": _operation(
                    "schedulesCreate",
                    TAG_SCHEDULES,
                    "Create a schedule",
                    _responses(
                        {
                            "201": _ok(
                                "The schedule, with its next tick.",
                                ref("Schedule"),
                                {"Location": "Location"},
                            )
                        },
                        write,
                    ),
                    body=_body(ref("ScheduleInput"), "The new schedule."),
                    description="Each tick fires once, however many workers run; ticks "
                    "missed while nothing ran are not replayed. A name already taken is a 409.",
                ),
            },
        )
        self.spec.path(
            "/schedules/{schedule_id}",
            parameters=_params("ScheduleId"),
            operations={
                "get": _operation(
                    "schedulesGet",
                    TAG_SCHEDULES,
                    "Get a schedule",
                    _responses({"200": _ok("The schedule.", ref("Schedule"))}, read),
                ),
                "patch": _operation(
                    "schedulesUpdate",
                    TAG_SCHEDULES,
                    "Change a schedule",
                    _responses({"200": _ok("The changed schedule.", ref("Schedule"))}, write),
                    body=_body(ref("SchedulePatch"), "The keys to change; others stay."),
                ),
                "delete": _operation(
                    "schedulesDelete",
                    TAG_SCHEDULES,
                    "Delete a schedule and its runs",
                    _responses({"204": _ok("Deleted.")}, read),
                ),
            },
        )
        self.spec.path(
            "/schedules/{schedule_id}/runs",
            parameters=_params("ScheduleId"),
            operations={
                "get": _operation(
                    "schedulesRuns",
                    TAG_SCHEDULES,
                    "List a schedule's latest runs",
                    _responses({"200": _ok("The latest runs.", ref("ScheduleRunList"))}, read),
                )
            },
        )

    def _job_paths(self) -> None:
        read = (401, 403, 404, 429, 503)
        self.spec.path(
            "/jobs",
            operations={
                "get": _operation(
                    "jobsList",
                    TAG_JOBS,
                    "List the project's recent background jobs",
                    _responses({"200": _ok("Recent jobs.", ref("JobList"))}, (*read, 422)),
                    parameters=_params("JobStatus"),
                )
            },
        )
        self.spec.path(
            "/jobs/{job_id}",
            parameters=_params("JobId"),
            operations={
                "get": _operation(
                    "jobsGet",
                    TAG_JOBS,
                    "Get a background job",
                    _responses({"200": _ok("The job.", ref("Job"))}, read),
                )
            },
        )
        self.spec.path(
            "/jobs/{job_id}/retry",
            parameters=_params("JobId"),
            operations={
                "post": _operation(
                    "jobsRetry",
                    TAG_JOBS,
                    "Put a failed job back on its queue",
                    _responses(
                        {"202": _ok("Queued again: the job as it is now.", ref("Job"))},
                        (*read, 422),
                    ),
                    description="Failed jobs only; any other is a 422.",
                )
            },
        )

    def _audit_paths(self) -> None:
        self.spec.path(
            "/audit",
            operations={
                "get": _operation(
                    "auditList",
                    TAG_AUDIT,
                    "List the project's audit log",
                    _responses(
                        {
                            "200": _ok(
                                "A page of entries, newest first.",
                                ref("AuditEntryList"),
                                {"Link": "Link"},
                            )
                        },
                        (400, 401, 403, 404, 429, 503),
                    ),
                    parameters=_params(
                        "AuditAction",
                        "AuditActor",
                        "AuditTarget",
                        "AuditSince",
                        "AuditUntil",
                        "Limit",
                        "Cursor",
                    ),
                    description="Administrative actions on keys, schema, webhooks, schedules, "
                    "users and sign-ins: who (`actor`), what (`action`, `target`, `detail`), "
                    "when (`occurred_at`) and from where (`source`). Filters combine with "
                    "AND; a malformed one is a 400.",
                )
            },
        )

    def _auth_paths(self) -> None:
        """The end user's own endpoints: the public ones (rate-limited per client address)
        and those of a signed-in user (a session, never an API key)."""
        body_errors = (400, 404, 413, 415, 429, 503)
        mine_read, mine_write = (401, 404, 503), (400, 401, 403, 404, 413, 415, 503)
        session_headers = {"Cache-Control": "NoStore", "Set-Cookie": "SetCookie"}
        signed_in = ref("SignedIn")
        self.spec.path(
            "/auth/signup",
            operations={
                "post": _operation(
                    "authSignup",
                    TAG_AUTH,
                    "Sign up with an email and a password",
                    _responses(
                        {
                            "201": _ok(
                                "The new user, signed in; or, when the project requires a "
                                "verified email, signed up only (a verification link was "
                                "mailed).",
                                {"oneOf": [signed_in, ref("VerificationPending")]},
                                {"Cache-Control": "SessionNoStore", "Set-Cookie": "SetCookie"},
                            )
                        },
                        (*body_errors, 403, 409, 422),
                    ),
                    body=_body(
                        ref("SignupInput"), "The email, the password and the profile fields."
                    ),
                    description="A 403 when the project has sign-up disabled; a 409 when the "
                    "email (ignoring case) already has an account. Rate-limited per client "
                    "address, with the other sign-in endpoints.",
                    security=PUBLIC,
                )
            },
        )
        self.spec.path(
            "/auth/login",
            operations={
                "post": _operation(
                    "authLogin",
                    TAG_AUTH,
                    "Sign in with an email and a password",
                    _responses(
                        {"200": _ok("A new session.", signed_in, session_headers)},
                        (*body_errors, 401, 403),
                    ),
                    body=_body(ref("LoginInput"), "The email and the password."),
                    description="A wrong email or password is a 401 that does not tell which "
                    "(a disabled account is a 401 too); a 403 with `reason` "
                    "`email_not_verified` when the project requires a verified email. "
                    "Rate-limited per client address.",
                    security=PUBLIC,
                )
            },
        )
        self.spec.path(
            "/auth/logout",
            operations={
                "post": _operation(
                    "authLogout",
                    TAG_AUTH,
                    "End the current session",
                    _responses(
                        {
                            "204": _ok(
                                "Ended; the session cookies are cleared.",
                                None,
                                {"Set-Cookie": "SetCookie"},
                            )
                        },
                        (401, 403, 404, 503),
                    ),
                    security=SESSION_WRITE,
                )
            },
        )
        self.spec.path(
            "/auth/me",
            operations={
                "get": _operation(
                    "authMe",
                    TAG_AUTH,
                    "Get the signed-in user",
                    _responses({"200": _ok("The user.", ref("User"))}, mine_read),
                    security=SESSION_READ,
                ),
                "patch": _operation(
                    "authMeUpdate",
                    TAG_AUTH,
                    "Change the signed-in user's profile fields",
                    _responses({"200": _ok("The changed user.", ref("User"))}, (*mine_write, 422)),
                    body=_body(ref("ProfilePatch"), "The profile fields to change; others stay."),
                    description="Profile fields only: the email and the password have their "
                    "own endpoints.",
                    security=SESSION_WRITE,
                ),
            },
        )
        self.spec.path(
            "/auth/password",
            operations={
                "post": _operation(
                    "authPasswordChange",
                    TAG_AUTH,
                    "Change the signed-in user's password",
                    _responses({"204": _ok("Changed.")}, (*mine_write, 422)),
                    body=_body(ref("PasswordChangeInput"), "The current and the new password."),
                    description="Every other session of the user ends; this one stays. A "
                    "wrong current password is a 422.",
                    security=SESSION_WRITE,
                )
            },
        )
        self.spec.path(
            "/auth/email-change",
            operations={
                "post": _operation(
                    "authEmailChange",
                    TAG_AUTH,
                    "Ask to change the signed-in user's email address",
                    _responses(
                        {"202": _ok("A confirmation link was mailed to the new address.")},
                        (*mine_write, 409, 422),
                    ),
                    body=_body(ref("EmailChangeInput"), "The new address."),
                    description="The account keeps its address until the mailed link is "
                    "followed (`/auth/email-change/confirm`). A 409 when another account has "
                    "the new address.",
                    security=SESSION_WRITE,
                )
            },
        )
        self._confirm_path(
            "/auth/email-change/confirm",
            "authEmailChangeConfirm",
            "Confirm a new email address",
            "The user, with the new (and so verified) address.",
            extra_errors=(409,),
        )
        self.spec.path(
            "/auth/password-reset",
            operations={
                "post": _operation(
                    "authPasswordReset",
                    TAG_AUTH,
                    "Ask for a password reset link",
                    _responses(
                        {"202": _ok("Accepted, whether or not an account has the address.")},
                        (*body_errors, 422),
                    ),
                    body=_body(ref("EmailInput"), "The account's address."),
                    description="If an enabled account has the address, a link to "
                    "`/auth/password-reset/confirm` (or the project's own page) is mailed to "
                    "it. The answer is the same either way; a malformed address is a 422. "
                    "Rate-limited per client address.",
                    security=PUBLIC,
                )
            },
        )
        self.spec.path(
            "/auth/password-reset/confirm",
            operations={
                "post": _operation(
                    "authPasswordResetConfirm",
                    TAG_AUTH,
                    "Set a new password with a reset link's token",
                    _responses({"200": _ok("The user.", ref("UserResult"))}, (*body_errors, 422)),
                    body=_body(ref("PasswordResetConfirmInput"), "The token and the new password."),
                    description="Every session of the user ends; following the link also "
                    "proves the address (the user becomes verified). An invalid, used or "
                    "expired token is a 422.",
                    security=PUBLIC,
                )
            },
        )
        self.spec.path(
            "/auth/verify-email",
            operations={
                "post": _operation(
                    "authVerifyEmail",
                    TAG_AUTH,
                    "Ask for a new verification link",
                    _responses(
                        {"202": _ok("Accepted, whether or not an account has the address.")},
                        (*body_errors, 422),
                    ),
                    body=_body(ref("EmailInput"), "The account's address."),
                    description="If an enabled, unverified account has the address, a link to "
                    "`/auth/verify-email/confirm` (or the project's own page) is mailed to it. "
                    "The answer is the same either way. Rate-limited per client address.",
                    security=PUBLIC,
                )
            },
        )
        self._confirm_path(
            "/auth/verify-email/confirm",
            "authVerifyEmailConfirm",
            "Verify an email address",
            "The user, now verified.",
        )
        self.spec.path(
            "/auth/sessions",
            operations={
                "get": _operation(
                    "authSessionsList",
                    TAG_AUTH,
                    "List the signed-in user's sessions",
                    _responses({"200": _ok("The sessions.", ref("SessionList"))}, mine_read),
                    security=SESSION_READ,
                )
            },
        )
        self.spec.path(
            "/auth/sessions/{session_id}",
            parameters=_params("SessionId"),
            operations={
                "delete": _operation(
                    "authSessionsRevoke",
                    TAG_AUTH,
                    "End one of the signed-in user's sessions",
                    _responses(
                        {
                            "204": _ok(
                                "Ended (the cookies are cleared when it was this one).",
                                None,
                                {"Set-Cookie": "SetCookie"},
                            )
                        },
                        (401, 403, 404, 503),
                    ),
                    description="Another user's session is a 404. Ending one again is harmless.",
                    security=SESSION_WRITE,
                )
            },
        )

    def _confirm_path(
        self,
        path: str,
        operation_id: str,
        summary: str,
        result: str,
        extra_errors: tuple[int, ...] = (),
    ) -> None:
        """A mailed link's confirmation: GET when the link is followed, POST from an app."""
        description = "An invalid, used or expired token is a 422. Rate-limited per client address."
        self.spec.path(
            path,
            operations={
                "get": _operation(
                    f"{operation_id}Link",
                    TAG_AUTH,
                    f"{summary} (the mailed link, followed)",
                    _responses(
                        {"200": _ok(result, ref("UserResult"))},
                        (404, 422, 429, 503, *extra_errors),
                    ),
                    parameters=_params("MailedToken"),
                    description=description,
                    security=PUBLIC,
                ),
                "post": _operation(
                    operation_id,
                    TAG_AUTH,
                    summary,
                    _responses(
                        {"200": _ok(result, ref("UserResult"))},
                        (400, 404, 413, 415, 422, 429, 503, *extra_errors),
                    ),
                    body=_body(ref("TokenInput"), "The mailed link's token."),
                    description=description,
                    security=PUBLIC,
                ),
            },
        )

    def _oauth_paths(self) -> None:
        self.spec.path(
            "/auth/oauth/{provider}/authorize",
            parameters=_params("ProviderName"),
            operations={
                "get": _operation(
                    "authOauthAuthorize",
                    TAG_AUTH,
                    "Start signing in with an OAuth provider",
                    _responses(
                        {
                            "302": _ok(
                                "To the provider's authorization page.",
                                None,
                                {
                                    "Location": "Redirect",
                                    "Cache-Control": "NoStore",
                                    "Set-Cookie": "SetCookie",
                                },
                            )
                        },
                        (404, 422, 429, 502, 503),
                    ),
                    parameters=_params("RedirectTo"),
                    description="For a browser to follow: the authorization-code flow with "
                    "`state`, an OpenID Connect `nonce` and PKCE (S256), bound to the browser "
                    "by the `cairn_oauth` cookie. The provider sends the browser back to "
                    "`/auth/oauth/{provider}/callback`. An unknown provider is a 404; a "
                    "`redirect_to` the project does not allow is a 422; a provider that "
                    "cannot be reached a 502. Rate-limited per client address.",
                    security=PUBLIC,
                )
            },
        )
        self.spec.path(
            "/auth/oauth/{provider}/callback",
            parameters=_params("ProviderName"),
            operations={
                "get": _operation(
                    "authOauthCallback",
                    TAG_AUTH,
                    "Finish signing in with an OAuth provider",
                    _responses(
                        {
                            "302": _ok(
                                "Back to the sign-in's `redirect_to`. Signed in: the session "
                                "in the URL fragment (`#token=…&expires_at=…&csrf_token=…`) "
                                "and in the session cookies. Failed: "
                                "`#error=…&error_description=…&status=…` (or, when the "
                                "provider reported the error, `#error=…`).",
                                None,
                                {
                                    "Location": "Redirect",
                                    "Cache-Control": "NoStore",
                                    "Set-Cookie": "SetCookie",
                                },
                            )
                        },
                        (400, 404, 429, 503),
                    ),
                    parameters=_params(
                        "OAuthState", "OAuthCode", "OAuthError", "OAuthErrorDescription"
                    ),
                    description="Called by the provider through the browser, never by an "
                    "app. The identity is linked to the user it signed in before, else to "
                    "the user with its email (when the provider says the address is "
                    "verified), else a new user is made (when sign-up is open). A missing, "
                    "unknown, expired or used `state`, or one started in another browser, is "
                    "a 400: there is nowhere safe to send the browser. Rate-limited per "
                    "client address.",
                    security=PUBLIC,
                )
            },
        )

    def _user_paths(self) -> None:
        read, write = (401, 403, 404, 429, 503), (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
        self.spec.path(
            "/users",
            operations={
                "get": _operation(
                    "usersList",
                    TAG_USERS,
                    "List the project's users",
                    _responses(
                        {"200": _ok("A page of users.", ref("UserList"), {"Link": "Link"})},
                        (400, *read),
                    ),
                    parameters=_params("UserSearch", "Limit", "Cursor"),
                ),
                "post": _operation(
                    "usersCreate",
                    TAG_USERS,
                    "Create a user",
                    _responses(
                        {"201": _ok("The user.", ref("User"), {"Location": "Location"})}, write
                    ),
                    body=_body(ref("UserInput"), "The email, optionally a password, profile."),
                    description="No mail is sent. A 409 when the email (ignoring case) "
                    "already has an account.",
                ),
            },
        )
        self.spec.path(
            "/users/{user_id}",
            parameters=_params("UserId"),
            operations={
                "get": _operation(
                    "usersGet",
                    TAG_USERS,
                    "Get a user",
                    _responses({"200": _ok("The user.", ref("User"))}, read),
                ),
                "patch": _operation(
                    "usersUpdate",
                    TAG_USERS,
                    "Change a user",
                    _responses({"200": _ok("The changed user.", ref("User"))}, write),
                    body=_body(ref("UserPatch"), "The keys to change; others stay."),
                    description="A new password or `disabled: true` ends the user's sessions.",
                ),
                "delete": _operation(
                    "usersDelete",
                    TAG_USERS,
                    "Delete a user",
                    _responses({"204": _ok("Deleted.")}, read),
                    description="Its sessions, mailed links and linked OAuth identities go; "
                    "records it owns stay (their `owner` keeps the id).",
                ),
            },
        )
        self.spec.path(
            "/users/{user_id}/logout",
            parameters=_params("UserId"),
            operations={
                "post": _operation(
                    "usersLogout",
                    TAG_USERS,
                    "End every session of a user",
                    _responses({"200": _ok("How many ended.", ref("SessionsEnded"))}, read),
                )
            },
        )

    def _provider_paths(self) -> None:
        read, write = (401, 403, 404, 429, 503), (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
        self.spec.path(
            "/auth/providers",
            operations={
                "get": _operation(
                    "providersList",
                    TAG_PROVIDERS,
                    "List OAuth providers",
                    _responses(
                        {
                            "200": _ok(
                                "A page of providers.", ref("AuthProviderList"), {"Link": "Link"}
                            )
                        },
                        (400, *read),
                    ),
                    parameters=_params("Limit", "Cursor"),
                ),
                "post": _operation(
                    "providersCreate",
                    TAG_PROVIDERS,
                    "Declare an OAuth provider",
                    _responses(
                        {
                            "201": _ok(
                                "The provider (never its secret).",
                                ref("AuthProvider"),
                                {"Location": "Location"},
                            )
                        },
                        write,
                    ),
                    body=_body(ref("AuthProviderInput"), "The provider, with its client secret."),
                    description="A preset (`google`, `github`) or a generic OpenID Connect "
                    "provider by its discovery URL. A name already taken is a 409.",
                ),
            },
        )
        self.spec.path(
            "/auth/providers/{provider_id}",
            parameters=_params("ProviderId"),
            operations={
                "get": _operation(
                    "providersGet",
                    TAG_PROVIDERS,
                    "Get an OAuth provider",
                    _responses({"200": _ok("The provider.", ref("AuthProvider"))}, read),
                ),
                "put": _operation(
                    "providersReplace",
                    TAG_PROVIDERS,
                    "Replace an OAuth provider's definition",
                    _responses({"200": _ok("The provider.", ref("AuthProvider"))}, write),
                    body=_body(
                        ref("AuthProviderReplaceInput"),
                        "The whole definition; without `client_secret` the stored one is kept.",
                    ),
                    description="Saving what is stored changes nothing (not even `version`). "
                    "A rename carries the linked identities along. A name already taken is a "
                    "409.",
                ),
                "delete": _operation(
                    "providersDelete",
                    TAG_PROVIDERS,
                    "Delete an OAuth provider",
                    _responses({"204": _ok("Deleted.")}, read),
                    description="The identities linked through it go too (their users stay).",
                ),
            },
        )

    def _openapi_path(self) -> None:
        self.spec.path(
            "/openapi.json",
            operations={
                "get": _operation(
                    "openapiDocument",
                    TAG_OPENAPI,
                    "This OpenAPI document",
                    _responses(
                        {"200": _ok("The document.", {"type": "object"})},
                        (401, 404, 429, 503),
                    ),
                    description="Any valid key of the project may read it.",
                )
            },
        )

    @staticmethod
    def _api_key_enums(schemas: dict[str, Any]) -> None:
        """KeyOut dumps plain strings; say which values they take."""
        for name in ("ApiKey", "ApiKeyIssued"):
            properties = schemas[name]["properties"]
            properties["scope"]["enum"] = list(API_KEY_SCOPES)
            properties["status"]["enum"] = ["active", "revoked", "expired"]
        issued = schemas["ApiKeyIssued"]["properties"]["secret"]
        issued["description"] = "the token (`ck_…`); shown once, store it now"
        schemas["ApiKeyInput"]["properties"]["expires_in"].update(
            pattern=DURATION_PATTERN,
            description="lifetime such as `30d` (units s, m, h, d, w); none = never expires",
        )


def build_document(project: Project, collections: list[Collection]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `project` with `collections` (each included once)."""
    return _Builder(project, collections).build()


__all__: list[str] = [
    "COLLECTION_SUFFIXES",
    "FIXED_SCHEMAS",
    "RECORD_VERBS",
    "build_document",
    "fixed_json_schemas",
    "pascal",
    "record_operation_ids",
]
