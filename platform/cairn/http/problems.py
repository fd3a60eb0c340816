"""RFC 9457 problem+json for every error: the one place exceptions become HTTP responses.
No stack trace, SQL or exception text of an unexpected error ever reaches the client."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from cairn.dependencies import DEPENDENCY_ERRORS
from cairn.errors import CairnError, Invalid, ServiceUnavailable, Unauthorized

log = logging.getLogger("cairn.http")

PROBLEM_MIME = "application/problem+json"


def problem(status: int, title: str, detail: str, slug: str, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:cairn:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": getattr(g, "request_id", None),
    }
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME)


def error_response(exc: CairnError) -> Response:
    """The problem response for `exc`, for a view that must answer an error yet commit."""
    extra = dict(exc.extra)
    if isinstance(exc, Invalid):
        extra["errors"] = exc.errors
    response = problem(exc.status, exc.title, exc.detail, exc.slug, **extra)
    if isinstance(exc, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="cairn"'
    if isinstance(exc, ServiceUnavailable):
        response.headers["Retry-After"] = "5"
    return response


def http_error_response(exc: HTTPException) -> Response:
    """The problem response for an HTTP error Flask raised (404, 405, 413, …)."""
    status = exc.code or 500
    slug = (exc.name or "error").lower().replace(" ", "-")
    response = problem(status, exc.name or "Error", exc.description or "", slug)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _from_unexpected(exc: Exception) -> Response:
    log.error("unhandled error", exc_info=exc)
    return problem(
        500,
        "Internal Server Error",
        "The server failed to handle the request; the request id identifies it in the logs.",
        "internal",
    )


def _from_dependency_error(exc: Exception) -> Response:
    log.warning("dependency unavailable", extra={"error": type(exc).__name__})
    # Detail stays generic over HTTP: the driver's text names hosts and sockets.
    return error_response(ServiceUnavailable("a backing service is unavailable; retry later"))


def init_app(app: Flask) -> None:
    app.register_error_handler(CairnError, error_response)
    for dependency_error in DEPENDENCY_ERRORS:
        app.register_error_handler(dependency_error, _from_dependency_error)
    app.register_error_handler(HTTPException, http_error_response)
    app.register_error_handler(Exception, _from_unexpected)
