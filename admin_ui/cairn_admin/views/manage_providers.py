"""A project's OAuth / OpenID Connect providers: list, add, edit, delete. The client secret
is write-only: a form never shows it, and an empty secret field keeps the stored one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import flash, redirect, render_template, url_for

from cairn.errors import CairnError
from cairn.tenancy.service import Project
from cairn.users import providers
from cairn_admin import bp
from cairn_admin.security import in_project, signed_in
from cairn_admin.views.manage_common import Errors, form_errors, text

SECTION = "admin.providers"
_FIELDS = ("name", "preset", "discovery_url", "client_id", "client_secret", "scopes")
PRESET_LABELS = {"google": "Google", "github": "GitHub"}


def kind_label(provider: providers.Provider) -> str:
    preset = provider.definition.preset
    return PRESET_LABELS.get(preset, preset) if preset else "OpenID Connect"


def callback_url(project: Project, name: str) -> str:
    """What to register at the provider as the redirect URL (as the API shows it)."""
    return url_for("oauth.callback", project=project.slug, provider=name, _external=True)


def _posted() -> tuple[dict[str, str], dict[str, Any]]:
    """The form as typed (to show it again) and as the service takes it (empty = absent)."""
    form = {name: text(name) for name in _FIELDS if name != "client_secret"}
    raw: dict[str, Any] = {k: v for k, v in form.items() if v}
    if "scopes" in raw:
        raw["scopes"] = raw["scopes"].replace(",", " ").split()
    secret = text("client_secret")
    if secret:
        raw["client_secret"] = secret
    return form, raw


def _form_of(provider: providers.Provider) -> dict[str, str]:
    definition = provider.definition
    return {
        "name": provider.name,
        "preset": definition.preset or "",
        "discovery_url": definition.discovery_url or "",
        "client_id": definition.client_id,
        "scopes": " ".join(definition.scopes),
    }


def _providers_page(slug: str, form: dict[str, str], errors: Errors, status: int = 200) -> Any:
    with in_project(slug) as (_, project, conn, _principal):
        found = providers.list_providers(conn, project.id)
    page = render_template(
        "manage/providers.html", project=project, providers=found, presets=providers.PRESETS,
        preset_labels=PRESET_LABELS, kind_label=kind_label, form=form, errors=errors,
    )  # fmt: skip
    return page, status


@bp.get("/p/<slug>/providers", endpoint="providers")
@signed_in
def providers_list(slug: str) -> Any:
    return _providers_page(slug, {}, {})


@bp.post("/p/<slug>/providers")
@signed_in
def create_provider(slug: str) -> Any:
    form, raw = _posted()
    try:
        wanted = providers.load_provider(raw)
        with in_project(slug) as (rt, project, conn, principal):
            saved = providers.save_provider(
                conn, rt.provider_box, project.id, wanted, actor=principal.actor
            )
    except CairnError as exc:
        return _providers_page(slug, form, form_errors(exc, _FIELDS), exc.status)
    flash(f"Provider {saved.name} added. Register its callback URL at the provider.", "success")
    return redirect(url_for("admin.provider", slug=slug, provider_id=saved.id))


def _provider_page(
    slug: str, provider_id: UUID, form: dict[str, str] | None, errors: Errors, status: int = 200
) -> Any:
    with in_project(slug) as (_, project, conn, _principal):
        provider = providers.get_provider(conn, project.id, provider_id)
    page = render_template(
        "manage/provider.html", project=project, provider=provider, presets=providers.PRESETS,
        preset_labels=PRESET_LABELS, kind_label=kind_label,
        callback_url=callback_url(project, provider.name), form=form or _form_of(provider),
        errors=errors, section=SECTION,
    )  # fmt: skip
    return page, status


@bp.get("/p/<slug>/providers/<uuid:provider_id>")
@signed_in
def provider(slug: str, provider_id: UUID) -> Any:
    return _provider_page(slug, provider_id, None, {})


@bp.post("/p/<slug>/providers/<uuid:provider_id>")
@signed_in
def update_provider(slug: str, provider_id: UUID) -> Any:
    form, raw = _posted()
    try:
        wanted = providers.load_provider(raw)
        with in_project(slug) as (rt, project, conn, principal):
            saved = providers.save_provider(
                conn, rt.provider_box, project.id, wanted, actor=principal.actor,
                provider_id=provider_id,
            )  # fmt: skip
    except CairnError as exc:
        if exc.status == 404:
            raise
        return _provider_page(slug, provider_id, form, form_errors(exc, _FIELDS), exc.status)
    flash(f"Provider {saved.name} saved.", "success")
    return redirect(url_for("admin.provider", slug=slug, provider_id=provider_id))


@bp.post("/p/<slug>/providers/<uuid:provider_id>/delete")
@signed_in
def delete_provider(slug: str, provider_id: UUID) -> Any:
    with in_project(slug) as (_, project, conn, principal):
        name = providers.delete_provider(conn, project.id, provider_id, actor=principal.actor)
    flash(f"Provider {name} deleted; users who signed in with it keep their accounts.", "success")
    return redirect(url_for("admin.providers", slug=slug))
