"""Prometheus metrics. Under gunicorn each worker writes to PROMETHEUS_MULTIPROC_DIR (set by
`cairn web`) and a scrape aggregates them; without it the in-process registry is served.
Requests to a project's API are also counted per project and hour (cairn.traffic)."""

from __future__ import annotations

import os
import time
from typing import cast

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from cairn.runtime import Runtime

REQUESTS = Counter(
    "cairn_http_requests_total", "HTTP requests handled", ["method", "route", "status"]
)
LATENCY = Histogram(
    "cairn_http_request_duration_seconds", "HTTP request latency", ["method", "route"]
)


def _observe(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule else "unmatched"
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    started = g.get("started")
    if started is not None:
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
    project_id = g.get("project_id")
    if project_id is not None:  # a project's API: counted per hour for its overview page
        cast(Runtime, current_app.extensions["cairn"]).traffic.count(
            project_id, response.status_code
        )
    return response


def render() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.after_request(_observe)
