"""Where the generator's OpenAPI document comes from: this instance's database, or a
running server's `GET /api/v1/projects/{p}/openapi.json`.

Locally the document is built exactly as the API serves it (the same builder, from the
same registered definitions), then passed through JSON so that both sources give the
generator the same plain values.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import Connection

from cairn.errors import BadRequest, CairnError, NotFound, ServiceUnavailable, Unauthorized
from cairn.openapi.document import build_document
from cairn.records import collection as collections
from cairn.schema import service as schema_service
from cairn.tenancy.service import Project

TIMEOUT = 30.0


def project_document(conn: Connection, project: Project) -> dict[str, Any]:
    """The OpenAPI document of `project`, as `GET …/openapi.json` would answer it."""
    registered = schema_service.registered(conn, project)
    built = [collections.build(project, r.definition, r.version) for r in registered.values()]
    document = build_document(project, built)
    loaded: dict[str, Any] = json.loads(json.dumps(document, default=str))
    return loaded


def document_url(base_url: str, project: str) -> str:
    return f"{base_url.rstrip('/')}/api/v1/projects/{quote(project, safe='')}/openapi.json"


def fetch_document(
    base_url: str,
    project: str,
    api_key: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = TIMEOUT,
) -> dict[str, Any]:
    """The OpenAPI document of `project` on the server at `base_url` (any valid key of the
    project may read it)."""
    url = document_url(base_url, project)
    if not url.startswith(("http://", "https://")):
        raise BadRequest(f"--url {base_url!r}: an http:// or https:// URL is needed")
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    try:
        with httpx.Client(transport=transport, timeout=timeout) as http:
            response = http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"cannot read {url}: {exc or type(exc).__name__}") from None
    if response.status_code in (401, 403):
        raise Unauthorized(f"{url} answered {response.status_code}: {_detail(response)}")
    if response.status_code == 404:
        raise NotFound(f"{url} answered 404: {_detail(response)}")
    if response.status_code != 200:
        raise _Failed(f"{url} answered {response.status_code}: {_detail(response)}")
    try:
        document = response.json()
    except ValueError:
        raise _Failed(f"{url} did not answer JSON") from None
    if not isinstance(document, dict):
        raise _Failed(f"{url} did not answer a JSON object")
    return document


class _Failed(CairnError):
    status = 502
    title = "Bad Gateway"
    slug = "bad-gateway"


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and body.get("detail"):
        return str(body["detail"])[:200]
    return response.reason_phrase
