"""Projects: the list (with their size), create, rename, delete with typed confirmation."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from cairn.errors import CairnError
from cairn.http.tenant import runtime
from cairn.tenancy import service as tenancy
from cairn_admin import bp
from cairn_admin.security import signed_in
from cairn_admin.views.manage_common import Errors, form_errors


def _errors(exc: CairnError) -> Errors:
    return form_errors(exc, ("slug", "name", "confirm"))


@bp.get("/")
@signed_in
def projects() -> str:
    rt = runtime()
    with rt.db.owner() as conn:
        found = tenancy.list_projects(conn)
        sizes = tenancy.footprints(conn)
    return render_template("projects/index.html", projects=found, sizes=sizes,
                           form={}, errors={})  # fmt: skip


@bp.post("/projects")
@signed_in
def create_project() -> Response | tuple[str, int]:
    rt = runtime()
    form = {"slug": request.form.get("slug", "").strip(), "name": request.form.get("name", "")}
    try:
        with rt.db.owner() as conn:
            project = tenancy.create_project(
                conn, slug=form["slug"], name=form["name"].strip() or None,
                app_role=rt.settings.db_app_role,
            )  # fmt: skip
    except CairnError as exc:
        with rt.db.owner() as conn:
            found, sizes = tenancy.list_projects(conn), tenancy.footprints(conn)
        page = render_template("projects/index.html", projects=found, sizes=sizes,
                               form=form, errors=_errors(exc))  # fmt: skip
        return page, exc.status
    flash(f"Project {project.slug} created.", "success")
    return redirect(url_for("admin.project_overview", slug=project.slug))  # type: ignore[return-value]


@bp.route("/p/<slug>/settings", methods=["GET", "POST"])
@signed_in
def project_settings(slug: str) -> Response | str | tuple[str, int]:
    rt = runtime()
    with rt.db.owner() as conn:
        project = tenancy.get_project(conn, slug)
    if request.method == "GET":
        return render_template("projects/settings.html", project=project, errors={})
    try:
        with rt.db.owner() as conn:
            project = tenancy.rename_project(conn, slug, request.form.get("name", ""))
    except CairnError as exc:
        page = render_template("projects/settings.html", project=project, errors=_errors(exc))
        return page, exc.status
    rt.projects.forget(slug)
    flash("Project renamed.", "success")
    return redirect(url_for("admin.project_settings", slug=slug))  # type: ignore[return-value]


@bp.post("/p/<slug>/delete")
@signed_in
def delete_project(slug: str) -> Response | tuple[str, int]:
    rt = runtime()
    if request.form.get("confirm", "") != slug:
        with rt.db.owner() as conn:
            project = tenancy.get_project(conn, slug)
        errors = {"confirm": [f"type {slug} to confirm"]}
        return render_template("projects/settings.html", project=project, errors=errors), 422
    with rt.db.owner() as conn:
        tenancy.delete_project(conn, slug)
    rt.projects.forget(slug)
    flash(f"Project {slug} and all its data were deleted.", "success")
    return redirect(url_for("admin.projects"))  # type: ignore[return-value]
