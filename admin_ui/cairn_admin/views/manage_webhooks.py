"""A project's webhooks: list, add (a signing secret Cairn makes is shown once), edit,
delete; each webhook's delivery log, newest first, with its attempts and redelivery."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import flash, redirect, render_template, request, url_for

from cairn.errors import CairnError, Invalid
from cairn.webhooks import delivery, service
from cairn_admin import bp
from cairn_admin.security import in_project, signed_in
from cairn_admin.views.manage_common import (
    Errors,
    checked,
    cursor_uuid,
    form_errors,
    next_cursor,
    text,
)

SECTION = "admin.webhooks"
DELIVERIES_PAGE = 25
_FIELDS = ("name", "url", "events", "collections", "enabled", "secret")


def _posted() -> tuple[dict[str, Any], dict[str, Any]]:
    """The form as typed (to show it again) and as the service takes it."""
    form: dict[str, Any] = {
        "name": text("name"),
        "url": text("url"),
        "events": request.form.getlist("events"),
        "collections": text("collections"),
        "enabled": checked("enabled"),
    }
    raw = {**form, "collections": form["collections"].replace(",", " ").split()}
    if text("secret"):
        raw["secret"] = text("secret")
    return form, raw


def _form_of(webhook: service.Webhook) -> dict[str, Any]:
    return {
        "name": webhook.name,
        "url": webhook.url,
        "events": list(webhook.events),
        "collections": " ".join(webhook.collections),
        "enabled": webhook.enabled,
    }


def _webhooks_page(slug: str, form: dict[str, Any], errors: Errors, status: int = 200) -> Any:
    with in_project(slug) as (_, project, conn, _principal):
        found = service.list_webhooks(conn, project.id)
    page = render_template(
        "manage/webhooks.html", project=project, webhooks=found, event_types=service.EVENT_TYPES,
        form=form, errors=errors,
    )  # fmt: skip
    return page, status


@bp.get("/p/<slug>/webhooks", endpoint="webhooks")
@signed_in
def webhooks_list(slug: str) -> Any:
    return _webhooks_page(slug, {"events": list(service.EVENT_TYPES), "enabled": True}, {})


@bp.post("/p/<slug>/webhooks")
@signed_in
def create_webhook(slug: str) -> Any:
    form, raw = _posted()
    try:
        definition = service.load_webhook(raw)
        with in_project(slug) as (rt, project, conn, principal):
            webhook, secret = service.save_webhook(
                conn, rt.webhook_box, project.id, definition, actor=principal.actor,
                allow_private=rt.settings.webhook_allow_private,
            )  # fmt: skip
    except CairnError as exc:
        return _webhooks_page(slug, form, form_errors(exc, _FIELDS), exc.status)
    if secret is None:  # the admin gave the secret: nothing to show
        flash(f"Webhook {webhook.name} added.", "success")
        return redirect(url_for("admin.webhook", slug=slug, webhook_id=webhook.id))
    page = render_template(
        "manage/webhook_created.html", project=project, webhook=webhook, secret=secret,
        section=SECTION,
    )  # fmt: skip
    return page, 201


def _webhook_page(
    slug: str,
    webhook_id: UUID,
    form: dict[str, Any] | None,
    errors: Errors,
    status: int = 200,
    log_error: str = "",
) -> Any:
    before = cursor_uuid("deliveries")
    with in_project(slug) as (_, project, conn, _principal):
        webhook = service.get_webhook(conn, project.id, webhook_id)
        rows, more = delivery.list_deliveries(
            conn, project.id, webhook_id, limit=DELIVERIES_PAGE, before=before
        )
    page = render_template(
        "manage/webhook.html", project=project, webhook=webhook, deliveries=rows,
        next_cursor=next_cursor("deliveries", str(rows[-1]["id"]) if more else None),
        paged=before is not None, event_types=service.EVENT_TYPES,
        form=form or _form_of(webhook), errors=errors, log_error=log_error, section=SECTION,
    )  # fmt: skip
    return page, status


@bp.get("/p/<slug>/webhooks/<uuid:webhook_id>")
@signed_in
def webhook(slug: str, webhook_id: UUID) -> Any:
    return _webhook_page(slug, webhook_id, None, {})


@bp.post("/p/<slug>/webhooks/<uuid:webhook_id>")
@signed_in
def update_webhook(slug: str, webhook_id: UUID) -> Any:
    form, raw = _posted()
    try:
        with in_project(slug) as (rt, project, conn, principal):
            saved = service.update_webhook(
                conn, rt.webhook_box, project.id, webhook_id, raw, actor=principal.actor,
                allow_private=rt.settings.webhook_allow_private,
            )  # fmt: skip
    except CairnError as exc:
        if exc.status == 404:
            raise
        return _webhook_page(slug, webhook_id, form, form_errors(exc, _FIELDS), exc.status)
    flash(f"Webhook {saved.name} saved.", "success")
    return redirect(url_for("admin.webhook", slug=slug, webhook_id=webhook_id))


@bp.post("/p/<slug>/webhooks/<uuid:webhook_id>/delete")
@signed_in
def delete_webhook(slug: str, webhook_id: UUID) -> Any:
    with in_project(slug) as (_, project, conn, principal):
        name = service.delete_webhook(conn, project.id, webhook_id, actor=principal.actor)
    flash(f"Webhook {name} deleted, with its delivery log.", "success")
    return redirect(url_for("admin.webhooks", slug=slug))


@bp.post("/p/<slug>/webhooks/<uuid:webhook_id>/deliveries/<uuid:delivery_id>/redeliver")
@signed_in
def redeliver(slug: str, webhook_id: UUID, delivery_id: UUID) -> Any:
    try:
        with in_project(slug) as (_, project, conn, _principal):
            delivery.redeliver(conn, project.id, webhook_id, delivery_id)
    except Invalid as exc:  # still pending: it is being retried already
        message = "; ".join(m for msgs in exc.errors.values() for m in msgs)
        return _webhook_page(slug, webhook_id, None, {}, exc.status, log_error=message)
    flash("Delivery queued again, with a fresh series of attempts.", "success")
    return redirect(url_for("admin.webhook", slug=slug, webhook_id=webhook_id) + "#deliveries")
