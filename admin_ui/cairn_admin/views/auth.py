"""Sign-in (email, password, and the TOTP code when the admin has one) and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, g, make_response, redirect, render_template, request, url_for

from cairn.admins import service as admins
from cairn.http.tenant import runtime
from cairn_admin import bp
from cairn_admin.security import SESSION_COOKIE, signed_in


def _safe_next(target: str | None) -> str:
    """Only a path of this UI: never another site (an open redirect)."""
    if target and target.startswith("/admin") and not urlsplit(target).netloc:
        return target
    return url_for("admin.projects")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | str:
    if g.admin is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))  # type: ignore[return-value]
    if request.method == "GET":
        return render_template("sign_in.html", email="", ask_code=False, error=None)
    email = request.form.get("email", "")
    rt = runtime()
    with rt.db.owner() as conn:
        attempt = admins.sign_in(
            conn,
            rt.admin_crypto,
            email=email,
            password=request.form.get("password", ""),
            totp_code=request.form.get("code") or None,
            ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent"),
        )
    if attempt.session is None:
        assert attempt.error is not None
        page = render_template(
            "sign_in.html",
            email=email,
            ask_code=attempt.totp_required or bool(request.form.get("code")),
            error=attempt.error.detail,
        )
        return make_response(page, 401 if not attempt.totp_required else 200)
    response = redirect(_safe_next(request.args.get("next")))
    response.set_cookie(
        SESSION_COOKIE,
        attempt.session.token,  # a browser-session cookie: the server enforces the expiry
        path="/admin",
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    return response  # type: ignore[return-value]


@bp.post("/sign-out")
@signed_in
def sign_out() -> Response:
    rt = runtime()
    with rt.db.owner() as conn:
        admins.sign_out(conn, rt.admin_crypto, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(url_for("admin.sign_in"))
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response  # type: ignore[return-value]
