"""The mailed flows: verify an address, reset a password, change the address.

Requests that name an email answer the same whether or not an account holds it (the caller
answers 202 either way); only the mail tells. Mailed links point at the project's app when
`auth.links` says where, else at this API's confirm endpoint.
"""

from __future__ import annotations

from urllib.parse import quote
from uuid import UUID

from sqlalchemy import Connection

from cairn.audit import service as audit
from cairn.auth.principal import Principal
from cairn.errors import Conflict, Invalid
from cairn.mail import service as mail
from cairn.tenancy.service import Project
from cairn.users import service as users
from cairn.users import tokens
from cairn.users.service import User, UserAuth

_CONFIRM_PATHS = {
    "verify_email": "verify-email/confirm",
    "password_reset": "password-reset/confirm",
    "email_change": "email-change/confirm",
}


def link(project: Project, flow: str, token: str, base_url: str) -> str:
    """Where the mail sends the user: the project's page for `flow`, or the API's endpoint."""
    template = users.auth_settings(project).links.get(flow)
    if template:
        return template.replace("{token}", quote(token))
    path = f"api/v1/projects/{project.slug}/auth/{_CONFIRM_PATHS[flow]}"
    return f"{base_url.rstrip('/')}/{path}?token={quote(token)}"


def _send(
    conn: Connection,
    kit: UserAuth,
    project: Project,
    user_id: UUID,
    to: str,
    flow: str,
    base_url: str,
    new_email: str | None = None,
) -> None:
    token = tokens.issue(conn, kit.token_pepper, project.id, user_id, flow, new_email=new_email)
    mail.send_template(
        conn,
        project.id,
        to=to,
        template=flow,
        smtp_configured=kit.smtp_configured,
        project_name=project.name,
        link=link(project, flow, token, base_url),
        expires_in=tokens.LIFETIMES[flow],
    )


def send_verification(
    conn: Connection, kit: UserAuth, project: Project, user: User, base_url: str
) -> None:
    _send(conn, kit, project, user.id, user.email, "verify_email", base_url)


def request_verification(
    conn: Connection, kit: UserAuth, project: Project, email: object, base_url: str
) -> None:
    """Mail a verification link if an unverified, enabled account holds `email`."""
    user = users.find_user(conn, project.id, users.check_email(email))
    if user is not None and not user.verified and not user.disabled:
        send_verification(conn, kit, project, user, base_url)


def confirm_verification(conn: Connection, kit: UserAuth, project: Project, token: object) -> User:
    redeemed = tokens.redeem(conn, kit.token_pepper, project.id, "verify_email", token)
    user = users.mark_verified(conn, project.id, redeemed.user_id)
    audit.record(conn, project.id, f"user:{user.id}", "user.verified", str(user.id))
    return user


def request_password_reset(
    conn: Connection, kit: UserAuth, project: Project, email: object, base_url: str
) -> None:
    """Mail a reset link if an enabled account holds `email`."""
    user = users.find_user(conn, project.id, users.check_email(email))
    if user is not None and not user.disabled:
        _send(conn, kit, project, user.id, user.email, "password_reset", base_url)


def confirm_password_reset(
    conn: Connection, kit: UserAuth, project: Project, token: object, password: object
) -> User:
    """Set the new password and end every session. Following the link proved the address."""
    redeemed = tokens.redeem(conn, kit.token_pepper, project.id, "password_reset", token)
    user = users.set_password(
        conn, kit, project, redeemed.user_id, password, field="password", verified=True
    )
    audit.record(conn, project.id, f"user:{user.id}", "user.password_reset", str(user.id))
    return user


def request_email_change(
    conn: Connection,
    kit: UserAuth,
    project: Project,
    principal: Principal,
    new_email: object,
    base_url: str,
) -> None:
    """Mail a confirmation link to the new address; the account keeps the old one until the
    link is followed."""
    assert principal.user_id is not None
    address = users.check_email(new_email, "new_email")
    if address.lower() == principal.email.lower():
        raise Invalid(errors={"new_email": ["is the address the account already has"]})
    if users.find_user(conn, project.id, address) is not None:
        raise Conflict(
            "an account with this email already exists", errors={"new_email": ["is taken"]}
        )
    _send(conn, kit, project, principal.user_id, address, "email_change", base_url, address)


def confirm_email_change(conn: Connection, kit: UserAuth, project: Project, token: object) -> User:
    redeemed = tokens.redeem(conn, kit.token_pepper, project.id, "email_change", token)
    assert redeemed.new_email is not None
    before = users.get_user(conn, project.id, redeemed.user_id)
    user = users.change_email(conn, project.id, redeemed.user_id, redeemed.new_email)
    audit.record(conn, project.id, f"user:{user.id}", "user.email_changed", str(user.id),
                 {"from": before.email, "to": user.email})  # fmt: skip
    return user
