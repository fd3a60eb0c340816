"""Settings: typed, read from CAIRN_* environment variables only, validated at start.

A bad value raises ConfigError naming the variable; `cairn` turns that into one line on
stderr and a non-zero exit before anything else happens.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from cairn.durations import check_rate, parse_duration
from cairn.errors import ConfigError
from cairn.mail import DEFAULT_FROM, check_sender, parse_smtp_url

log = logging.getLogger(__name__)

ENV_PREFIX = "CAIRN_"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name
_MIN_SECRET_LEN = 32


def _url_with_scheme(*schemes: str) -> validate.Validator:
    def check(value: str) -> None:
        parts = urlsplit(value)
        if parts.scheme not in schemes:
            raise ValidationError(f"must be a URL starting with one of {', '.join(schemes)}://")

    return check  # type: ignore[return-value]


def _check_allowed_ips(value: str) -> None:
    """A comma-separated list of addresses or networks, or "*" (trust every peer)."""
    for item in (part.strip() for part in value.split(",")):
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item)
        except ValueError:
            raise ValueError(f"not an IP address or network: {item!r}") from None


def _checked_by(check: Callable[[str], object]) -> validate.Validator:
    """A validator from a parser that raises ValueError (whose text never repeats secrets)."""

    def run(value: str) -> None:
        try:
            check(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    return run  # type: ignore[return-value]


class _EnvSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    database_url = fields.String(
        data_key="CAIRN_DATABASE_URL",
        load_default=None,
        validate=_url_with_scheme("postgres", "postgresql", "postgresql+psycopg"),
    )
    app_database_url = fields.String(
        data_key="CAIRN_APP_DATABASE_URL",
        load_default=None,
        validate=_url_with_scheme("postgres", "postgresql", "postgresql+psycopg"),
    )
    redis_url = fields.String(
        data_key="CAIRN_REDIS_URL",
        load_default=None,
        validate=_url_with_scheme("redis", "rediss", "unix"),
    )
    secret_key = fields.String(
        data_key="CAIRN_SECRET_KEY",
        load_default=None,
        validate=validate.Length(
            min=_MIN_SECRET_LEN, error=f"must be at least {_MIN_SECRET_LEN} characters"
        ),
    )
    data_dir = fields.String(
        data_key="CAIRN_DATA_DIR", load_default="cairn_data", validate=validate.Length(min=1)
    )
    host = fields.String(data_key="CAIRN_HOST", load_default="127.0.0.1")
    port = fields.Integer(
        data_key="CAIRN_PORT", load_default=8090, validate=validate.Range(min=1, max=65535)
    )
    log_level = fields.String(
        data_key="CAIRN_LOG_LEVEL",
        load_default="INFO",
        validate=validate.OneOf(["DEBUG", "INFO", "WARNING", "ERROR"]),
    )
    max_body_bytes = fields.Integer(
        data_key="CAIRN_MAX_BODY_BYTES",
        load_default=5 * 1024 * 1024,
        validate=validate.Range(min=1024, max=1024**3),
    )
    db_owner_role = fields.String(
        data_key="CAIRN_DB_OWNER_ROLE",
        load_default="cairn_owner",
        validate=validate.Regexp(_ROLE_NAME, error="must be a lower-case SQL identifier"),
    )
    db_app_role = fields.String(
        data_key="CAIRN_DB_APP_ROLE",
        load_default="cairn_app",
        validate=validate.Regexp(_ROLE_NAME, error="must be a lower-case SQL identifier"),
    )
    db_pool_size = fields.Integer(
        data_key="CAIRN_DB_POOL_SIZE", load_default=5, validate=validate.Range(min=1, max=200)
    )
    web_workers = fields.Integer(
        data_key="CAIRN_WEB_WORKERS", load_default=None, validate=validate.Range(min=1, max=256)
    )
    web_threads = fields.Integer(
        data_key="CAIRN_WEB_THREADS", load_default=4, validate=validate.Range(min=1, max=64)
    )
    forwarded_allow_ips = fields.String(
        data_key="CAIRN_FORWARDED_ALLOW_IPS",
        load_default="127.0.0.1",
        validate=_checked_by(_check_allowed_ips),
    )
    proxy_hops = fields.Integer(
        data_key="CAIRN_PROXY_HOPS", load_default=0, validate=validate.Range(min=0, max=10)
    )
    tenant_context = fields.String(
        data_key="CAIRN_TENANT_CONTEXT",
        load_default="set_config",
        validate=validate.OneOf(["set_config", "set_local"]),
    )
    smtp_url = fields.String(
        data_key="CAIRN_SMTP_URL", load_default=None, validate=_checked_by(parse_smtp_url)
    )
    mail_from = fields.String(
        data_key="CAIRN_MAIL_FROM", load_default=DEFAULT_FROM, validate=_checked_by(check_sender)
    )
    argon2_time_cost = fields.Integer(
        data_key="CAIRN_ARGON2_TIME_COST", load_default=3, validate=validate.Range(min=1, max=20)
    )
    argon2_memory_kib = fields.Integer(
        data_key="CAIRN_ARGON2_MEMORY_KIB",
        load_default=65536,
        validate=validate.Range(min=8192, max=4 * 1024 * 1024),
    )
    argon2_parallelism = fields.Integer(
        data_key="CAIRN_ARGON2_PARALLELISM", load_default=4, validate=validate.Range(min=1, max=64)
    )
    rate_limit_data = fields.String(
        data_key="CAIRN_RATE_LIMIT_DATA",
        load_default="600/minute",
        validate=_checked_by(check_rate),
    )
    rate_limit_auth = fields.String(
        data_key="CAIRN_RATE_LIMIT_AUTH",
        load_default="10/minute;100/hour",
        validate=_checked_by(check_rate),
    )
    retention = fields.String(
        data_key="CAIRN_RETENTION", load_default="30d", validate=_checked_by(parse_duration)
    )
    webhook_allow_private = fields.Boolean(
        data_key="CAIRN_WEBHOOK_ALLOW_PRIVATE", load_default=False
    )
    oauth_allow_private = fields.Boolean(data_key="CAIRN_OAUTH_ALLOW_PRIVATE", load_default=False)
    key_touch_seconds = fields.Integer(
        data_key="CAIRN_KEY_TOUCH_SECONDS",
        load_default=60,
        validate=validate.Range(min=1, max=86400),
    )

    @post_load
    def _build(self, data: dict[str, Any], **_: Any) -> Settings:
        return Settings(**{**data, "data_dir": Path(data["data_dir"])})


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    app_database_url: str | None
    redis_url: str | None
    secret_key: str | None
    data_dir: Path
    host: str
    port: int
    log_level: str
    max_body_bytes: int
    db_owner_role: str
    db_app_role: str
    db_pool_size: int
    web_workers: int | None
    web_threads: int
    forwarded_allow_ips: str
    proxy_hops: int
    tenant_context: Literal["set_config", "set_local"]
    key_touch_seconds: int
    webhook_allow_private: bool
    oauth_allow_private: bool
    smtp_url: str | None
    mail_from: str
    retention: str
    rate_limit_data: str
    rate_limit_auth: str
    argon2_time_cost: int
    argon2_memory_kib: int
    argon2_parallelism: int

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None

    @property
    def mode(self) -> str:
        parts = [
            "postgres=" + ("embedded" if self.embedded_database else "external"),
            "redis=" + ("embedded" if self.embedded_redis else "external"),
        ]
        return " ".join(parts)

    def with_services(self, database_url: str, redis_url: str | None) -> Settings:
        return replace(self, database_url=database_url, redis_url=redis_url)

    def require_secret_key(self) -> str:
        if self.secret_key is None:
            raise ConfigError("CAIRN_SECRET_KEY: not resolved yet (call resolve_secret_key)")
        return self.secret_key


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate CAIRN_* variables; raise ConfigError naming the first bad one."""
    env = os.environ if environ is None else environ
    ours = {k: v.strip() for k, v in env.items() if k.startswith(ENV_PREFIX)}
    # PORT, the platform convention (Cloud Run, Heroku, many PaaS), when CAIRN_PORT is unset.
    port_from_platform = not ours.get("CAIRN_PORT") and bool(env.get("PORT", "").strip())
    if port_from_platform:
        ours["CAIRN_PORT"] = env["PORT"].strip()
    for key in ("CAIRN_LOG_LEVEL", "CAIRN_TENANT_CONTEXT"):
        if key in ours:
            ours[key] = ours[key].upper() if key == "CAIRN_LOG_LEVEL" else ours[key].lower()
    # Empty strings mean "unset", as in most twelve-factor tooling.
    ours = {k: v for k, v in ours.items() if v != ""}
    schema = _EnvSchema()
    known = {f.data_key for f in schema.fields.values()}
    unknown = sorted(set(ours) - known)
    if unknown:
        log.warning("ignoring unknown settings: %s", ", ".join(unknown))
    try:
        settings: Settings = schema.load(ours)
    except ValidationError as exc:
        messages: dict[str, Any] = exc.normalized_messages()  # type: ignore[no-untyped-call]
        name = sorted(messages)[0]
        detail = messages[name]
        if name == "CAIRN_PORT" and port_from_platform:
            name = "PORT"
        text = detail[0] if isinstance(detail, list) else str(detail)
        raise ConfigError(f"{name}: {text}") from None
    return settings


def resolve_secret_key(settings: Settings) -> Settings:
    """An explicit CAIRN_SECRET_KEY wins. Without one, the embedded default keeps a generated
    key in the data dir; against an external database a key must be given, because every
    replica has to agree on it."""
    if settings.secret_key is not None:
        return settings
    if not settings.embedded_database:
        raise ConfigError("CAIRN_SECRET_KEY: required when CAIRN_DATABASE_URL is set")
    path = settings.data_dir / _SECRET_KEY_FILE
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if len(key) < _MIN_SECRET_LEN:
        raise ConfigError(f"CAIRN_DATA_DIR: {path} holds a secret key that is too short")
    return replace(settings, secret_key=key)
