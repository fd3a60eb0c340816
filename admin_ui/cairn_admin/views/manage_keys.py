"""A project's API keys: list, create (the secret shown once), revoke, rotate.

A new secret is rendered straight into the response of the POST that made it (never put in
the session or a flash message, never shown again); the UI's responses are `no-store`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import flash, redirect, render_template, request, url_for

from cairn.auth import keys
from cairn.auth.models import API_KEY_SCOPES
from cairn.auth.schemas import CreateKeyIn
from cairn.errors import CairnError, Invalid
from cairn.tenancy.service import Project
from cairn.validation import load
from cairn_admin import bp
from cairn_admin.security import in_project, signed_in
from cairn_admin.views.manage_common import (
    PAGE_SIZE,
    Errors,
    cursor_uuid,
    form_errors,
    next_cursor,
    text,
)

SECTION = "admin.keys"
_FIELDS = ("name", "scope", "expires_in")
SCOPE_HELP = {
    "read": "read records; rules apply",
    "write": "read and write records; rules apply",
    "service": "bypasses collection rules",
    "admin": "everything, schema and keys too",
}


def _keys_page(
    slug: str, form: dict[str, Any], errors: Errors, status: int = 200, list_error: str = ""
) -> Any:
    include_revoked = request.args.get("all") == "1"
    with in_project(slug) as (_, project, conn, _principal):
        found, more = keys.list_keys(
            conn, project.id, include_revoked=include_revoked, limit=PAGE_SIZE,
            after=cursor_uuid("keys"),
        )  # fmt: skip
    page = render_template(
        "manage/keys.html", project=project, keys=found, include_revoked=include_revoked,
        next_cursor=next_cursor("keys", str(found[-1].id) if more else None),
        paged=bool(request.args.get("cursor")), scopes=API_KEY_SCOPES, scope_help=SCOPE_HELP,
        form=form, errors=errors, list_error=list_error,
    )  # fmt: skip
    return page, status


@bp.get("/p/<slug>/keys", endpoint="keys")
@signed_in
def keys_list(slug: str) -> Any:
    return _keys_page(slug, {"scope": "read"}, {})


def _issued_page(project: Project, issued: keys.IssuedKey, verb: str) -> Any:
    page = render_template(
        "manage/key_issued.html", project=project, key=issued.key, secret=issued.secret,
        verb=verb, section=SECTION,
    )  # fmt: skip
    return page, 201


@bp.post("/p/<slug>/keys")
@signed_in
def create_key(slug: str) -> Any:
    form = {"name": text("name"), "scope": text("scope"), "expires_in": text("expires_in")}
    try:
        data = load(CreateKeyIn(), {k: v for k, v in form.items() if v})
        with in_project(slug) as (rt, project, conn, principal):
            issued = keys.create_key(conn, rt.key_pepper, principal, **data)
    except CairnError as exc:
        return _keys_page(slug, form, form_errors(exc, _FIELDS), exc.status)
    return _issued_page(project, issued, "created")


@bp.post("/p/<slug>/keys/<uuid:key_id>/revoke")
@signed_in
def revoke_key(slug: str, key_id: UUID) -> Any:
    with in_project(slug) as (_, _project, conn, principal):
        key = keys.revoke_key(conn, principal, key_id)
    flash(f"Key “{key.name}” ({key.prefix}…) is revoked: it no longer works.", "success")
    return redirect(url_for("admin.keys", slug=slug))


@bp.post("/p/<slug>/keys/<uuid:key_id>/rotate")
@signed_in
def rotate_key(slug: str, key_id: UUID) -> Any:
    try:
        with in_project(slug) as (rt, project, conn, principal):
            issued = keys.rotate_key(conn, rt.key_pepper, principal, key_id)
    except Invalid as exc:  # not active (revoked or expired): say so above the list
        return _keys_page(slug, {"scope": "read"}, {}, exc.status, list_error=exc.detail)
    return _issued_page(project, issued, "rotated")
