"""/healthz (the process answers), /readyz (its dependencies answer), /metrics."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from cairn.http import metrics
from cairn.http.tenant import runtime

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Response:
    rt = runtime()
    checks = {"db": "ok", "redis": "ok"}
    try:
        with rt.db.app_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("readiness: database unavailable", extra={"error": type(exc).__name__})
        checks["db"] = "unavailable"
    try:
        rt.redis.ping()
    except Exception as exc:
        log.warning("readiness: redis unavailable", extra={"error": type(exc).__name__})
        checks["redis"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    response = jsonify(status="ready" if ready else "unavailable", **checks)
    if not ready:
        response.status_code = 503
        response.headers["Retry-After"] = "5"
    return response


@bp.get("/metrics")
def prometheus() -> Response:
    return metrics.render()
