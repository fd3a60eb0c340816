"""The admin web UI: server-rendered pages for platform admins, mounted at /admin.

Views are thin callers of the same services as the API and the CLI. Every asset is served by
Cairn itself (no CDN, no external fonts); pages carry a strict CSP without inline scripts.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import NotFound

from cairn.errors import CairnError
from cairn.http import problems
from cairn_admin import nav, security

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
csrf = CSRFProtect()


def init_app(app: Flask, secret_key: str) -> None:
    """Register the UI on `app`. Forms are CSRF-checked here only (the JSON API uses bearer
    tokens and its own cookie CSRF check)."""
    security.configure(app, secret_key)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.register_blueprint(bp)
    # A URL under /admin that matches no page gets a page too, not the API's problem JSON.
    app.register_error_handler(NotFound, _not_found)


def _not_found(exc: NotFound) -> Response | tuple[str, int]:
    if request.path == "/admin" or request.path.startswith("/admin/"):
        return render_template("error.html", title="Not Found", detail=_NO_PAGE), 404
    return problems.http_error_response(exc)


_NO_PAGE = "There is no page at this address. Use the sidebar, or go back to the projects."


@bp.app_context_processor
def _sections() -> dict[str, object]:
    return {"project_sections": nav.project_sections}


def _error_page(exc: CairnError) -> tuple[str, int]:
    """Errors in the UI are pages, not problem documents."""
    return render_template("error.html", title=exc.title, detail=exc.detail), exc.status


bp.before_request(security.before_request)
bp.after_request(security.harden)
bp.register_error_handler(CairnError, _error_page)

from cairn_admin.views import (  # noqa: E402, F401 - the views register on bp
    auth,
    collections,
    manage_jobs,
    manage_keys,
    manage_logs,
    manage_providers,
    manage_schedules,
    manage_users,
    manage_webhooks,
    overview,
    projects,
    records,
)
