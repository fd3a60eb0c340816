"""create_app: the one place the web app is assembled, in the order a request meets it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix

import cairn_admin
from cairn.audit import api as audit_api
from cairn.auth import api as api_keys_api
from cairn.config import Settings
from cairn.http import health, metrics, problems, ratelimit, request_context
from cairn.jobs import api as jobs_api
from cairn.openapi import api as openapi_api
from cairn.records import api as records_api
from cairn.runtime import Runtime
from cairn.schedules import api as schedules_api
from cairn.schema import api as collections_api
from cairn.users import admin_api as users_admin_api
from cairn.users import api as users_api
from cairn.users import oauth_api
from cairn.webhooks import api as webhooks_api


class _JSONProvider(DefaultJSONProvider):
    """RFC 3339 times and plain UUID strings (Flask's default writes HTTP dates)."""

    sort_keys = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, datetime | date):
            return o.isoformat()
        if isinstance(o, UUID):
            return str(o)
        return DefaultJSONProvider.default(o)


def create_app(settings: Settings, runtime: Runtime | None = None) -> Flask:
    app = Flask("cairn")
    app.json = _JSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["cairn"] = runtime or Runtime(settings)
    if settings.proxy_hops > 0:
        # Behind CAIRN_PROXY_HOPS trusted proxies (an ingress, a load balancer): the client
        # address and scheme come from X-Forwarded-For / -Proto, so rate limits, audit IPs,
        # is_secure and external URLs are right. Host is left alone (ingresses pass it on).
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    # 1. Request id, body limit, access log — first in, last out.
    request_context.init_app(app)
    # 2. Metrics observe every response, errors included.
    metrics.init_app(app)
    # 3. One error envelope for everything below.
    problems.init_app(app)
    # 4. Service endpoints, then the API, then the admin UI.
    app.register_blueprint(health.bp)
    app.register_blueprint(api_keys_api.bp)
    app.register_blueprint(collections_api.bp)
    # Rate limits wrap the data API's blueprints before they are registered.
    limiter = ratelimit.init_app(app, settings)
    ratelimit.protect(limiter, records_api.bp, records_api.batch_bp)
    ratelimit.guard_auth(limiter, users_api.guarded, oauth_api.bp)
    app.register_blueprint(records_api.bp)
    app.register_blueprint(records_api.batch_bp)
    app.register_blueprint(users_api.guarded)
    app.register_blueprint(users_api.bp)
    app.register_blueprint(users_admin_api.bp)
    app.register_blueprint(oauth_api.bp)
    app.register_blueprint(oauth_api.providers_bp)
    app.register_blueprint(webhooks_api.bp)
    app.register_blueprint(schedules_api.bp)
    app.register_blueprint(jobs_api.bp)
    app.register_blueprint(audit_api.bp)
    app.register_blueprint(openapi_api.bp)
    cairn_admin.init_app(app, settings.require_secret_key())
    return app
