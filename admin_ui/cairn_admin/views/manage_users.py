"""A project's end users: search, create, disable or enable, force logout, delete."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import flash, redirect, render_template, request, url_for

from cairn.errors import BadRequest, CairnError
from cairn.users import service as users
from cairn_admin import bp
from cairn_admin.security import in_project, signed_in
from cairn_admin.views.manage_common import (
    PAGE_SIZE,
    Errors,
    checked,
    cursor_uuid,
    form_errors,
    next_cursor,
    text,
)

SECTION = "admin.users"
_NEW_USER_FIELDS = ("email", "password", "verified")


def _users_page(slug: str, form: dict[str, Any], errors: Errors, status: int = 200) -> Any:
    search = request.args.get("search", "").strip()
    found: list[users.User] = []
    more = False
    after = cursor_uuid("users")
    with in_project(slug) as (_, project, conn, _principal):
        try:
            found, more = users.list_users(
                conn, project.id, search=search or None, limit=PAGE_SIZE, after=after
            )
        except BadRequest as exc:
            errors = {**errors, "search": [exc.detail]}
    following = next_cursor("users", str(found[-1].id) if more else None)
    page = render_template(
        "manage/users.html", project=project, users=found, search=search,
        next_cursor=following, paged=bool(request.args.get("cursor")), form=form, errors=errors,
    )  # fmt: skip
    return page, status


@bp.get("/p/<slug>/users", endpoint="users")
@signed_in
def users_list(slug: str) -> Any:
    return _users_page(slug, {}, {})


@bp.post("/p/<slug>/users")
@signed_in
def create_user(slug: str) -> Any:
    form = {"email": text("email"), "verified": checked("verified")}
    password = request.form.get("password", "")
    try:
        with in_project(slug) as (rt, project, conn, principal):
            user = users.create_user(
                conn, rt.user_auth, project, email=form["email"], password=password or None,
                profile={}, actor=principal.actor, verified=bool(form["verified"]),
            )  # fmt: skip
    except CairnError as exc:
        return _users_page(slug, form, form_errors(exc, _NEW_USER_FIELDS), exc.status)
    flash(f"User {user.email} created.", "success")
    return redirect(url_for("admin.user", slug=slug, user_id=user.id))


def _user_page(slug: str, user_id: UUID, errors: Errors, status: int = 200) -> Any:
    with in_project(slug) as (_, project, conn, _principal):
        user = users.get_user(conn, project.id, user_id)
    page = render_template(
        "manage/user.html", project=project, user=user, errors=errors, section=SECTION
    )
    return page, status


@bp.get("/p/<slug>/users/<uuid:user_id>")
@signed_in
def user(slug: str, user_id: UUID) -> Any:
    return _user_page(slug, user_id, {})


@bp.post("/p/<slug>/users/<uuid:user_id>/disabled")
@signed_in
def set_user_disabled(slug: str, user_id: UUID) -> Any:
    """`disabled` = 1 disables the account (and ends its sessions), 0 enables it again."""
    disable = request.form.get("disabled") == "1"
    with in_project(slug) as (rt, project, conn, principal):
        changed = users.admin_update(
            conn, rt.user_auth, project, principal, user_id, {"disabled": disable}
        )
    if disable:
        flash(f"{changed.email} is disabled and signed out everywhere.", "success")
    else:
        flash(f"{changed.email} can sign in again.", "success")
    return redirect(url_for("admin.user", slug=slug, user_id=user_id))


@bp.post("/p/<slug>/users/<uuid:user_id>/logout")
@signed_in
def user_logout(slug: str, user_id: UUID) -> Any:
    with in_project(slug) as (_, project, conn, principal):
        ended = users.force_logout(conn, project.id, principal, user_id)
    flash(f"Ended {ended} session{'' if ended == 1 else 's'}.", "success")
    return redirect(url_for("admin.user", slug=slug, user_id=user_id))


@bp.post("/p/<slug>/users/<uuid:user_id>/delete")
@signed_in
def delete_user(slug: str, user_id: UUID) -> Any:
    with in_project(slug) as (_, project, conn, principal):
        email = users.get_user(conn, project.id, user_id).email
        if request.form.get("confirm", "").strip().lower() != email.lower():
            confirm_error = True
        else:
            confirm_error = False
            users.delete_user(conn, project.id, principal, user_id)
    if confirm_error:
        return _user_page(slug, user_id, {"confirm": [f"type {email} to confirm"]}, 422)
    flash(f"User {email} deleted.", "success")
    return redirect(url_for("admin.users", slug=slug))
